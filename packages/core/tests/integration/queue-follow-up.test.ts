import {
  describeWithRedis,
  requireRedis,
  type TempDir,
  tempDir,
  uniquePrefix,
  writeZip,
} from '@logzip/test-utils';
import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  type BullmqProducer,
  createBullmqProducer,
  createExtractProcessor,
  createRedis,
} from '../../src/adapters/bullmq/index.js';
import { createFsObjectStore } from '../../src/adapters/fs/index.js';
import { DEFAULT_LIMITS } from '../../src/config.js';
import type { EnqueueResult } from '../../src/job.js';
import { silentLogger } from '../../src/ports/logger.js';
import type { ObjectStore } from '../../src/ports/object-store.js';
import { createStateStore } from '../../src/state/object-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import type { FailureRecord, Manifest } from '../../src/state/types.js';

// One job per log ID: an upload that lands while its log ID's job is finishing (after the job's
// last read of the source, before BullMQ marks it completed) is answered `already_queued`. The
// worker's `completed` / final `failed` handler (processor.onCompleted / onFailed) must queue it then, not
// leave it for the sweep. The window is made deterministic here: the new version is uploaded and
// enqueued from inside the job, right after its manifest is written.

const BUCKET = 'logs';
const KEY = 'incoming/ab/cd/7001.zip';
const JOB = { logId: '7001', bucket: BUCKET, key: KEY, reason: 'upload' } as const;

async function cleanup(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
}

/** Polls until `check` returns a value; the deadline moves on while the queue makes progress. */
async function until<T>(what: string, check: () => Promise<T | undefined>, progress: () => Promise<string>) {
  let last = await progress();
  let idleSince = Date.now();
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    const now = await progress();
    if (now !== last) {
      last = now;
      idleSince = Date.now();
    } else if (Date.now() - idleSince > 20_000) {
      throw new Error(`${what}: no progress for 20 s (queue: ${now})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describeWithRedis('queue follow-up of an upload that lands while its log ID’s job finishes', () => {
  let dir: TempDir;
  let redis: Redis;
  let prefix: string;
  let producer: BullmqProducer;
  let store: ObjectStore;
  let state: StateStore;
  let worker: Worker | undefined;
  /** The completed-event handlers run so far. */
  let finished: Promise<void>[];

  beforeEach(async () => {
    dir = await tempDir('follow-up');
    redis = createRedis(requireRedis());
    prefix = uniquePrefix('follow');
    producer = createBullmqProducer({ connection: redis, prefix, backoffDelayMs: 10 });
    store = createFsObjectStore({ rootDir: dir.path });
    state = createStateStore({ store, bucket: BUCKET, prefix: 'logzip-state/' });
    finished = [];
  });

  afterEach(async () => {
    await worker?.close(true);
    worker = undefined;
    await producer.close();
    await cleanup(redis, prefix);
    redis.disconnect();
    await dir.cleanup();
  });

  /**
   * A worker whose state store runs `onWrite` once, just after the first manifest (or failure
   * record) is written, while the job is still active, and whose events go to the processor.
   */
  function startWorker(
    onWrite: () => Promise<void>,
    followUp: boolean,
    after: 'putManifest' | 'putFailure' = 'putManifest',
  ): void {
    let fired = false;
    const hook = async (written: Manifest | FailureRecord) => {
      await (after === 'putManifest'
        ? state.putManifest(written as Manifest)
        : state.putFailure(written as FailureRecord));
      if (!fired) {
        fired = true;
        await onWrite();
      }
    };
    const hooked = new Proxy(state, {
      get(target, name) {
        if (name === after) return hook;
        const value = Reflect.get(target, name, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const processor = createExtractProcessor({
      source: store,
      output: store,
      state: hooked,
      outputLocation: { bucket: BUCKET, prefix: 'extracted/' },
      limits: DEFAULT_LIMITS,
      fallbackEncoding: 'cp932',
      logger: silentLogger,
      ...(followUp ? { requeue: (job) => producer.enqueue(job) } : {}),
    });
    worker = new Worker(producer.queue.name, processor.process, {
      connection: createRedis(requireRedis(), { forWorker: true }),
      prefix,
    });
    worker.on('completed', (job: Job, result: unknown) => {
      finished.push(processor.onCompleted(job, result));
    });
    worker.on('failed', (job, error) => void processor.onFailed(job, error));
  }

  const progress = async () => JSON.stringify(await producer.getCounts());

  /** A new version as ingest hands it over (stored, then enqueued), and what that saw. */
  function newVersion(archive: Buffer) {
    const seen: { etag?: string; enqueue?: EnqueueResult } = {};
    const upload = async () => {
      seen.etag = (await store.put(BUCKET, KEY, archive)).etag;
      seen.enqueue = await producer.enqueue(JOB);
    };
    return { seen, upload };
  }

  /** The manifest, once it names the version `seen` stored. */
  function manifestOf(seen: { etag?: string }): Promise<Manifest> {
    return until(
      'the manifest of the new version',
      async () => {
        const current = await state.getManifest('7001');
        return current !== undefined && seen.etag !== undefined && current.source.etag === seen.etag
          ? current
          : undefined;
      },
      progress,
    );
  }

  it('a new version uploaded while the job finishes gets a job of its own and is extracted', async () => {
    // Prepare: version 1 extracted by a job; version 2 lands while that job is still active
    const v1 = writeZip([{ name: 'app.log', data: 'version 1\n' }]);
    const v2 = newVersion(
      writeZip([{ name: 'app.log', data: 'version 2, uploaded while job 1 finished\n' }]),
    );
    startWorker(v2.upload, true);
    await store.put(BUCKET, KEY, v1);

    // Act
    await producer.enqueue(JOB);
    const manifest = await manifestOf(v2.seen);

    // Assess: the race happened (the job was active), and version 2 was extracted all the same
    expect(v2.seen.enqueue?.outcome).toBe('already_queued');
    expect(manifest.entries.map((e) => e.path)).toEqual(['app.log']);
    expect((await store.get(BUCKET, 'extracted/7001/app.log')).toString()).toBe(
      'version 2, uploaded while job 1 finished\n',
    );
  });

  it('a good version uploaded while a broken one fails for good gets a job of its own', async () => {
    // Prepare: version 1 fails for good (CRC); version 2 lands while that job is still active
    const broken = writeZip([{ name: 'app.log', data: 'version 1\n', crc32: 0xdeadbeef }]);
    const good = newVersion(writeZip([{ name: 'app.log', data: 'version 2, the fixed upload\n' }]));
    startWorker(good.upload, true, 'putFailure');
    await store.put(BUCKET, KEY, broken);

    // Act
    await producer.enqueue(JOB);
    const manifest = await manifestOf(good.seen);

    // Assess
    expect(good.seen.enqueue?.outcome).toBe('already_queued');
    expect(manifest.entries.map((e) => e.path)).toEqual(['app.log']);
    expect((await state.getFailure('7001'))?.state).toBe('resolved');
  });

  it('an unchanged source is not queued again', async () => {
    // Prepare
    const v1 = writeZip([{ name: 'app.log', data: 'only version\n' }]);
    await store.put(BUCKET, KEY, v1);
    startWorker(async () => {}, true);

    // Act
    await producer.enqueue(JOB);
    await until('the completed handler', async () => (finished.length > 0 ? true : undefined), progress);
    await finished[0];

    // Assess
    expect(await producer.getCounts()).toMatchObject({ waiting: 0, active: 0, delayed: 0, completed: 1 });
  });
});
