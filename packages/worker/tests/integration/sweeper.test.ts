import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import {
  LogzipError,
  type Manifest,
  type ObjectStore,
  type Route,
  type StateStore,
  type SweepOptions,
  sweep,
} from '@logzip/core';
import {
  type BullmqProducer,
  createBullmqProducer,
  createRedis,
  createRedisRouteStore,
  readSweepSnapshot,
} from '@logzip/core/bullmq';
import { createStorage } from '@logzip/core/runtime';
import { recordAttempt } from '@logzip/core/state';
import { buildZip, describeWithRedis, type TempDir, tempDir, uniquePrefix } from '@logzip/test-utils';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { readWorkerConfig, SWEEP_QUEUE_NAME, SWEEP_SCHEDULER_ID, startWorker } from '../../src/index.js';
import { captureLogger, waitFor, workerEnv } from '../helpers/harness.js';

const HOUR = 3_600_000;
const GRACE = 15 * 60_000;

describeWithRedis('the sweeper', () => {
  let dir: TempDir;
  let store: ObjectStore;
  let state: StateStore;
  let redis: Redis;
  let producer: BullmqProducer;
  let routeKey: string;
  let prefix: string;
  let options: Omit<SweepOptions, 'dryRun'>;
  const captured = captureLogger();

  async function archive(key: string, ageMs: number, files = [{ name: 'a.log', data: key }]): Promise<void> {
    await store.put('logs', key, await buildZip(files));
    const when = new Date(Date.now() - ageMs);
    await utimes(join(dir.path, 'logs', key), when, when);
  }

  async function markExtracted(logId: string, key: string): Promise<void> {
    const info = (await store.head('logs', key))!;
    const now = new Date().toISOString();
    const manifest: Manifest = {
      version: 1,
      logId,
      source: { bucket: 'logs', key, etag: info.etag, size: info.size },
      output: { bucket: 'logs', prefix: 'extracted/' },
      entries: [],
      bytes: 0,
      startedAt: now,
      finishedAt: now,
      durationMs: 0,
    };
    await state.putManifest(manifest);
  }

  async function markFailed(logId: string, key: string): Promise<void> {
    await state.putFailure(
      recordAttempt(undefined, {
        logId,
        source: { bucket: 'logs', key },
        route: 'lambda',
        error: new LogzipError('corrupt', 'bad archive'),
        attempt: 1,
        maxAttempts: 3,
        at: new Date(),
      }),
    );
  }

  /**
   * old-new: 2 h old, never extracted            -> unprocessed, past the grace period
   * fresh:   1 min old, never extracted          -> unprocessed, within the grace period
   * done:    extracted (manifest names its ETag) -> skipped
   * broken:  `failed` record newer than upload   -> skipped
   * reup:    manifest of an older upload (other ETag) -> unprocessed, past grace
   * multi:   two archives, the newer unextracted, the older extracted -> newer unprocessed
   * plus a key without a log ID and a non-zip object.
   */
  async function arrange(): Promise<void> {
    await archive('incoming/ab/cd/old.zip', 2 * HOUR);
    await archive('incoming/ab/ce/fresh.zip', 60_000);
    await archive('incoming/01/02/done.zip', 3 * HOUR);
    await markExtracted('done', 'incoming/01/02/done.zip');
    await archive('incoming/03/04/broken.zip', 3 * HOUR);
    await markFailed('broken', 'incoming/03/04/broken.zip');
    await archive('incoming/05/06/reup.zip', 5 * HOUR, [{ name: 'a.log', data: 'first upload' }]);
    await markExtracted('reup', 'incoming/05/06/reup.zip');
    await archive('incoming/05/06/reup.zip', 1 * HOUR, [{ name: 'a.log', data: 'second upload' }]);
    await archive('incoming/multi-2026-01-01.zip', 4 * HOUR);
    await markExtracted('multi', 'incoming/multi-2026-01-01.zip');
    await archive('incoming/multi-2026-02-01.zip', 2 * HOUR);
    await archive('incoming/no log id here!.zip', 2 * HOUR);
    await store.put('logs', 'incoming/readme.txt', Buffer.from('not an archive'));
  }

  async function setRoute(route: Route | undefined): Promise<void> {
    if (route === undefined) await redis.del(routeKey);
    else await createRedisRouteStore(redis, routeKey).set(route);
  }

  beforeEach(async () => {
    dir = await tempDir('sweeper');
    const config = readWorkerConfig(workerEnv({ LOGZIP_STORAGE_DIR: dir.path })).config!;
    ({ store, state } = createStorage(config));
    redis = createRedis(config.redisUrl);
    prefix = uniquePrefix('sweep');
    routeKey = `${prefix}:route`;
    producer = createBullmqProducer({ connection: redis, prefix });
    options = {
      store,
      incoming: { bucket: 'logs', prefix: 'incoming/' },
      state,
      producer,
      routes: createRedisRouteStore(redis, routeKey),
      logIdPattern: config.logIdPattern,
      graceMs: GRACE,
      logger: captured.logger,
      publish: async (snapshot) => {
        await redis.set(`logzip:sweep:last:${prefix}`, JSON.stringify(snapshot));
      },
    };
    captured.lines.length = 0;
    await arrange();
  });

  afterEach(async () => {
    await producer.queue.obliterate({ force: true }).catch(() => {});
    await producer.close();
    await redis.del(routeKey, `logzip:sweep:last:${prefix}`);
    redis.disconnect();
    await dir.cleanup();
  });

  function outcomes(results: Array<{ logId: string; outcome: string }>): Record<string, string> {
    return Object.fromEntries(results.map((r) => [r.logId, r.outcome]));
  }

  it('enqueues every unprocessed archive at once under the queue route', async () => {
    // Prepare
    await setRoute('queue');

    // Act
    const { results, summary } = await sweep(options);

    // Assess
    expect(outcomes(results)).toEqual({
      old: 'enqueued',
      fresh: 'enqueued',
      reup: 'enqueued',
      multi: 'enqueued',
    });
    expect(results.find((r) => r.logId === 'multi')).toMatchObject({ key: 'incoming/multi-2026-02-01.zip' });
    expect(summary).toMatchObject({
      route: 'queue',
      dryRun: false,
      scanned: 9,
      archives: 6,
      extracted: 1,
      failed: 1,
      superseded: 1,
      invalidKeys: 1,
      ignored: 1,
      unprocessed: 4,
      enqueued: 4,
      backlog: { count: 4 },
    });
    expect(summary.backlog.oldestAgeSeconds).toBeGreaterThanOrEqual(2 * 3600 - 5);
    const waiting = await producer.queue.getJobs(['waiting']);
    expect(waiting.map((j) => j.data.logId).sort()).toEqual(['fresh', 'multi', 'old', 'reup']);
    expect(waiting.every((j) => j.data.reason === 'sweep')).toBe(true);
    expect(captured.lines.some((l) => l['level'] === 40 && String(l['msg']).includes('trigger'))).toBe(false);
  });

  it('leaves archives within the grace period to the trigger under the lambda route, and warns', async () => {
    // Prepare
    await setRoute('lambda');

    // Act
    const { results, summary } = await sweep(options);

    // Assess
    expect(outcomes(results)).toEqual({
      old: 'enqueued',
      fresh: 'waiting_for_trigger',
      reup: 'enqueued',
      multi: 'enqueued',
    });
    expect(summary).toMatchObject({
      route: 'lambda',
      enqueued: 3,
      waitingForTrigger: 1,
      backlog: { count: 4 },
    });
    const warning = captured.lines.find((l) => l['level'] === 40 && String(l['msg']).includes('S3 trigger'));
    expect(warning).toMatchObject({ route: 'lambda', overdue: 3 });
    expect((await readSweepSnapshot(redis, prefix))?.backlog.count).toBe(4);
  });

  it('treats an unknown route like lambda', async () => {
    // Prepare
    await setRoute(undefined);

    // Act
    const { results, summary } = await sweep(options);

    // Assess
    expect(summary.route).toBe('unknown');
    expect(outcomes(results)['fresh']).toBe('waiting_for_trigger');
    expect(summary.enqueued).toBe(3);
  });

  it('changes nothing in a dry run and reports what it would do', async () => {
    // Prepare
    await setRoute('queue');
    await producer.enqueue({ logId: 'old', bucket: 'logs', key: 'incoming/ab/cd/old.zip', reason: 'upload' });

    // Act
    const { results, summary } = await sweep({ ...options, dryRun: true });

    // Assess
    expect(outcomes(results)).toEqual({
      old: 'already_queued',
      fresh: 'would_enqueue',
      reup: 'would_enqueue',
      multi: 'would_enqueue',
    });
    expect(summary).toMatchObject({ dryRun: true, enqueued: 0, wouldEnqueue: 3, alreadyQueued: 1 });
    expect(await producer.queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
    expect(await readSweepSnapshot(redis, prefix)).toBeUndefined();
  });

  it('reports already_queued for archives whose job is pending', async () => {
    // Prepare
    await setRoute('queue');
    await sweep(options);

    // Act
    const { summary } = await sweep(options);

    // Assess
    expect(summary).toMatchObject({ enqueued: 0, alreadyQueued: 4 });
  });
});

describeWithRedis('the scheduled sweep', () => {
  it('runs at start through the job scheduler and exports the backlog as metrics', async () => {
    // Prepare
    const dir = await tempDir('sweep-scheduled');
    const config = readWorkerConfig(
      workerEnv({ LOGZIP_STORAGE_DIR: dir.path, LOGZIP_SWEEP_INTERVAL: '1h', LOGZIP_SWEEP_GRACE: '1m' }),
    ).config!;
    const { store, state } = createStorage(config);
    await store.put('logs', 'incoming/ab/cd/9001.zip', await buildZip([{ name: 'late.log', data: 'late' }]));
    const old = new Date(Date.now() - HOUR);
    await utimes(join(dir.path, 'logs/incoming/ab/cd/9001.zip'), old, old);
    const captured = captureLogger();
    const redis = createRedis(config.redisUrl);
    const producer = createBullmqProducer({ connection: redis, prefix: config.worker.queuePrefix });
    const sweepQueue = new Queue(SWEEP_QUEUE_NAME, { connection: redis, prefix: config.worker.queuePrefix });

    // Act
    const running = await startWorker({ config, logger: captured.logger, store, state });
    try {
      await waitFor(async () => (await state.getManifest('9001')) !== undefined, 'swept archive extracted');
      await waitFor(
        async () => (await readSweepSnapshot(redis, config.worker.queuePrefix)) !== undefined,
        'snapshot',
      );
      const metrics = await (await fetch(`http://127.0.0.1:${running.port}/metrics`)).text();

      // Assess
      const job = await producer.queue.getJob('log-9001');
      expect(job?.data).toMatchObject({ logId: '9001', reason: 'sweep', key: 'incoming/ab/cd/9001.zip' });
      expect(metrics).toMatch(/logzip_sweep_backlog_archives 1/);
      expect(metrics).toMatch(/logzip_sweep_runs_total\{outcome="ok"} 1/);
      expect(metrics).toMatch(/logzip_sweep_backlog_oldest_age_seconds (3[5-9]\d\d|36\d\d)/);
      const schedulers = await sweepQueue.getJobSchedulers();
      expect(schedulers).toEqual([expect.objectContaining({ key: SWEEP_SCHEDULER_ID, every: 3_600_000 })]);
    } finally {
      await running.close();
      await producer.queue.obliterate({ force: true }).catch(() => {});
      await sweepQueue.obliterate({ force: true }).catch(() => {});
      await sweepQueue.close();
      await producer.close();
      await redis.del(`logzip:sweep:last:${config.worker.queuePrefix}`);
      redis.disconnect();
      await dir.cleanup();
    }
  });
});
