import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FailureRecord, LogzipError, silentLogger } from '@logzip/core';
import { type OperationsWorker, startOperationsWorker } from '@logzip/core/bullmq';
import type { Operation } from '@logzip/core/operations';
import { fingerprintFailure, recordAttempt, reindex } from '@logzip/core/state';
import { claimEmptyDatabase, describeWithRedis, requireRedis } from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { readAdminConfig } from '../../src/config.js';
import { type AdminContext, createAdminContext } from '../../src/context.js';
import { controlOperation, createOperation } from '../../src/operations/bulk-operations.js';
import { chromiumAvailable, launchChromium } from '../helpers/chromium.js';
import { TOKEN } from '../helpers/harness.js';

const ARTIFACTS = fileURLToPath(new URL('../../../../test-artifacts/admin-ui/', import.meta.url));
const hasChromium = chromiumAvailable();
const GROUP_SIZE = 60;

/** A failed record of one cause: the same code and stack at every log ID. */
function failure(
  logId: string,
  code: 'storage_unavailable' | 'not_zip' = 'storage_unavailable',
): FailureRecord {
  const error = new LogzipError(code, `S3 GetObject failed for ${logId}`);
  error.stack = `LogzipError: S3 GetObject failed\n    at getObject (/srv/app/${code}.js:12:3)\n    at extract (/srv/app/engine.js:40:9)`;
  return recordAttempt(undefined, {
    logId,
    source: { bucket: 'logs', key: `incoming/${logId}.zip` },
    route: 'queue',
    error,
    attempt: 3,
    maxAttempts: 3,
    at: new Date(),
  });
}

describeWithRedis(
  'admin UI: failure groups, a group retry and its live progress (issue 14) in Chromium',
  () => {
    let database: { url: string; release(): Promise<void> };
    let dir: string;
    let ctx: AdminContext;
    let app: FastifyInstance;
    let base: string;
    let browser: Browser;
    let fingerprint: string;

    beforeAll(async () => {
      if (!hasChromium) return;
      mkdirSync(ARTIFACTS, { recursive: true });
      database = await claimEmptyDatabase(requireRedis());
      dir = await mkdtemp(join(tmpdir(), 'logzip-ui-groups-'));
      const config = readAdminConfig({
        LOGZIP_STORAGE_DIR: dir,
        LOGZIP_INCOMING_BUCKET: 'logs',
        REDIS_URL: database.url,
        LOGZIP_ADMIN_TOKEN: TOKEN,
      });
      if (config.config === undefined) throw new Error(config.errors.join('\n'));
      ctx = await createAdminContext(config.config, { logger: silentLogger });
      // The (empty) index is built once, as `logzip reindex` does, so the record views answer.
      await reindex({
        store: ctx.store,
        bucket: 'logs',
        prefix: config.config.statePrefix,
        index: ctx.index,
      });
      for (let i = 0; i < GROUP_SIZE; i++)
        await ctx.state.putFailure(failure(`g${String(i).padStart(3, '0')}`));
      for (let i = 0; i < 3; i++) await ctx.state.putFailure(failure(`bad${i}`, 'not_zip'));
      fingerprint = fingerprintFailure(failure('g000')).fingerprint;
      app = await buildApp({ ctx, adminToken: TOKEN, redis: ctx.redis, logger: false });
      base = await app.listen({ host: '127.0.0.1', port: 0 });
      browser = await launchChromium();
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await app?.close();
      await ctx?.close();
      await database?.release();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    async function signedInPage(width = 1280): Promise<Page> {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      await page.goto(`${base}/login`);
      await page.fill('input[name="operator"]', 'alice');
      await page.fill('input[name="token"]', TOKEN);
      await Promise.all([page.waitForURL(`${base}/`), page.click('button[type="submit"]')]);
      return page;
    }

    /** Reloads until the operation's counts say `check` (the page reloads itself too). */
    async function untilOperation(page: Page, check: (text: string) => boolean): Promise<string> {
      for (let i = 0; i < 200; i++) {
        const text = (await page.textContent('#operation').catch(() => '')) ?? '';
        if (check(text)) return text;
        await page.waitForTimeout(100);
        if (i % 10 === 9) await page.reload();
      }
      throw new Error(`the operation page never matched: ${await page.textContent('#operation')}`);
    }

    it.runIf(hasChromium)(
      'regression: every page fits a 390 px phone (no horizontal page overflow, navigation wraps), and the header searches log IDs by prefix',
      async () => {
        // Prepare: an operation to show, and a phone-sized page
        const actor = { operator: 'alice', channel: 'cli' } as const;
        const answer = await createOperation(
          ctx,
          { kind: 'reenqueue', logIds: ['bad0', 'bad1'], reason: 'phone test', ratePerSecond: 1 },
          actor,
        );
        const operationId = 'operation' in answer ? answer.operation.id : '';
        const page = await signedInPage(390);
        const pages: Array<[string, string]> = [
          ['dashboard', '/'],
          ['route-form', '/ui/route?to=queue'],
          ['failure-groups', '/failures'],
          ['failure-records', '/failures?view=records&state=all'],
          ['failure-group', `/failures/groups/${fingerprint}`],
          ['archives', '/archives'],
          ['archive', '/archives/g000'],
          ['audit', '/audit'],
          ['operation', `/ui/operations/${encodeURIComponent(operationId)}`],
        ];
        try {
          // Act
          const widths: Record<string, { scroll: number; viewport: number }> = {};
          for (const [name, path] of pages) {
            const response = await page.goto(`${base}${path}`);
            expect(response?.status(), path).toBe(200);
            widths[name] = await page.evaluate<{ scroll: number; viewport: number }>(
              '({ scroll: document.documentElement.scrollWidth, viewport: window.innerWidth })',
            );
            await page.screenshot({ path: `${ARTIFACTS}390-${name}.png`, fullPage: true });
          }
          await page.fill('#logid-search', 'bad');
          await Promise.all([page.waitForURL(/logId=bad/), page.press('#logid-search', 'Enter')]);
          const found = await page
            .locator('table.failures tbody tr')
            .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-log-id')));
          await page.screenshot({ path: `${ARTIFACTS}390-search.png`, fullPage: true });
          const navRight = await page.evaluate<number>(
            "document.querySelector('header.top nav')?.getBoundingClientRect().right ?? 0",
          );

          // Assess
          for (const [name, { scroll, viewport }] of Object.entries(widths)) {
            expect(viewport, name).toBe(390);
            expect(scroll, `${name} overflows the page`).toBeLessThanOrEqual(viewport);
          }
          expect(navRight).toBeLessThanOrEqual(390);
          expect(found.sort()).toEqual(['bad0', 'bad1', 'bad2']);
        } finally {
          await page.close();
          if (operationId !== '') await controlOperation(ctx, operationId, 'abort', actor).catch(() => {});
        }
      },
      60_000,
    );

    it.runIf(hasChromium)(
      'shows groups by default; a group pages its log IDs; a log ID opens its whole record; "retry these N" dry-runs, starts an operation and shows its progress with pause, resume and abort',
      async () => {
        // Prepare
        const page = await signedInPage();
        let worker: OperationsWorker | undefined;
        try {
          // Act + Assess: groups by default
          await page.click('header nav >> text=Failures');
          expect(await page.textContent('#group-total')).toContain('2 group(s)');
          const row = page.locator(`tr[data-fingerprint="${fingerprint}"]`);
          expect(await row.locator('td').first().textContent()).toBe(String(GROUP_SIZE));
          await page.screenshot({ path: `${ARTIFACTS}10-failure-groups.png`, fullPage: true });

          // One group: its log IDs a page at a time
          await row.locator('td').first().locator('a').click();
          await page.waitForSelector('#group-members');
          expect(await page.textContent('#group-count')).toBe(String(GROUP_SIZE));
          expect(await page.locator('#group-members tbody tr').count()).toBe(50);
          await page.screenshot({ path: `${ARTIFACTS}11-failure-group.png`, fullPage: true });
          await page.click('#next-page');
          await page.waitForURL(/cursor=/);
          expect(await page.locator('#group-members tbody tr').count()).toBe(GROUP_SIZE - 50);

          // One log ID: the whole record, every attempt and the stack
          await page.locator('#group-members tbody tr a').first().click();
          await page.waitForSelector('#failure');
          expect(await page.textContent('#stack')).toContain('at getObject (/srv/app/storage_unavailable.js');
          expect(await page.textContent('#failure')).toContain('storage_unavailable');
          await page.goBack();
          await page.goto(`${base}/failures/groups/${fingerprint}`);

          // Retry these N: the dry-run count first, then a stored operation (post/redirect/get)
          await page.click('#retry-group');
          expect(await page.textContent('#dry-run-count')).toBe(String(GROUP_SIZE));
          await page.screenshot({ path: `${ARTIFACTS}12-group-retry-dry-run.png`, fullPage: true });
          const before = (await ctx.operations!.store.list(10)).length;
          await page.fill('input[name="reason"]', 'S3 outage over, incident 9');
          await page.fill('input[name="rate"]', '5');
          await page.click('#confirm-retry');
          await page.waitForURL(/\/ui\/operations\/[^/]+$/);
          const id = decodeURIComponent(page.url().split('/').at(-1) ?? '');
          expect(await page.textContent('#op-state')).toContain('running');
          expect(await page.textContent('#op-left')).toBe(String(GROUP_SIZE));
          await page.reload();
          expect(await ctx.operations!.store.list(10)).toHaveLength(before + 1);

          // Pause and resume before any worker runs it; then a worker moves it along.
          await page.click('#op-pause');
          await page.waitForSelector('#op-resume');
          expect(await page.textContent('#op-state')).toContain('paused');
          await page.click('#op-resume');
          await page.waitForSelector('#op-pause');
          worker = startOperationsWorker({
            redis: ctx.redis.duplicate({ maxRetriesPerRequest: null }),
            prefix: 'bull',
            logger: silentLogger,
            operations: ctx.operations!.store,
            store: ctx.store,
            state: ctx.state,
            producer: ctx.producer,
            incoming: ctx.settings.incoming,
            output: ctx.settings.output,
            logIdPattern: ctx.settings.logIdPattern,
          });
          await untilOperation(page, (text) => !/\bleft\s*60\b/.test(text.replace(/\s+/g, ' ')));
          const moving = (await ctx.operations!.store.get(id)) as Operation;
          expect(moving.left).toBeLessThan(GROUP_SIZE);
          expect(await page.textContent('#op-rate')).toMatch(/\/s$/);
          await page.screenshot({ path: `${ARTIFACTS}13-operation-progress.png`, fullPage: true });
          await page.click('#op-abort');
          await page.waitForSelector('#op-state');
          await untilOperation(page, () => true);
          const ended = (await ctx.operations!.store.get(id)) as Operation;
          expect(['aborted', 'finished']).toContain(ended.state);
          expect(await page.textContent('#op-state')).toContain(ended.state);
          await page.screenshot({ path: `${ARTIFACTS}14-operation-ended.png`, fullPage: true });

          // Every step is in the audit log with its operator and reason.
          const actions = (await ctx.audit.list({ limit: 50 })).map((e) => [e.action, e.operator]);
          expect(actions).toEqual(
            expect.arrayContaining([
              ['operation.reenqueue', 'alice'],
              ['operation.pause', 'alice'],
              ['operation.resume', 'alice'],
            ]),
          );
          const created = (await ctx.audit.list({ limit: 50 })).find(
            (e) => e.action === 'operation.reenqueue',
          );
          expect(created?.details).toMatchObject({ reason: 'S3 outage over, incident 9', count: GROUP_SIZE });
        } finally {
          await worker?.close();
          await page.close();
        }
      },
      90_000,
    );
  },
);
