import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jobIdFor, type ObjectStore, type StateStore } from '@logzip/core';
import { type BullmqProducer, createBullmqProducer, createRedis } from '@logzip/core/bullmq';
import { createStorage } from '@logzip/core/runtime';
import { buildZip, describeWithRedis, type TempDir, tempDir } from '@logzip/test-utils';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type RunningWorker, readWorkerConfig, startWorker, type WorkerConfig } from '../../src/index.js';
import { type CapturedLogger, captureLogger, waitFor, workerEnv } from '../helpers/harness.js';

describeWithRedis('the extraction worker', () => {
  let dir: TempDir;
  let config: WorkerConfig;
  let store: ObjectStore;
  let state: StateStore;
  let redis: Redis;
  let producer: BullmqProducer;
  let running: RunningWorker;
  let captured: CapturedLogger;

  async function putArchive(key: string, body: Buffer): Promise<void> {
    await store.put('logs', key, body);
  }

  async function settled(logId: string): Promise<string | undefined> {
    let state: string | undefined;
    await waitFor(async () => {
      state = await producer.getJobState(logId);
      return state === 'completed' || state === 'failed';
    }, `job of ${logId} finished`);
    return state;
  }

  beforeEach(async () => {
    dir = await tempDir('worker');
    const env = workerEnv({ LOGZIP_STORAGE_DIR: dir.path });
    const result = readWorkerConfig(env);
    if (result.config === undefined) throw new Error(result.errors.join('\n'));
    config = result.config;
    ({ store, state } = createStorage(config));
    captured = captureLogger();
    running = await startWorker({ config, logger: captured.logger, store, state });
    redis = createRedis(config.redisUrl);
    producer = createBullmqProducer({
      connection: redis,
      prefix: config.worker.queuePrefix,
      backoffDelayMs: 50,
    });
  });

  afterEach(async () => {
    await running.close();
    await producer.queue.obliterate({ force: true }).catch(() => {});
    await producer.close();
    redis.disconnect();
    await dir.cleanup();
  });

  it('extracts an enqueued archive and writes its manifest, logging the job ids on every line', async () => {
    // Prepare
    const zip = await buildZip([
      { name: 'app.log', data: 'hello\n' },
      { name: 'sub/empty.txt', data: '' },
    ]);
    await putArchive('incoming/54321-2026-11-28.zip', zip);

    // Act
    const enqueued = await producer.enqueue({
      logId: '54321',
      bucket: 'logs',
      key: 'incoming/54321-2026-11-28.zip',
      reason: 'upload',
      requestIds: { 'x-amz-request-id': 'REQ123' },
    });
    const final = await settled('54321');

    // Assess
    expect(enqueued).toEqual({ outcome: 'enqueued', jobId: jobIdFor('54321') });
    expect(final).toBe('completed');
    expect(await readFile(join(dir.path, 'logs/extracted/54321/app.log'), 'utf8')).toBe('hello\n');
    expect(await readFile(join(dir.path, 'logs/extracted/54321/sub/empty.txt'), 'utf8')).toBe('');
    const manifest = await state.getManifest('54321');
    expect(manifest?.entries.map((e) => e.path).sort()).toEqual(['app.log', 'sub/empty.txt']);
    expect(manifest?.route).toBe('queue');
    const job = await producer.queue.getJob(jobIdFor('54321'));
    expect(job?.returnvalue).toMatchObject({ status: 'extracted', entries: 2, bytes: 6 });
    const jobLines = captured.lines.filter((l) => l['jobId'] === jobIdFor('54321'));
    expect(jobLines.map((l) => l['msg'])).toEqual(expect.arrayContaining(['job started', 'job completed']));
    for (const line of jobLines) {
      expect(line).toMatchObject({
        logId: '54321',
        reason: 'upload',
        requestIds: { 'x-amz-request-id': 'REQ123' },
      });
    }
  });

  it('fails a corrupt archive once, with a failed record and its stack, and no retries', async () => {
    // Prepare
    await putArchive(
      'incoming/777.zip',
      Buffer.from('PK\u0003\u0004 this is not really a zip archive at all'),
    );

    // Act
    await producer.enqueue({ logId: '777', bucket: 'logs', key: 'incoming/777.zip', reason: 'upload' });
    const final = await settled('777');

    // Assess
    expect(final).toBe('failed');
    const job = await producer.queue.getJob(jobIdFor('777'));
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).toMatch(/^(not_zip|corrupt): /);
    await waitFor(async () => (await state.getFailure('777'))?.state === 'failed', 'failed record');
    const record = await state.getFailure('777');
    expect(record).toMatchObject({
      state: 'failed',
      route: 'queue',
      source: { bucket: 'logs', key: 'incoming/777.zip' },
    });
    expect(['not_zip', 'corrupt']).toContain(record?.code);
    expect(record?.stack).toMatch(/LogzipError/);
    expect(record?.attempts).toEqual([
      expect.objectContaining({ route: 'queue', jobId: 'log-777', attempt: 1 }),
    ]);
    const metrics = await running.metrics.registry.getSingleMetricAsString('logzip_worker_jobs_failed_total');
    expect(metrics).toMatch(new RegExp(`code="${record?.code}",final="true"} 1`));
  });

  it('runs one job for two enqueues of one log ID', async () => {
    // Prepare
    await putArchive('incoming/twice.zip', await buildZip([{ name: 'a.txt', data: 'a' }]));
    const job = { logId: 'twice', bucket: 'logs', key: 'incoming/twice.zip', reason: 'upload' } as const;

    // Both arrive while the job is still waiting: no worker runs until they are in.
    await running.close();

    // Act
    const [first, second] = await Promise.all([
      producer.enqueue(job),
      producer.enqueue({ ...job, reason: 'sweep' }),
    ]);
    running = await startWorker({ config, logger: captured.logger, store, state });
    await settled('twice');

    // Assess
    expect([first?.outcome, second?.outcome].sort()).toEqual(['already_queued', 'enqueued']);
    const started = captured.lines.filter((l) => l['logId'] === 'twice' && l['msg'] === 'job started');
    expect(started).toHaveLength(1);
  });

  it('extracts a new version that lands while its log ID’s job finishes (the enqueue said already_queued)', async () => {
    // Prepare: a worker whose state store uploads and enqueues version 2 right after version 1's
    // manifest is written, while version 1's job is still running
    const key = 'incoming/finishing.zip';
    const job = { logId: 'finishing', bucket: 'logs', key, reason: 'upload' } as const;
    await putArchive(key, await buildZip([{ name: 'app.log', data: 'version 1\n' }]));
    let during: { outcome: string } | undefined;
    const hooked = new Proxy(state, {
      get(target, name) {
        if (name === 'putManifest') {
          return async (manifest: Parameters<StateStore['putManifest']>[0]) => {
            await target.putManifest(manifest);
            if (during !== undefined) return;
            during = { outcome: 'pending' };
            await putArchive(key, await buildZip([{ name: 'app.log', data: 'version 2\n' }]));
            during = await producer.enqueue(job);
          };
        }
        const value = Reflect.get(target, name, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await running.close();
    running = await startWorker({ config, logger: captured.logger, store, state: hooked });

    // Act
    await producer.enqueue(job);
    const etag = async () => (await store.head('logs', key))?.etag;
    await waitFor(
      async () =>
        during !== undefined &&
        during.outcome !== 'pending' &&
        (await state.getManifest('finishing'))?.source.etag === (await etag()),
      'the manifest of version 2',
    );

    // Assess
    expect(during?.outcome).toBe('already_queued');
    expect(await readFile(join(dir.path, 'logs/extracted/finishing/app.log'), 'utf8')).toBe('version 2\n');
    expect(captured.lines.map((l) => l['msg'])).toContain(
      'a newer upload arrived while the job ran: queued it',
    );
  });

  it('runs a log ID again when it is re-enqueued after a failure, and resolves its record', async () => {
    // Prepare
    await putArchive('incoming/again.zip', Buffer.from('not a zip'));
    await producer.enqueue({ logId: 'again', bucket: 'logs', key: 'incoming/again.zip', reason: 'upload' });
    expect(await settled('again')).toBe('failed');
    await putArchive('incoming/again.zip', await buildZip([{ name: 'fixed.log', data: 'fixed' }]));

    // Act
    const again = await producer.enqueue({
      logId: 'again',
      bucket: 'logs',
      key: 'incoming/again.zip',
      reason: 'reenqueue',
    });
    const final = await settled('again');

    // Assess
    expect(again.outcome).toBe('enqueued');
    expect(final).toBe('completed');
    expect((await state.getManifest('again'))?.entries.map((e) => e.path)).toEqual(['fixed.log']);
    expect((await state.getFailure('again'))?.state).toBe('resolved');
  });

  it('fails a malformed job with a clear message and keeps working', async () => {
    // Prepare
    await putArchive('incoming/after.zip', await buildZip([{ name: 'x.txt', data: 'x' }]));

    // Act
    await producer.queue.add('extract', { logId: 'bad id!', key: 42 }, { jobId: 'log-bad' });
    await producer.enqueue({ logId: 'after', bucket: 'logs', key: 'incoming/after.zip', reason: 'upload' });
    const final = await settled('after');

    // Assess
    const bad = await producer.queue.getJob('log-bad');
    expect(await bad?.getState()).toBe('failed');
    expect(bad?.failedReason).toMatch(/^invalid job payload: /);
    expect(bad?.attemptsMade).toBe(1);
    expect(final).toBe('completed');
  });

  it('serves /healthz and Prometheus /metrics with job, byte, entry and queue-depth series', async () => {
    // Prepare
    await putArchive('incoming/m1.zip', await buildZip([{ name: 'm.txt', data: 'metrics!' }]));
    await producer.enqueue({ logId: 'm1', bucket: 'logs', key: 'incoming/m1.zip', reason: 'upload' });
    await settled('m1');
    const base = `http://127.0.0.1:${running.port}`;

    // Act
    const health = await fetch(`${base}/healthz`);
    const metrics = await (await fetch(`${base}/metrics`)).text();

    // Assess
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, redis: 'ready', worker: 'running' });
    expect(metrics).toMatch(/logzip_worker_jobs_completed_total\{status="extracted"} 1/);
    expect(metrics).toMatch(/logzip_worker_extracted_bytes_total 8/);
    expect(metrics).toMatch(/logzip_worker_extracted_entries_total 1/);
    expect(metrics).toMatch(/logzip_worker_job_duration_seconds_count\{outcome="extracted"} 1/);
    expect(metrics).toMatch(/logzip_queue_jobs\{state="completed"} 1/);
    expect(metrics).toMatch(/logzip_queue_jobs\{state="waiting"} 0/);
    expect(metrics).toMatch(/logzip_sweep_backlog_archives/);
  });

  it('re-extracts an extracted archive only with force', async () => {
    // Prepare
    await putArchive('incoming/f1.zip', await buildZip([{ name: 'f.txt', data: 'one' }]));
    await producer.enqueue({ logId: 'f1', bucket: 'logs', key: 'incoming/f1.zip', reason: 'upload' });
    await settled('f1');
    const firstFinished = (await state.getManifest('f1'))?.finishedAt;
    await writeFile(join(dir.path, 'logs/extracted/f1/f.txt'), 'tampered');

    // Act
    await producer.enqueue({ logId: 'f1', bucket: 'logs', key: 'incoming/f1.zip', reason: 'reenqueue' });
    await settled('f1');
    const unforced = await producer.queue.getJob(jobIdFor('f1'));
    await producer.enqueue({
      logId: 'f1',
      bucket: 'logs',
      key: 'incoming/f1.zip',
      reason: 'reenqueue',
      force: true,
    });
    await settled('f1');
    const forced = await producer.queue.getJob(jobIdFor('f1'));

    // Assess
    expect(unforced?.returnvalue).toMatchObject({ status: 'already_extracted' });
    expect(forced?.returnvalue).toMatchObject({ status: 'extracted' });
    expect((await state.getManifest('f1'))?.finishedAt).not.toBe(firstFinished);
    expect(await readFile(join(dir.path, 'logs/extracted/f1/f.txt'), 'utf8')).toBe('one');
  });
});
