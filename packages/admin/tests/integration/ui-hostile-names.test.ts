import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildZip, describeWithRedis, isCI } from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createHarness, type Harness, TOKEN } from '../helpers/harness.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../../test-artifacts/admin-ui/', import.meta.url));
if (!existsSync(CHROMIUM) && isCI()) {
  throw new Error(`${CHROMIUM} is missing and CI=true: install it with apt-get install -y chromium`);
}

/** An entry that reads `report-exe.pdf` on screen while it is an .exe (U+202E RIGHT-TO-LEFT OVERRIDE). */
const DISGUISED = 'report-\u202Efdp.exe';

describeWithRedis(
  'regression (issue 17): a bidi override in an entry name displayed reversed (Chromium)',
  () => {
    let h: Harness;
    let app: FastifyInstance;
    let base: string;
    let browser: Browser;

    beforeAll(async () => {
      if (!existsSync(CHROMIUM)) return;
      mkdirSync(ARTIFACTS, { recursive: true });
      h = await createHarness({ storage: 'fs', trigger: 'local' });
      await h.upload(
        'incoming/ab/cd/77001.zip',
        await buildZip([
          { name: DISGUISED, data: 'MZ not really\n' },
          { name: 'app.log', data: 'ok\n' },
        ]),
      );
      expect((await h.extract('77001', 'incoming/ab/cd/77001.zip')).ok).toBe(true);
      app = await buildApp({ ctx: h.ctx, adminToken: TOKEN, redis: h.redis, logger: false });
      base = await app.listen({ host: '127.0.0.1', port: 0 });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--no-first-run',
          '--disable-background-networking',
        ],
      });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await app?.close();
      await h?.close();
    });

    it.runIf(existsSync(CHROMIUM))(
      'the archive page shows the override as [U+202E], not as reversed text',
      async () => {
        // Prepare
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        await page.goto(`${base}/login`);
        await page.fill('input[name="operator"]', 'alice');
        await page.fill('input[name="token"]', TOKEN);
        await Promise.all([page.waitForURL(`${base}/`), page.click('button[type="submit"]')]);

        // Act
        await page.goto(`${base}/archives/77001`);
        const text = (await page.textContent('main')) ?? '';
        await page.screenshot({ path: `${ARTIFACTS}hostile-entry-name.png`, fullPage: true });

        // Assess
        expect(text).toContain('report-[U+202E]fdp.exe');
        expect(text).not.toContain('\u202E');
        await page.close();
      },
    );
  },
);
