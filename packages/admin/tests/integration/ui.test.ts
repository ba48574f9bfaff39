import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
} from '@aws-sdk/client-s3';
import { motoEnabled, requireRedis } from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { chromiumAvailable, launchChromium } from '../helpers/chromium.js';
import { createHarness, goodArchive, type Harness, NOT_A_ZIP, TOKEN } from '../helpers/harness.js';
import { startTestWorker } from '../helpers/worker.js';

const ARTIFACTS = fileURLToPath(new URL('../../../../test-artifacts/admin-ui/', import.meta.url));
const hasChromium = chromiumAvailable();

describe.runIf(hasChromium && motoEnabled())(
  'admin UI in headless Chromium (moto S3 + Lambda, real Redis, a worker)',
  () => {
    let h: Harness;
    let app: FastifyInstance;
    let base: string;
    let browser: Browser;
    let page: Page;
    let worker: { close(): Promise<void> };

    beforeAll(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      h = await createHarness({ storage: 's3', trigger: 'aws' });
      // An upload that failed (not a ZIP: recorded with its stack), then fixed in place by the client.
      await h.upload('incoming/ab/cd/54321-2026-11-28.zip', NOT_A_ZIP);
      expect((await h.extract('54321', 'incoming/ab/cd/54321-2026-11-28.zip')).ok).toBe(false);
      await h.upload('incoming/ab/cd/54321-2026-11-28.zip', await goodArchive('54321'));
      worker = startTestWorker(h, requireRedis());
      app = await buildApp({
        ctx: h.ctx,
        adminToken: TOKEN,
        redis: h.redis,
        queues: [h.producer.queue],
        logger: false,
      });
      base = await app.listen({ host: '127.0.0.1', port: 0 });
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await worker?.close();
      await app?.close();
      await h?.close();
    });

    const shot = (name: string) => page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });

    async function switchRoute(to: 'lambda' | 'queue', reason: string): Promise<void> {
      await page.goto(`${base}/`);
      await page.click('#switch-route');
      await page.waitForURL(/\/ui\/route/);
      await page.selectOption('select[name="route"]', to);
      await page.fill('input[name="reason"]', reason);
      await page.click('text=Review switch…');
      await page.waitForSelector('#confirm-switch');
      await shot(`03-confirm-${to}`);
      await page.click('#confirm-switch');
      await page.waitForURL(`${base}/`);
    }

    it('logs in, switches the route with a reason, shows drift, opens a failure, re-enqueues it and sees it succeed', async () => {
      // Act + Assess: log in (every page before that sends the browser to the login form)
      await page.goto(`${base}/failures`);
      expect(page.url()).toContain('/login?next=%2Ffailures');
      await shot('01-login');
      await page.fill('input[name="operator"]', 'alice');
      await page.fill('input[name="token"]', TOKEN);
      await page.click('button[type="submit"]:has-text("Sign in")');
      await page.waitForURL(`${base}/failures`);
      await page.goto(`${base}/`);
      expect(await page.textContent('header .who')).toContain('alice');
      // Nobody set the route yet: the admin says so instead of guessing.
      expect(await page.textContent('#drift-banner')).toContain('route flag is not set');
      await shot('02-dashboard-unknown-route');

      // Switch to lambda (the post-deploy step), with a reason and a confirmation.
      await switchRoute('lambda', 'post-deploy: enable the S3 trigger');
      expect(await page.textContent('.banner.success')).toContain(
        'switched the route from unknown to lambda',
      );
      expect(await page.textContent('#desired-route')).toBe('lambda');
      expect(await page.textContent('#actual-route')).toBe('lambda');
      expect(await page.$('#drift-banner')).toBeNull();
      await shot('04-dashboard-lambda');

      // Someone rewrites the bucket's notifications behind the admin's back (an IaC deploy).
      const current = await h.s3!.send(new GetBucketNotificationConfigurationCommand({ Bucket: h.bucket }));
      await h.s3!.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: h.bucket,
          NotificationConfiguration: {
            QueueConfigurations: current.QueueConfigurations ?? [],
            TopicConfigurations: current.TopicConfigurations ?? [],
          },
        }),
      );
      await page.reload();
      const drift = await page.textContent('#drift-banner');
      expect(drift).toContain('Drift');
      expect(drift).toContain('the route says lambda but the S3 trigger is missing');
      expect(await page.textContent('#actual-route')).toBe('queue');
      await shot('05-dashboard-drift');

      // The operator moves to the queue route while the trigger is investigated.
      await switchRoute('queue', 'trigger vanished after deploy, incident 77');
      expect(await page.$('#drift-banner')).toBeNull();
      expect(await page.textContent('#desired-route')).toBe('queue');

      // Open the failure with its stack trace.
      await page.click('header nav >> text=Failures');
      const row = page.locator('tr[data-log-id="54321"]');
      await expect(row.locator('td').nth(2).textContent()).resolves.toContain('not_zip');
      await row.locator('summary:has-text("stack trace")').click();
      const stack = await row.locator('details.stack pre').textContent();
      expect(stack).toMatch(/not_zip|LogzipError/);
      expect(stack).toMatch(/\n\s+at /);
      await shot('06-failures-stack');

      // Re-enqueue it and see it succeed. not_zip is permanent: the page asks first (here the
      // client has uploaded a good archive in its place, so re-enqueueing is right).
      await row.locator('button:has-text("Re-enqueue")').click();
      await page.waitForSelector('#confirm-permanent');
      await shot('07-confirm-permanent');
      await page.click('#confirm-permanent');
      await page.waitForSelector('#results');
      expect(await page.textContent('#results')).toContain('enqueued');
      expect(await page.textContent('#summary')).toContain('1 enqueued');
      await shot('07-reenqueue-result');
      await page.click('#results a:has-text("54321")');
      let state = '';
      for (let i = 0; i < 100 && !state.includes('extracted'); i++) {
        await page.waitForTimeout(150);
        await page.reload();
        state = (await page.textContent('#archive-state')) ?? '';
      }
      expect(state).toContain('extracted');
      expect(await page.textContent('#failure')).toContain('resolved');
      expect(await page.textContent('#manifest')).toContain('logs/system.log');
      await shot('08-archive-extracted');

      // Every action is in the audit log with its operator.
      await page.click('header nav >> text=Audit log');
      const audit = await page.textContent('#audit');
      expect(audit).toContain('route.switch');
      expect(audit).toContain('incident 77');
      expect(audit).toContain('reenqueue');
      expect(audit).toContain('login');
      await shot('09-audit');
      const entries = await h.ctx.audit.list();
      expect(new Set(entries.map((e) => e.operator))).toEqual(new Set(['alice']));
      expect(entries.map((e) => e.action)).toEqual(['reenqueue', 'route.switch', 'route.switch', 'login']);
    }, 90_000);
  },
);
