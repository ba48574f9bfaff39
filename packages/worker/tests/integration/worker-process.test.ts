import { crc32 } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { jobIdFor, type StateStore } from '@logzip/core';
import { type BullmqProducer, createBullmqProducer, createRedis } from '@logzip/core/bullmq';
import { createStorage } from '@logzip/core/runtime';
import {
  buildZip,
  createMotoS3Client,
  createTestBucket,
  deleteTestBucket,
  describeWithMoto,
  requireMoto,
  type S3FaultProxy,
  startS3FaultProxy,
} from '@logzip/test-utils';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { readWorkerConfig } from '../../src/index.js';
import { spawnWorker, stopWorker, type WorkerProcess, waitFor, workerEnv } from '../helpers/harness.js';

/** 64 files: with every PUT of an extracted file slowed to 300 ms and 8 writes in parallel, a run takes ~2.5 s. */
const FILES = Array.from({ length: 64 }, (_, i) => ({
  name: `logs/part-${String(i).padStart(2, '0')}.log`,
  data: `line ${i}\n`.repeat(200 + i),
}));

function expectedEntries() {
  return FILES.map((f) => ({
    path: f.name,
    size: Buffer.byteLength(f.data),
    crc32: (crc32(f.data) >>> 0).toString(16).padStart(8, '0'),
  })).sort((a, b) => a.path.localeCompare(b.path));
}

describeWithMoto('worker processes: kills, stalls and shutdown', () => {
  let s3: S3Client;
  let bucket: string;
  let proxy: S3FaultProxy;
  let env: Record<string, string>;
  let redis: Redis;
  let producer: BullmqProducer;
  let state: StateStore;
  const workers: WorkerProcess[] = [];

  async function readText(key: string): Promise<string | undefined> {
    try {
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return await out.Body?.transformToString('utf8');
    } catch {
      return undefined;
    }
  }

  const manifestOf = (logId: string) => state.getManifest(logId);
  const failureOf = (logId: string) => state.getFailure(logId);

  /** Every extracted object of the log ID with its content. */
  async function extracted(logId: string): Promise<Record<string, string>> {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `extracted/${logId}/` }));
    const files: Record<string, string> = {};
    for (const object of out.Contents ?? []) {
      files[object.Key!.slice(`extracted/${logId}/`.length)] = (await readText(object.Key!)) ?? '';
    }
    return files;
  }

  async function enqueueSlowArchive(logId: string): Promise<void> {
    const key = `incoming/${logId}.zip`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await buildZip(FILES) }));
    await producer.enqueue({ logId, bucket, key, reason: 'upload' });
  }

  async function startWorkerProcess(extra: Record<string, string> = {}): Promise<WorkerProcess> {
    const worker = spawnWorker({ ...env, ...extra });
    workers.push(worker);
    await worker.waitForLine((l) => String(l['msg']).startsWith('worker started'), 'worker started');
    return worker;
  }

  async function extractionUnderWay(): Promise<void> {
    await waitFor(
      () => proxy.requests.some((r) => r.method === 'PUT' && r.path.startsWith(`/${bucket}/extracted/`)),
      'first extracted file written',
    );
  }

  beforeEach(async () => {
    s3 = createMotoS3Client();
    bucket = await createTestBucket(s3, 'worker-proc');
    proxy = await startS3FaultProxy({
      target: requireMoto(),
      rules: [
        {
          name: 'slow-put',
          method: 'PUT',
          path: `/${bucket}/extracted/`,
          fault: { kind: 'latency', ms: 300 },
        },
      ],
    });
    env = workerEnv({
      LOGZIP_INCOMING_BUCKET: bucket,
      AWS_ENDPOINT_URL_S3: proxy.url,
      AWS_REGION: 'us-east-1',
    });
    const config = readWorkerConfig(env).config!;
    // The test reads state straight from moto, not through the slow proxy.
    state = createStorage(readWorkerConfig({ ...env, AWS_ENDPOINT_URL_S3: requireMoto() }).config!).state;
    redis = createRedis(config.redisUrl);
    producer = createBullmqProducer({ connection: redis, prefix: config.worker.queuePrefix });
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map(stopWorker));
    await producer.queue.obliterate({ force: true }).catch(() => {});
    await producer.close();
    redis.disconnect();
    await proxy.close();
    await deleteTestBucket(s3, bucket);
    s3.destroy();
  });

  it('completes a job whose worker was SIGKILLed mid-run on another worker, with identical output', async () => {
    // Prepare
    const first = await startWorkerProcess();
    await enqueueSlowArchive('killed');
    await extractionUnderWay();

    // Act
    first.child.kill('SIGKILL');
    await first.exited;
    const second = await startWorkerProcess();
    await waitFor(
      async () => (await producer.getJobState('killed')) === 'completed',
      'job completed elsewhere',
      30_000,
    );

    // Assess
    const job = await producer.queue.getJob(jobIdFor('killed'));
    expect(job?.stalledCounter).toBeGreaterThanOrEqual(1);
    const manifest = await manifestOf('killed');
    expect(
      manifest?.entries
        .map(({ path, size, crc32 }) => ({ path, size, crc32 }))
        .sort((a, b) => a.path.localeCompare(b.path)),
    ).toEqual(expectedEntries());
    expect(await extracted('killed')).toEqual(Object.fromEntries(FILES.map((f) => [f.name, f.data])));
    expect((await failureOf('killed'))?.state).not.toBe('failed');
    expect(second.lines.some((l) => l['msg'] === 'job completed' && l['logId'] === 'killed')).toBe(true);
  });

  it('records a failure for a job that stalled more often than allowed', async () => {
    // Prepare
    const first = await startWorkerProcess({ LOGZIP_WORKER_MAX_STALLED: '0' });
    await enqueueSlowArchive('stalled');
    await extractionUnderWay();

    // Act
    first.child.kill('SIGKILL');
    await first.exited;
    await startWorkerProcess({ LOGZIP_WORKER_MAX_STALLED: '0' });
    await waitFor(
      async () => (await producer.getJobState('stalled')) === 'failed',
      'stalled job failed',
      30_000,
    );
    await waitFor(async () => (await failureOf('stalled'))?.state === 'failed', 'failure record written');

    // Assess
    const record = await failureOf('stalled');
    expect(record).toMatchObject({
      state: 'failed',
      route: 'queue',
      code: 'internal',
      source: { bucket, key: 'incoming/stalled.zip' },
    });
    expect(record?.message).toMatch(/stalled/);
    expect(record?.attempts).toEqual([expect.objectContaining({ route: 'queue', jobId: 'log-stalled' })]);
    expect(await manifestOf('stalled')).toBeUndefined();
  });

  it('exits 0 on SIGTERM after finishing the active job', async () => {
    // Prepare
    const worker = await startWorkerProcess();
    await enqueueSlowArchive('sigterm');
    await extractionUnderWay();

    // Act
    worker.child.kill('SIGTERM');
    const exit = await worker.exited;

    // Assess
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await producer.getJobState('sigterm')).toBe('completed');
    expect((await manifestOf('sigterm'))?.entries).toHaveLength(FILES.length);
    expect(worker.lines.map((l) => l['msg'])).toEqual(
      expect.arrayContaining(['shutting down', 'worker stopped']),
    );
  });

  it('hands an active job back at the shutdown deadline and exits 0; another worker completes it', async () => {
    // Prepare
    const worker = await startWorkerProcess({ LOGZIP_WORKER_SHUTDOWN_TIMEOUT: '300ms' });
    await enqueueSlowArchive('handback');
    await extractionUnderWay();

    // Act
    worker.child.kill('SIGTERM');
    const exit = await worker.exited;
    const stateAfterExit = await producer.getJobState('handback');
    const manifestAfterExit = await manifestOf('handback');
    await startWorkerProcess();
    await waitFor(
      async () => (await producer.getJobState('handback')) === 'completed',
      'handed-back job completed',
      30_000,
    );

    // Assess
    expect(exit).toEqual({ code: 0, signal: null });
    expect(stateAfterExit).toBe('waiting');
    expect(manifestAfterExit).toBeUndefined();
    expect(worker.lines.some((l) => l['msg'] === 'job handed back to the queue at shutdown')).toBe(true);
    expect(await extracted('handback')).toEqual(Object.fromEntries(FILES.map((f) => [f.name, f.data])));
    expect((await producer.queue.getJob(jobIdFor('handback')))?.stalledCounter ?? 0).toBe(0);
  });

  it('exits 78 naming every bad variable', async () => {
    // Act
    const worker = spawnWorker({
      ...env,
      LOGZIP_INCOMING_BUCKET: '',
      LOGZIP_WORKER_CONCURRENCY: 'many',
      LOGZIP_WORKER_MAX_STALLED: '-1',
    });
    const exit = await worker.exited;

    // Assess
    expect(exit.code).toBe(78);
    const stderr = worker.stderr.join('');
    expect(stderr).toMatch(/LOGZIP_INCOMING_BUCKET/);
    expect(stderr).toMatch(/LOGZIP_WORKER_CONCURRENCY/);
    expect(stderr).toMatch(/LOGZIP_WORKER_MAX_STALLED/);
  });
});
