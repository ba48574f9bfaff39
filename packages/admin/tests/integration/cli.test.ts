import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createStateStore,
  DEFAULT_LIMITS,
  extractAndRecord,
  type ObjectStore,
  type StateStore,
} from '@logzip/core';
import { createFsObjectStore } from '@logzip/core/fs';
import { findExecutable, isCI } from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { readAdminConfig } from '../../src/config.js';
import { type AdminContext, createAdminContext } from '../../src/context.js';
import type { BulkResult } from '../../src/operations/bulk.js';
import type { RouteStatus, SwitchRouteResult } from '../../src/operations/route.js';
import type { ArchiveStatus } from '../../src/operations/status.js';
import { runCli, startPrivateRedis } from '../helpers/cli.js';
import { goodArchive, NOT_A_ZIP, TOKEN } from '../helpers/harness.js';
import { eventually, startTestWorker } from '../helpers/worker.js';

// Under CI=true a missing redis-server fails (startPrivateRedis throws); elsewhere the suite is skipped.
const hasRedisServer = isCI() || (await findExecutable('redis-server')) !== undefined;

describe.runIf(hasRedisServer)('logzip CLI (folder storage, a private redis-server)', () => {
  let redis: { url: string; stop(): Promise<void> } | undefined;

  beforeAll(async () => {
    redis = await startPrivateRedis();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  let dir: string;
  let env: Record<string, string | undefined>;
  let store: ObjectStore;
  let state: StateStore;
  let client: Redis;
  const bucket = 'logs';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'logzip-cli-'));
    env = {
      LOGZIP_STORAGE_DIR: dir,
      LOGZIP_INCOMING_BUCKET: bucket,
      REDIS_URL: redis!.url,
      LOGZIP_OPERATOR: 'dana',
      LOGZIP_SWEEP_GRACE: '0s',
    };
    store = createFsObjectStore({ rootDir: dir });
    state = createStateStore({ store, bucket, prefix: 'logzip-state/' });
    client = new Redis(redis!.url);
    await client.flushall();
  });

  afterEach(async () => {
    client.disconnect();
    await rm(dir, { recursive: true, force: true });
  });

  async function upload(key: string, body: Buffer): Promise<void> {
    await store.put(bucket, key, body, { size: body.length });
  }

  async function failedThenFixed(logId: string, key: string): Promise<void> {
    await upload(key, NOT_A_ZIP);
    const outcome = await extractAndRecord(
      { source: store, output: store, state },
      {
        logId,
        source: { bucket, key },
        output: { bucket, prefix: 'extracted/' },
        limits: DEFAULT_LIMITS,
        fallbackEncoding: 'cp932',
      },
      { route: 'lambda', attempt: 3, maxAttempts: 3, requestId: 'req-1' },
    );
    expect(outcome.ok).toBe(false);
    await upload(key, await goodArchive(logId));
  }

  it('route shows the desired and actual route, and switches with an audited reason', async () => {
    // Act
    const shown = await runCli(['route', '--json'], { env });
    const switched = await runCli(['route', 'queue', '--reason', 'incident 5', '--json'], { env });
    const text = await runCli(['route'], { env });

    // Assess
    expect(shown.code).toBe(0);
    expect(shown.json<RouteStatus>()).toMatchObject({
      desired: null,
      effective: 'queue',
      drift: { detected: true },
    });
    expect(switched.code).toBe(0);
    expect(switched.json<SwitchRouteResult>()).toMatchObject({ ok: true, from: null, to: 'queue' });
    expect(text.stdout).toContain('desired queue, actual queue');
    expect(await client.get('logzip:route')).toBe('queue');
    const audit = JSON.parse((await client.lindex('logzip:audit', 0))!);
    expect(audit).toMatchObject({
      operator: 'dana',
      action: 'route.switch',
      outcome: 'ok',
      details: { channel: 'cli', to: 'queue', reason: 'incident 5' },
    });
    expect((await state.listAudit()).map((e) => e.operator)).toEqual(['dana']);
  });

  it('reenqueue reads IDs from stdin, runs the failed one again, and reports unknown IDs with exit 2', async () => {
    // Prepare
    await failedThenFixed('54321', 'incoming/ab/cd/54321.zip');
    const worker = startTestWorker({ store, state, bucket, queuePrefix: 'bull' }, redis!.url);

    // Act
    const run = await runCli(['reenqueue', '--file', '-', '--json'], {
      env,
      stdin: '54321\n# a comment\nno_such_id\n',
    });
    const status = await eventually(async () => {
      const answer = await runCli(['status', '54321', '--json'], { env });
      const body = answer.json<ArchiveStatus>();
      return body.extracted && body.failure?.state === 'resolved' ? answer : undefined;
    });
    await worker.close();

    // Assess
    expect(run.code).toBe(2);
    expect(run.json<BulkResult>()).toEqual({
      results: [
        { logId: '54321', outcome: 'enqueued', detail: expect.stringContaining('incoming/ab/cd/54321.zip') },
        { logId: 'no_such_id', outcome: 'not_found', detail: 'no archive for this log ID' },
      ],
      summary: { total: 2, dryRun: false, outcomes: { enqueued: 1, not_found: 1 }, notHandled: 1, failed: 0 },
    });
    expect(status.code).toBe(0);
    expect(status.json<ArchiveStatus>().manifest?.entries).toHaveLength(2);
  });

  it('reenqueue prints a per-ID table and a summary line without --json', async () => {
    // Prepare
    await failedThenFixed('777', 'incoming/777.zip');

    // Act
    const run = await runCli(['reenqueue', '777', 'ghost', '--dry-run'], { env });

    // Assess
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/^LOG ID\s+OUTCOME\s+DETAIL$/m);
    expect(run.stdout).toMatch(/^777\s+would_enqueue\s+incoming\/777.zip$/m);
    expect(run.stdout).toMatch(/^ghost\s+not_found/m);
    expect(run.stdout).toContain('1 would_enqueue, 1 not_found (2 log IDs, dry run)');
  });

  it('reenqueue --encoding carries the code page (implying force) and refuses one it cannot read with unknown_encoding', async () => {
    // Prepare
    await failedThenFixed('778', 'incoming/778.zip');

    // Act
    const dryRun = await runCli(['reenqueue', '778', '--encoding', 'cp437', '--dry-run', '--json'], { env });
    const unknown = await runCli(['reenqueue', '778', '--encoding', 'klingon', '--json'], { env });

    // Assess
    expect(dryRun.code).toBe(0);
    expect(dryRun.json<BulkResult>().results).toEqual([
      { logId: '778', outcome: 'would_enqueue', detail: 'incoming/778.zip (force) (encoding cp437)' },
    ]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.json()).toMatchObject({ error: { code: 'unknown_encoding' } });
  });

  it('status and failures show the failure record with its stack; unknown log IDs exit 2', async () => {
    // Prepare
    await upload('incoming/4242.zip', NOT_A_ZIP);
    await extractAndRecord(
      { source: store, output: store, state },
      {
        logId: '4242',
        source: { bucket, key: 'incoming/4242.zip' },
        output: { bucket, prefix: 'extracted/' },
        limits: DEFAULT_LIMITS,
        fallbackEncoding: 'cp932',
      },
      { route: 'queue', attempt: 1, maxAttempts: 1, jobId: 'log-4242' },
    );

    // Act: this Redis never had an index; the views say so until a reindex has run.
    const beforeIndex = await runCli(['failures', '--json'], { env });
    const rebuilt = await runCli(['reindex', '--json'], { env });
    const again = await runCli(['reindex', '--check', '--json'], { env });
    const status = await runCli(['status', '4242'], { env });
    const unknown = await runCli(['status', 'nobody', '--json'], { env });
    const failures = await runCli(['failures', '--code', 'not_zip', '--since', '1h', '--json'], { env });
    const none = await runCli(['failures', '--code', 'corrupt', '--json'], { env });

    // Assess
    expect(beforeIndex.code).toBe(1);
    expect(beforeIndex.json()).toMatchObject({ error: { code: 'index_rebuilding' } });
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.json()).toMatchObject({
      status: 'done',
      counts: { failures: 1, skipped: 0 },
      invalid: [],
    });
    expect(again.json()).toMatchObject({ inStep: true, drift: { checked: 1, missing: 0 } });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('log ID 4242: failed (not_zip)');
    expect(status.stdout).toMatch(/LogzipError|at /);
    expect(unknown.code).toBe(2);
    expect(unknown.json()).toEqual({ logId: 'nobody', found: false });
    expect(failures.code).toBe(0);
    expect(
      failures.json<{ failures: Array<{ logId: string; code: string }>; total: number }>(),
    ).toMatchObject({
      total: 1,
      failures: [{ logId: '4242', code: 'not_zip', state: 'failed' }],
    });
    expect(none.json()).toEqual({ failures: [], total: 0 });
  });

  it('purge removes one log ID (dry run first); an unknown one exits 2', async () => {
    // Prepare
    await upload('incoming/31.zip', await goodArchive('31'));
    await upload('incoming/311.zip', await goodArchive('311'));
    for (const logId of ['31', '311']) {
      await extractAndRecord(
        { source: store, output: store, state },
        {
          logId,
          source: { bucket, key: `incoming/${logId}.zip` },
          output: { bucket, prefix: 'extracted/' },
          limits: DEFAULT_LIMITS,
          fallbackEncoding: 'cp932',
        },
        { route: 'cli', attempt: 1, maxAttempts: 1 },
      );
    }

    // Act
    const dryRun = await runCli(['purge', '31', '--dry-run', '--json'], { env });
    const manifestAfterDryRun = await state.getManifest('31');
    const real = await runCli(['purge', '31', '--json'], { env });
    const unknown = await runCli(['purge', 'ghost', '--json'], { env });

    // Assess
    expect(dryRun.code).toBe(0);
    expect(dryRun.json<BulkResult>().results[0]?.outcome).toBe('would_purge');
    expect(manifestAfterDryRun).toBeDefined();
    expect(real.code).toBe(0);
    expect(real.json<BulkResult>().results[0]?.outcome).toBe('purged');
    expect(await state.getManifest('31')).toBeUndefined();
    expect(await store.head(bucket, 'incoming/31.zip')).toBeUndefined();
    expect(await state.getManifest('311')).toBeDefined();
    expect(await store.head(bucket, 'incoming/311.zip')).toBeDefined();
    expect(unknown.code).toBe(2);
  });

  it('sweep --dry-run lists the archives nobody extracted', async () => {
    // Prepare
    await runCli(['route', 'queue', '--reason', 'sweep test'], { env });
    await upload('incoming/9001.zip', await goodArchive('9001'));

    // Act
    const run = await runCli(['sweep', '--dry-run', '--json'], { env });

    // Assess
    expect(run.code).toBe(0);
    const report = run.json<{
      results: Array<{ logId: string; outcome: string }>;
      summary: { dryRun: boolean };
    }>();
    expect(report.results).toEqual([expect.objectContaining({ logId: '9001', outcome: 'would_enqueue' })]);
    expect(report.summary.dryRun).toBe(true);
  });

  it('sweep --full reads every archive, reports progress as JSON lines, and takes --rate only with --full', async () => {
    // Prepare
    await runCli(['route', 'queue', '--reason', 'sweep test'], { env });
    await upload('incoming/ab/cd/9002.zip', await goodArchive('9002'));

    // Act
    const run = await runCli(['sweep', '--full', '--dry-run', '--json', '--parallel', '4', '--rate', '0'], {
      env,
    });
    const misplaced = await runCli(['sweep', '--rate', '10'], { env });

    // Assess
    expect(run.code).toBe(0);
    const report = run.json<{
      results: Array<{ logId: string; outcome: string }>;
      summary: { mode: string };
    }>();
    expect(report.summary.mode).toBe('full');
    expect(report.results).toEqual(
      expect.arrayContaining([expect.objectContaining({ logId: '9002', outcome: 'would_enqueue' })]),
    );
    const progress = run.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { progress: { units: number; unitsDone: number } });
    expect(progress.at(-1)?.progress).toMatchObject({ units: 257, unitsDone: 257 });
    expect(misplaced.code).toBe(64);
  });

  it('usage errors exit 64, configuration errors 78, an unreachable Redis 1; --json still prints one JSON value', async () => {
    // Act
    const noTarget = await runCli(['reenqueue', '--json'], { env });
    const badRoute = await runCli(['route', 'ftp'], { env });
    const noReason = await runCli(['route', 'queue', '--json'], { env });
    const blankReason = await runCli(['route', 'queue', '--reason', '  '], { env });
    const badVia = await runCli(['reenqueue', '1', '--via', 'carrier-pigeon'], { env });
    const unknownFlag = await runCli(['purge', '1', '--everything'], { env });
    const codeWithIds = await runCli(['reenqueue', '1', '--code', 'not_zip'], { env });
    const noBucket = await runCli(['failures', '--json'], {
      env: { ...env, LOGZIP_INCOMING_BUCKET: undefined },
    });
    const badToken = await runCli(['route'], {
      env: { ...env, LOGZIP_ADMIN_URL: 'http://127.0.0.1:9', LOGZIP_ADMIN_TOKEN: 'short' },
    });
    const redisDown = await runCli(['route', '--json'], {
      env: { ...env, REDIS_URL: 'redis://127.0.0.1:9' },
    });

    // Assess
    expect(noTarget.code).toBe(64);
    expect(noTarget.json()).toMatchObject({ error: { code: 'invalid_request' } });
    expect(badRoute.code).toBe(64);
    // Regression (issue 17): the CLI switched the route without a reason; the UI always asked one.
    expect(noReason.code).toBe(64);
    expect(noReason.json()).toMatchObject({ error: { code: 'invalid_request' } });
    expect(blankReason.code).toBe(64);
    expect(badVia.code).toBe(64);
    expect(unknownFlag.code).toBe(64);
    expect(codeWithIds.code).toBe(64);
    expect(noBucket.code).toBe(78);
    expect(noBucket.stderr).toContain('LOGZIP_INCOMING_BUCKET: required');
    expect(noBucket.json()).toMatchObject({
      error: { message: expect.stringContaining('LOGZIP_INCOMING_BUCKET') },
    });
    expect(badToken.code).toBe(78);
    expect(redisDown.code).toBe(1);
    expect(redisDown.json()).toMatchObject({ error: { code: 'internal' } });
  }, 20_000);

  describe('through the admin API (LOGZIP_ADMIN_URL)', () => {
    let ctx: AdminContext;
    let app: FastifyInstance;
    let apiEnv: Record<string, string | undefined>;

    beforeEach(async () => {
      const config = readAdminConfig({ ...env, LOGZIP_ADMIN_TOKEN: TOKEN });
      if (config.config === undefined) throw new Error(config.errors.join('\n'));
      const { silentLogger } = await import('@logzip/core');
      ctx = await createAdminContext(config.config, { logger: silentLogger });
      app = await buildApp({ ctx, adminToken: TOKEN, redis: ctx.redis, logger: false });
      const address = await app.listen({ host: '127.0.0.1', port: 0 });
      apiEnv = { LOGZIP_ADMIN_URL: address, LOGZIP_ADMIN_TOKEN: TOKEN, LOGZIP_OPERATOR: 'erin' };
    });

    afterEach(async () => {
      await app.close();
      await ctx.close();
    });

    it('gives the same answers and exit codes, audited under the operator through the API', async () => {
      // Prepare
      await failedThenFixed('6006', 'incoming/6006.zip');
      expect((await runCli(['reindex'], { env })).code).toBe(0);

      // Act
      const route = await runCli(['route', 'queue', '--reason', 'over the API', '--json'], { env: apiEnv });
      const reenqueue = await runCli(['reenqueue', '6006', 'ghost', '--json'], { env: apiEnv });
      const status = await runCli(['status', 'ghost', '--json'], { env: apiEnv });
      const failures = await runCli(['failures', '--json'], { env: apiEnv });
      const wrongToken = await runCli(['route'], { env: { ...apiEnv, LOGZIP_ADMIN_TOKEN: 'w'.repeat(40) } });
      const outside = await runCli(['reenqueue', '--key', 'secrets/6006.zip', '--json'], { env: apiEnv });

      // Assess
      expect(route.code).toBe(0);
      expect(route.json<SwitchRouteResult>()).toMatchObject({ ok: true, to: 'queue' });
      expect(reenqueue.code).toBe(2);
      expect(reenqueue.json<BulkResult>().results.map((r) => [r.logId, r.outcome])).toEqual([
        ['6006', 'enqueued'],
        ['ghost', 'not_found'],
      ]);
      expect(status.code).toBe(2);
      expect(status.json()).toEqual({ logId: 'ghost', found: false });
      expect(failures.json<{ total: number }>().total).toBe(1);
      expect(wrongToken.code).toBe(78);
      expect(outside.code).toBe(64);
      expect(outside.json()).toMatchObject({ error: { code: 'key_outside_prefix' } });
      const audit = await ctx.audit.list({ limit: 10 });
      expect(audit.map((e) => [e.operator, e.action, e.details['channel']])).toEqual([
        ['erin', 'reenqueue', 'api'],
        ['erin', 'route.switch', 'api'],
        ['dana', 'reindex', 'cli'],
      ]);
    });
  });
});
