import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildZip, describeWithRedis } from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { chromiumAvailable, launchChromium } from '../helpers/chromium.js';
import { createHarness, type Harness, NOT_A_ZIP, TOKEN } from '../helpers/harness.js';

const ARTIFACTS = fileURLToPath(new URL('../../../../test-artifacts/admin-ui/', import.meta.url));
const hasChromium = chromiumAvailable();

/** An entry that reads `report-exe.pdf` on screen while it is an .exe (U+202E RIGHT-TO-LEFT OVERRIDE). */
const DISGUISED = 'report-\u202Efdp.exe';

describeWithRedis('admin UI hardening (issue 17) in headless Chromium', () => {
  let h: Harness;
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    if (!hasChromium) return;
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
    // A permanent failure: the upload is not a ZIP at all.
    await h.upload('incoming/ab/cd/88002.zip', NOT_A_ZIP);
    expect((await h.extract('88002', 'incoming/ab/cd/88002.zip')).ok).toBe(false);
    app = await buildApp({ ctx: h.ctx, adminToken: TOKEN, redis: h.redis, logger: false });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await h?.close();
  });

  async function signedInPage(width = 1280): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    await page.goto(`${base}/login`);
    await page.fill('input[name="operator"]', 'alice');
    await page.fill('input[name="token"]', TOKEN);
    await Promise.all([page.waitForURL(`${base}/`), page.click('button[type="submit"]')]);
    return page;
  }

  const auditLength = async () => (await h.ctx.audit.list({ limit: 1000 })).length;

  it.runIf(hasChromium)(
    'regression: a bidi override in an entry name shows as [U+202E], not reversed',
    async () => {
      // Prepare
      const page = await signedInPage();

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

  it.runIf(hasChromium)(
    'regression: reloading the page after a re-enqueue or a purge does not do it again',
    async () => {
      // Prepare
      const page = await signedInPage();
      await page.goto(`${base}/archives/77001`);
      const before = await auditLength();

      // Act: re-enqueue, reload twice; then purge, reload
      await Promise.all([page.waitForURL(/\/ui\/results\//), page.click('#reenqueue-one')]);
      const afterAction = await auditLength();
      await page.reload();
      await page.reload();
      const afterReloads = await auditLength();
      const shown = (await page.textContent('main')) ?? '';
      await page.goto(`${base}/archives/77001`);
      await page.click('text=Purge…');
      await page.fill('input[name="confirm"]', '77001');
      await Promise.all([
        page.waitForURL(/\/ui\/results\//),
        page.click('form[action="/ui/purge"] button[type="submit"]'),
      ]);
      const afterPurge = await auditLength();
      await page.reload();
      const afterPurgeReload = await auditLength();

      // Assess
      expect(afterAction).toBe(before + 1);
      expect(afterReloads).toBe(afterAction);
      expect(shown).toContain('Re-enqueue');
      expect(afterPurge).toBeGreaterThan(afterReloads);
      expect(afterPurgeReload).toBe(afterPurge);
      await page.close();
    },
  );

  it.runIf(hasChromium)(
    'a permanent failure says so and what to do; its re-enqueue asks for a confirmation first',
    async () => {
      // Prepare
      const page = await signedInPage();
      await page.goto(`${base}/failures`);
      const row = page.locator('tr[data-log-id="88002"]');
      const rowText = (await row.textContent()) ?? '';
      const before = await auditLength();

      // Act
      await row.locator('button[name="only"]').click();
      await page.waitForSelector('#confirm-permanent');
      const asked = await auditLength();
      await page.screenshot({ path: `${ARTIFACTS}confirm-permanent.png`, fullPage: true });
      await Promise.all([page.waitForURL(/\/ui\/results\//), page.click('#confirm-permanent')]);
      const confirmed = await auditLength();
      await page.goto(`${base}/archives/88002`);
      const archiveText = (await page.textContent('#failure')) ?? '';

      // Assess
      expect(rowText).toContain('not_zip');
      expect(rowText).toContain('permanent');
      expect(rowText).toContain('ask the uploader');
      expect(asked).toBe(before);
      expect(confirmed).toBe(before + 1);
      expect(archiveText).toContain('permanent');
      expect(archiveText).toContain('what to do');
      await page.close();
    },
  );
});
