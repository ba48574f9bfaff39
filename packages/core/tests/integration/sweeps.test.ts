/**
 * The periodic sweep over the pending set, and the full sweep (listing or an S3 Inventory report),
 * over folders and S3 (moto over HTTP, listing paged 3 keys at a time). Real Redis, a unique index
 * namespace per test; a recording queue producer (the port) says what was enqueued.
 */
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import {
  createTestBucket,
  deleteTestBucket,
  MOTO_CREDENTIALS,
  motoEnabled,
  redisEnabled,
  requireMoto,
  requireRedis,
  tempDir,
  uniquePrefix,
} from '@logzip/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsObjectStore } from '../../src/adapters/fs/index.js';
import { createRedisFailureIndex } from '../../src/adapters/redis-index/index.js';
import { createS3Client, createS3ObjectStore } from '../../src/adapters/s3/index.js';
import { type FullSweepOptions, fullSweep } from '../../src/engine/full-sweep.js';
import { type SweepOptions, sweep } from '../../src/engine/sweep.js';
import { LogzipError } from '../../src/errors.js';
import type { EnqueueResult, ExtractJob, QueueProducer } from '../../src/job.js';
import { compileLogIdPattern, DEFAULT_LOG_ID_PATTERN } from '../../src/log-id.js';
import type { Clock } from '../../src/ports/clock.js';
import type { FailureIndex } from '../../src/ports/failure-index.js';
import type { ObjectStore } from '../../src/ports/object-store.js';
import type { Route } from '../../src/ports/route.js';
import { recordAttempt } from '../../src/state/failures.js';
import { createIndexedStateStore, observeArchive } from '../../src/state/indexed-state-store.js';
import { createStateStore } from '../../src/state/object-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';

const MINUTE = 60_000;
const GRACE = 15 * MINUTE;

interface Harness {
  /** The store the tests arrange through (uncounted). */
  store: ObjectStore;
  bucket: string;
  /** Extracted archives beside the pending ones (fewer over HTTP). */
  bulk: number;
  cleanup(): Promise<void>;
}

/** Counts the calls the sweep makes, by method. */
function counted(store: ObjectStore): { store: ObjectStore; calls: Record<string, number> } {
  const calls: Record<string, number> = { head: 0, get: 0, list: 0, getStream: 0 };
  const wrapped: ObjectStore = {
    head: (b, k) => {
      calls['head'] = (calls['head'] ?? 0) + 1;
      return store.head(b, k);
    },
    get: (b, k) => {
      calls['get'] = (calls['get'] ?? 0) + 1;
      return store.get(b, k);
    },
    getRange: (b, k, s, e) => store.getRange(b, k, s, e),
    getStream: (b, k, s, e) => {
      calls['getStream'] = (calls['getStream'] ?? 0) + 1;
      return store.getStream(b, k, s, e);
    },
    put: (b, k, body, o) => store.put(b, k, body, o),
    deleteMany: (b, keys) => store.deleteMany(b, keys),
    list: (b, p, o) => {
      calls['list'] = (calls['list'] ?? 0) + 1;
      return store.list(b, p, o);
    },
  };
  return { store: wrapped, calls };
}

/** The queue as a port: one job per log ID, like BullMQ's deduplication. */
function recordingProducer(): QueueProducer & { jobs: ExtractJob[] } {
  const jobs: ExtractJob[] = [];
  return {
    jobs,
    async enqueue(job): Promise<EnqueueResult> {
      const jobId = `log-${job.logId}`;
      if (jobs.some((j) => j.logId === job.logId)) return { outcome: 'already_queued', jobId };
      jobs.push(job);
      return { outcome: 'enqueued', jobId };
    },
  };
}

function fixedRoute(route: Route) {
  return { get: async () => route, set: async () => {} };
}

const shard = (logId: string) =>
  `incoming/${logId.slice(-2).padStart(2, '0')}/${logId.slice(-4, -2).padStart(2, '0')}/${logId}.zip`;

function defineSweeps(name: string, enabled: boolean, open: () => Promise<Harness>): void {
  describe.runIf(enabled)(`sweeps over ${name}`, () => {
    let h: Harness;
    let redis: Redis;

    beforeAll(async () => {
      h = await open();
      redis = new Redis(requireRedis());
    });
    afterAll(async () => {
      await redis?.quit();
      await h?.cleanup();
    });

    /** A fresh incoming prefix, state prefix and index namespace. */
    function fresh() {
      const run = randomUUID().slice(0, 8);
      const incoming = { bucket: h.bucket, prefix: `in-${run}/incoming/` };
      const index = createRedisFailureIndex({ redis, namespace: `${uniquePrefix('sweeps')}:` });
      // Every call of the sweep, the state store's included, goes through the counter.
      const { store, calls } = counted(h.store);
      const state = createIndexedStateStore(
        createStateStore({ store, bucket: h.bucket, prefix: `state-${run}/` }),
        index,
      );
      const producer = recordingProducer();
      const resetCalls = () => {
        for (const k of Object.keys(calls)) calls[k] = 0;
      };
      return { incoming, index, state, producer, store, calls, resetCalls };
    }

    type Fresh = ReturnType<typeof fresh>;

    async function upload(f: Fresh, key: string, body = key): Promise<void> {
      await h.store.put(f.incoming.bucket, `${f.incoming.prefix}${key}`, Buffer.from(body));
    }

    /** Observed, then extracted: its manifest settles it. */
    async function extracted(f: Fresh, logId: string, key: string): Promise<void> {
      const full = `${f.incoming.prefix}${key}`;
      await upload(f, key);
      await observeArchive(
        f.state,
        { logId, bucket: h.bucket, key: full },
        undefined,
        new Date(Date.now() - 1),
      );
      const info = (await h.store.head(h.bucket, full))!;
      const now = new Date().toISOString();
      await f.state.putManifest({
        version: 1,
        logId,
        source: { bucket: h.bucket, key: full, etag: info.etag, size: info.size },
        output: { bucket: h.bucket, prefix: 'extracted/' },
        entries: [],
        bytes: 0,
        startedAt: now,
        finishedAt: now,
        durationMs: 0,
      });
    }

    async function failed(f: Fresh, logId: string, key: string): Promise<void> {
      const full = `${f.incoming.prefix}${key}`;
      await upload(f, key);
      await observeArchive(f.state, { logId, bucket: h.bucket, key: full });
      await f.state.putFailure(
        recordAttempt(undefined, {
          logId,
          source: { bucket: h.bucket, key: full },
          route: 'queue',
          error: new LogzipError('corrupt', 'bad archive'),
          attempt: 1,
          maxAttempts: 3,
          at: new Date(Date.now() + 1_000),
        }),
      );
    }

    function options(f: Fresh, route: Route, extra: Partial<FullSweepOptions> = {}): FullSweepOptions {
      return {
        store: f.store,
        incoming: f.incoming,
        state: f.state as StateStore,
        producer: f.producer,
        routes: fixedRoute(route),
        logIdPattern: compileLogIdPattern(DEFAULT_LOG_ID_PATTERN),
        graceMs: GRACE,
        pending: f.index.pending,
        index: f.index as FailureIndex,
        ...extra,
      };
    }

    it('the periodic sweep checks only the pending archives, not the extracted ones', async () => {
      // Prepare: thousands of archives (2,000 on folders) observed and extracted (settled), 3
      // observed and never extracted, and a full sweep done (the baseline); the sweep runs past their grace time., and a full sweep done (the baseline).
      const f = fresh();
      for (let i = 0; i < h.bulk; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, j) => {
            const logId = `9${String(i + j).padStart(5, '0')}`;
            return extracted(f, logId, shard(logId).slice('incoming/'.length));
          }),
        );
      }
      const stuck = ['70001', '70002', '70003'];
      for (const logId of stuck) {
        const key = `${f.incoming.prefix}${shard(logId).slice('incoming/'.length)}`;
        await upload(f, shard(logId).slice('incoming/'.length));
        await observeArchive(
          f.state,
          { logId, bucket: h.bucket, key },
          undefined,
          new Date(Date.now() - 60 * MINUTE),
        );
      }
      await f.index.pending.setBaseline(new Date());
      f.resetCalls();

      // Act
      const later: Clock = { now: () => new Date(Date.now() + GRACE + MINUTE) };
      const { summary } = await sweep({ ...(options(f, 'lambda') as SweepOptions), clock: later });

      // Assess: three archives checked (a HEAD, a manifest and a failure-record read each), no listing.
      const { calls } = f;
      expect(summary.mode).toBe('pending');
      expect(summary.scanned).toBe(3);
      expect(summary.enqueued).toBe(3);
      expect(f.producer.jobs.map((j) => j.logId).sort()).toEqual(stuck);
      expect(calls['list']).toBe(0);
      expect((calls['head'] ?? 0) + (calls['get'] ?? 0) + (calls['getStream'] ?? 0)).toBeLessThanOrEqual(
        3 * 3,
      );
      expect((await f.index.pending.stats()).count).toBe(3);
    });

    it('re-enqueues an archive observed but never extracted once its grace time has passed', async () => {
      // Prepare: observed now under the lambda route (the trigger gets the grace time first).
      const f = fresh();
      const key = `${f.incoming.prefix}ab/cd/80001.zip`;
      await upload(f, 'ab/cd/80001.zip');
      await observeArchive(f.state, { logId: '80001', bucket: h.bucket, key });
      await f.index.pending.setBaseline(new Date());
      const later: Clock = { now: () => new Date(Date.now() + GRACE + MINUTE) };

      // Act
      const early = await sweep(options(f, 'lambda') as SweepOptions);
      const late = await sweep({ ...(options(f, 'lambda') as SweepOptions), clock: later });

      // Assess
      expect(early.summary).toMatchObject({ mode: 'pending', scanned: 0, enqueued: 0 });
      expect(late.summary).toMatchObject({ mode: 'pending', scanned: 1, enqueued: 1 });
      expect(f.producer.jobs).toEqual([expect.objectContaining({ logId: '80001', key, reason: 'sweep' })]);
    });

    it('a manifest settles the pending entry, unless a re-upload was observed after its run started', async () => {
      // Prepare
      const f = fresh();
      await extracted(f, '81001', 'aa/bb/81001.zip');
      const key = `${f.incoming.prefix}aa/bb/81002.zip`;
      await upload(f, 'aa/bb/81002.zip');
      const runStarted = new Date(Date.now() - MINUTE);
      await observeArchive(f.state, { logId: '81002', bucket: h.bucket, key }, undefined, new Date());

      // Act: a run that started before the re-upload was observed finishes.
      await f.index.pending.settle('81002', runStarted);
      await failed(f, '81003', 'aa/bb/81003.zip');

      // Assess: extracted and failed-for-good are out; the re-upload stays.
      const due = await f.index.pending.due(new Date(Date.now() + MINUTE), 10);
      expect(due.map((e) => e.logId)).toEqual(['81002']);
    });

    it('reads everything once when no full sweep has finished since Redis lost the set', async () => {
      // Prepare: an archive nobody announced (the trigger was off), no baseline.
      const f = fresh();
      await upload(f, 'cc/dd/82001.zip');
      const later: Clock = { now: () => new Date(Date.now() + GRACE + MINUTE) };

      // Act
      const first = await sweep({ ...(options(f, 'lambda') as SweepOptions), clock: later });
      const baseline = await f.index.pending.baseline();
      const second = await sweep({ ...(options(f, 'lambda') as SweepOptions), clock: later });

      // Assess: the first run read everything, the next one only the pending set.
      expect(first.summary).toMatchObject({ mode: 'full', enqueued: 1 });
      expect(baseline).toBeInstanceOf(Date);
      expect(second.summary).toMatchObject({ mode: 'pending', scanned: 1, alreadyQueued: 1 });
    });

    describe('the full sweep', () => {
      /** 12 sharded archives: 5 extracted, 2 failed for good, 5 never extracted; one unsharded, one not a zip. */
      async function arrange(f: Fresh): Promise<string[]> {
        const unextracted: string[] = [];
        for (let i = 0; i < 12; i++) {
          const logId = `8${String(3000 + i * 37).padStart(4, '0')}`;
          const key = shard(logId).slice('incoming/'.length);
          if (i < 5) await extracted(f, logId, key);
          else if (i < 7) await failed(f, logId, key);
          else {
            await upload(f, key);
            unextracted.push(logId);
          }
        }
        await upload(f, 'top-level.zip');
        unextracted.push('top');
        await upload(f, 'readme.txt');
        return unextracted.sort();
      }

      it('lists the key ranges in parallel and enqueues every archive nobody extracted', async () => {
        // Prepare
        const f = fresh();
        const expected = await arrange(f);

        // Act
        const result = await fullSweep(options(f, 'queue', { parallel: 4, batchSize: 2 }));

        // Assess
        expect(result.status).toBe('done');
        const summary = result.status === 'done' ? result.report.summary : undefined;
        expect(summary).toMatchObject({ mode: 'full', scanned: 14, extracted: 5, failed: 2, ignored: 1 });
        expect(f.producer.jobs.map((j) => j.logId).sort()).toEqual(expected);
        expect(await f.index.pending.baseline()).toBeInstanceOf(Date);
        expect(await f.index.pending.fullSweep.readCheckpoint()).toBeUndefined();
        const pending = await f.index.pending.due(new Date(Date.now() + MINUTE), 100);
        expect(pending.map((e) => e.logId).sort()).toEqual(expected);
      });

      it('resumes from its checkpoint after an interruption, without reading the finished ranges again', async () => {
        // Prepare
        const f = fresh();
        const expected = await arrange(f);
        const stop = new AbortController();
        let batches = 0;

        // Act: stopped after its fourth batch, then run again.
        const first = await fullSweep(
          options(f, 'queue', {
            parallel: 2,
            batchSize: 1,
            signal: stop.signal,
            onProgress: () => {
              batches += 1;
              if (batches === 4) stop.abort();
            },
          }),
        );
        const checkpoint = await f.index.pending.fullSweep.readCheckpoint();
        const second = await fullSweep(options(f, 'queue', { parallel: 2, batchSize: 1 }));

        // Assess
        expect(first.status).toBe('interrupted');
        expect(checkpoint?.done.length ?? 0).toBeGreaterThan(0);
        expect(second).toMatchObject({ status: 'done', resumed: true });
        const summary = second.status === 'done' ? second.report.summary : undefined;
        expect(summary?.scanned).toBe(14);
        expect(f.producer.jobs.map((j) => j.logId).sort()).toEqual(expected);
      });

      it('refuses while another full sweep holds the lock', async () => {
        // Prepare
        const f = fresh();
        await f.index.pending.fullSweep.acquire('someone-else', 60_000);

        // Act
        const result = await fullSweep(options(f, 'queue'));

        // Assess
        expect(result).toEqual({ status: 'busy' });
        await f.index.pending.fullSweep.release('someone-else');
      });

      it('keeps to its rate limit', async () => {
        // Prepare
        const f = fresh();
        await arrange(f);

        // Act: 14 objects at 10 per second, 2 per batch: the last batch starts 1.2 s in.
        const started = Date.now();
        const result = await fullSweep(options(f, 'queue', { parallel: 4, batchSize: 2, ratePerSecond: 10 }));

        // Assess
        expect(result.status).toBe('done');
        expect(Date.now() - started).toBeGreaterThanOrEqual(1_100);
      });

      it('reads an S3 Inventory report (manifest.json and gzipped CSV) instead of listing', async () => {
        // Prepare: the report lists the archives, one that was deleted since, and another bucket's.
        const f = fresh();
        const expected = await arrange(f);
        const rows: string[] = [];
        for await (const o of h.store.list(h.bucket, f.incoming.prefix)) {
          const key = encodeURIComponent(o.key).replace(/%2F/g, '/');
          rows.push(`"${h.bucket}","${key}","${o.size}","${o.lastModified.toISOString()}","${o.etag}"`);
        }
        rows.push(
          `"${h.bucket}","${f.incoming.prefix}ee/ff/89999.zip","10","2026-01-01T00:00:00.000Z","0f0f"`,
        );
        rows.push(
          `"other-bucket","${f.incoming.prefix}ee/ff/89998.zip","10","2026-01-01T00:00:00.000Z","0f0f"`,
        );
        const base = `inventory-${randomUUID().slice(0, 8)}/`;
        await h.store.put(h.bucket, `${base}data/a.csv.gz`, gzipSync(`${rows.slice(0, 5).join('\n')}\n`));
        await h.store.put(h.bucket, `${base}data/b.csv.gz`, gzipSync(`${rows.slice(5).join('\n')}\n`));
        const manifest = {
          sourceBucket: h.bucket,
          destinationBucket: `arn:aws:s3:::${h.bucket}`,
          version: '2016-11-30',
          fileFormat: 'CSV',
          fileSchema: 'Bucket, Key, Size, LastModifiedDate, ETag',
          files: [{ key: `${base}data/a.csv.gz` }, { key: `${base}data/b.csv.gz` }],
        };
        await h.store.put(h.bucket, `${base}manifest.json`, Buffer.from(JSON.stringify(manifest)));
        f.resetCalls();

        // Act
        const result = await fullSweep(
          options(f, 'queue', { inventory: `s3://${h.bucket}/${base}manifest.json`, batchSize: 3 }),
        );

        // Assess
        expect(result).toMatchObject({ status: 'done', source: `s3://${h.bucket}/${base}manifest.json` });
        const summary = result.status === 'done' ? result.report.summary : undefined;
        expect(summary).toMatchObject({ extracted: 5, failed: 2, gone: 1 });
        expect(f.calls['list']).toBe(0);
        expect(f.producer.jobs.map((j) => j.logId).sort()).toEqual(expected);
      });
    });
  });
}

defineSweeps('the filesystem', redisEnabled(), async () => {
  const dir = await tempDir('sweeps');
  return {
    store: createFsObjectStore({ rootDir: dir.path }),
    bucket: 'logs',
    bulk: 2_000,
    cleanup: dir.cleanup,
  };
});

defineSweeps('S3 (moto, listing paged 3 keys at a time)', redisEnabled() && motoEnabled(), async () => {
  const client = createS3Client({ AWS_ENDPOINT_URL_S3: requireMoto() }, { credentials: MOTO_CREDENTIALS });
  const bucket = await createTestBucket(client, 'sweeps');
  return {
    store: createS3ObjectStore({ client, listPageSize: 3 }),
    bucket,
    bulk: 300,
    cleanup: async () => {
      await deleteTestBucket(client, bucket);
      client.destroy();
    },
  };
});
