/**
 * The failure index (Redis) behind the state store, over both ObjectStore adapters (folders in a
 * temp dir, S3 on the run's moto_server): write-through, pages, heal, drift, reindex. Real Redis,
 * a unique key namespace per test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  createTestBucket,
  deleteTestBucket,
  findExecutable,
  freePort,
  isCI,
  MOTO_CREDENTIALS,
  motoEnabled,
  redisEnabled,
  requireMoto,
  requireRedis,
  tempDir,
  uniquePrefix,
  waitUntil,
} from '@logzip/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsObjectStore } from '../../src/adapters/fs/index.js';
import { createRedisFailureIndex, indexKeys } from '../../src/adapters/redis-index/index.js';
import { createS3Client, createS3ObjectStore } from '../../src/adapters/s3/index.js';
import { LogzipError } from '../../src/errors.js';
import type { FailureIndex } from '../../src/ports/failure-index.js';
import type { ObjectStore } from '../../src/ports/object-store.js';
import { checkIndex } from '../../src/state/check-index.js';
import { recordAttempt, resolveRecord } from '../../src/state/failures.js';
import { createIndexedStateStore } from '../../src/state/indexed-state-store.js';
import { createStateStore } from '../../src/state/object-state-store.js';
import { reindex } from '../../src/state/reindex.js';
import type { FailureRecord, Manifest } from '../../src/state/types.js';

interface Harness {
  store: ObjectStore;
  bucket: string;
  cleanup(): Promise<void>;
}

function failure(
  logId: string,
  at: string,
  options: { code?: 'corrupt' | 'storage_unavailable'; route?: 'lambda' | 'queue'; final?: boolean } = {},
): FailureRecord {
  const code = options.code ?? 'corrupt';
  return recordAttempt(undefined, {
    logId,
    source: { bucket: 'logs', key: `incoming/${logId}.zip` },
    route: options.route ?? 'queue',
    error: new LogzipError(code, `${code} in ${logId}`),
    attempt: options.final === false ? 1 : 3,
    maxAttempts: 3,
    at: new Date(at),
  });
}

function manifest(logId: string, finishedAt: string): Manifest {
  return {
    version: 1,
    logId,
    source: { bucket: 'logs', key: `incoming/${logId}.zip`, etag: 'abc123', size: 10 },
    output: { bucket: 'logs', prefix: 'extracted/' },
    entries: [{ path: 'a.log', key: `extracted/${logId}/a.log`, size: 3, crc32: '00000000' }],
    bytes: 3,
    startedAt: finishedAt,
    finishedAt,
    durationMs: 1,
    route: 'queue',
  };
}

const minute = (n: number) => new Date(Date.UTC(2026, 10, 28, 10, n)).toISOString();

function defineIndexContract(name: string, enabled: boolean, open: () => Promise<Harness>): void {
  describe.runIf(enabled)(`failure index over ${name}`, () => {
    let h: Harness;
    let redis: Redis;

    /** A fresh state prefix and index namespace: tests never see each other's records. */
    const fresh = (retentionDays = 0) => {
      const prefix = `state-${randomUUID()}/`;
      const namespace = `${uniquePrefix('index')}:`;
      const plain = createStateStore({ store: h.store, bucket: h.bucket, prefix });
      const index = createRedisFailureIndex({ redis, namespace, retentionDays });
      return { prefix, namespace, plain, index, state: createIndexedStateStore(plain, index) };
    };
    const rebuild = (f: { prefix: string; index: FailureIndex }, extra = {}) =>
      reindex({ store: h.store, bucket: h.bucket, prefix: f.prefix, index: f.index, batchSize: 3, ...extra });

    beforeAll(async () => {
      h = await open();
      redis = new Redis(requireRedis());
    });
    afterAll(async () => {
      await redis?.quit();
      await h?.cleanup();
    });

    it('answers "not ready" before the first rebuild, never an empty page that looks true', async () => {
      // Prepare
      const f = fresh();
      await f.state.putFailure(failure('1001', minute(1)));

      // Act
      const page = await f.index.pageFailures({ limit: 50 });
      const counts = await f.index.counts();
      const readiness = await f.index.readiness();

      // Assess
      expect(page).toBeUndefined();
      expect(counts).toBeUndefined();
      expect(readiness.ready).toBe(false);
    });

    it('indexes state written by the plain store (no migration), newest first, paged with a cursor', async () => {
      // Prepare: today's store writes the objects, the index has never seen them.
      const f = fresh();
      for (let i = 1; i <= 7; i++) await f.plain.putFailure(failure(`20${i}`, minute(i)));
      await f.plain.putManifest(manifest('201', minute(30)));
      await f.plain.appendAudit({
        at: minute(40),
        operator: 'alice',
        action: 'purge',
        details: {},
        outcome: 'ok',
      });

      // Act
      const result = await rebuild(f);
      const first = await f.index.pageFailures({ state: 'failed', limit: 3 });
      const second = await f.index.pageFailures({
        state: 'failed',
        limit: 3,
        cursor: first?.nextCursor ?? '',
      });
      const third = await f.index.pageFailures({
        state: 'failed',
        limit: 3,
        cursor: second?.nextCursor ?? '',
      });

      // Assess
      expect(result).toMatchObject({
        status: 'done',
        counts: { failures: 7, manifests: 1, audit: 1, skipped: 0 },
      });
      expect(first?.items.map((s) => s.logId)).toEqual(['207', '206', '205']);
      expect(second?.items.map((s) => s.logId)).toEqual(['204', '203', '202']);
      expect(third?.items.map((s) => s.logId)).toEqual(['201']);
      expect([first?.total, second?.total, third?.total]).toEqual([7, 7, 7]);
      expect(third?.nextCursor).toBeUndefined();
      expect(await f.index.lookup('201')).toMatchObject({
        failure: { state: 'failed', code: 'corrupt' },
        manifest: { files: 1, etag: 'abc123' },
      });
      expect((await f.index.pageAudit({ limit: 10 }))?.items).toEqual([
        { at: minute(40), operator: 'alice', action: 'purge', details: {}, outcome: 'ok' },
      ]);
    });

    it('updates the index on every write path: failure, resolve, manifest, purge, audit', async () => {
      // Prepare
      const f = fresh();
      await rebuild(f);
      const record = failure('301', minute(1), { code: 'storage_unavailable', route: 'lambda' });

      // Act
      await f.state.putFailure(record);
      await f.state.putFailure(failure('302', minute(2)));
      const whileFailed = await f.index.pageFailures({
        state: 'failed',
        code: 'storage_unavailable',
        limit: 10,
      });
      await f.state.putFailure(resolveRecord(record, new Date(minute(3))));
      await f.state.putManifest(manifest('301', minute(3)));
      await f.state.purge('302');
      await f.state.appendAudit({
        at: minute(4),
        operator: 'bob',
        action: 'route',
        details: {},
        outcome: 'ok',
      });

      // Assess
      expect(whileFailed?.items.map((s) => s.logId)).toEqual(['301']);
      expect((await f.index.pageFailures({ state: 'failed', limit: 10 }))?.total).toBe(0);
      expect(
        (await f.index.pageFailures({ state: 'resolved', route: 'lambda', limit: 10 }))?.items,
      ).toMatchObject([{ logId: '301', state: 'resolved', resolvedAt: minute(3) }]);
      expect(await f.index.lookup('302')).toEqual({});
      expect((await f.index.lookup('301')).manifest?.finishedAt).toBe(minute(3));
      expect(await f.index.counts()).toEqual({
        byState: { retrying: 0, failed: 0, resolved: 1 },
        byCode: { storage_unavailable: { retrying: 0, failed: 0, resolved: 1 } },
      });
      expect((await f.index.pageAudit({ limit: 10 }))?.total).toBe(1);
    });

    it('filters by code, route, since and log-ID prefix, with the total of the filter', async () => {
      // Prepare
      const f = fresh();
      await f.state.putFailure(failure('4001', minute(1), { code: 'corrupt', route: 'lambda' }));
      await f.state.putFailure(failure('4002', minute(2), { code: 'storage_unavailable', route: 'queue' }));
      await f.state.putFailure(failure('4101', minute(3), { code: 'corrupt', route: 'queue' }));
      await f.state.putFailure(failure('5001', minute(4), { code: 'storage_unavailable', final: false }));
      await rebuild(f);

      // Act
      const corruptQueue = await f.index.pageFailures({ code: 'corrupt', route: 'queue', limit: 10 });
      const since = await f.index.pageFailures({ since: new Date(minute(2)), limit: 10 });
      const prefixed = await f.index.pageFailures({ logIdPrefix: '40', limit: 1 });
      const prefixedNext = await f.index.pageFailures({
        logIdPrefix: '40',
        limit: 1,
        cursor: prefixed?.nextCursor ?? '',
      });
      const retrying = await f.index.pageFailures({ state: 'retrying', limit: 10 });
      const anyState: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await f.index.pageFailures({ limit: 1, ...(cursor === undefined ? {} : { cursor }) });
        anyState.push(...(page?.items.map((s) => s.logId) ?? []));
        cursor = page?.nextCursor;
      } while (cursor !== undefined);

      // Assess
      expect(corruptQueue?.items.map((s) => s.logId)).toEqual(['4101']);
      expect(since?.items.map((s) => s.logId)).toEqual(['5001', '4101', '4002']);
      expect(since?.total).toBe(3);
      expect(prefixed).toMatchObject({ total: 2, items: [{ logId: '4002' }] });
      expect(prefixedNext?.items.map((s) => s.logId)).toEqual(['4001']);
      expect(prefixedNext?.nextCursor).toBeUndefined();
      expect(retrying?.items.map((s) => s.logId)).toEqual(['5001']);
      expect(anyState).toEqual(['5001', '4101', '4002', '4001']);
    });

    it('pages records of the same time across states without losing or repeating one', async () => {
      // Prepare: six records updated in the same millisecond, in three states.
      const f = fresh();
      await rebuild(f);
      for (const logId of ['s1', 's2', 's3', 's4']) await f.state.putFailure(failure(logId, minute(7)));
      await f.state.putFailure(failure('s5', minute(7), { code: 'storage_unavailable', final: false }));
      await f.state.putFailure(resolveRecord(failure('s6', minute(1)), new Date(minute(7))));

      // Act
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await f.index.pageFailures({ limit: 2, ...(cursor === undefined ? {} : { cursor }) });
        seen.push(...(page?.items.map((s) => s.logId) ?? []));
        cursor = page?.nextCursor;
      } while (cursor !== undefined);

      // Assess
      expect([...seen].sort()).toEqual(['s1', 's2', 's3', 's4', 's5', 's6']);
      expect(new Set(seen).size).toBe(6);
    });

    it('reports a corrupt or foreign object with its path and reason, and indexes the rest', async () => {
      // Prepare
      const f = fresh();
      await f.plain.putFailure(failure('601', minute(1)));
      await h.store.put(h.bucket, `${f.prefix}failures/602.json`, Buffer.from('{"broken":'));
      await h.store.put(h.bucket, `${f.prefix}failures/603.json`, Buffer.from('{"hello":"world"}'));
      await h.store.put(
        h.bucket,
        `${f.prefix}manifests/604.json`,
        Buffer.from(JSON.stringify(manifest('999', minute(1)))),
      );
      const invalid: Array<{ key: string; reason: string }> = [];

      // Act
      const result = await rebuild(f, { onInvalid: (o: { key: string; reason: string }) => invalid.push(o) });

      // Assess
      expect(result).toMatchObject({ status: 'done', counts: { failures: 1, skipped: 3 } });
      expect(invalid.sort((a, b) => a.key.localeCompare(b.key))).toEqual([
        { key: `${f.prefix}failures/602.json`, reason: expect.stringMatching(/^not JSON/) },
        { key: `${f.prefix}failures/603.json`, reason: 'not a version 1 failure record' },
        { key: `${f.prefix}manifests/604.json`, reason: 'holds log ID "999" but is named "604"' },
      ]);
    });

    it('resumes an interrupted reindex from its checkpoint, and refuses a second one while it runs', async () => {
      // Prepare
      const f = fresh();
      for (let i = 1; i <= 8; i++) await f.plain.putFailure(failure(`70${i}`, minute(i)));
      const stop = new AbortController();

      // Act
      const interrupted = await rebuild(f, {
        onProgress: (p: { counts: { failures: number } }) => {
          if (p.counts.failures >= 3) stop.abort();
        },
        signal: stop.signal,
      });
      const between = await f.index.pageFailures({ limit: 50 });
      const holder = await f.index.rebuild.acquire('someone-else', 5_000);
      const refused = await rebuild(f);
      await f.index.rebuild.release('someone-else');
      const resumed = await rebuild(f);

      // Assess
      expect(interrupted).toMatchObject({ status: 'interrupted', checkpoint: { phase: 'failures' } });
      expect(between).toBeUndefined();
      expect(holder).toBe(true);
      expect(refused).toMatchObject({ status: 'busy', owner: 'someone-else' });
      expect(resumed).toMatchObject({ status: 'done', resumed: true, counts: { failures: 8 } });
      expect((await f.index.pageFailures({ limit: 50 }))?.total).toBe(8);
    });

    it('heals a record found out of step on read, and the check reports missing, stale and orphaned entries', async () => {
      // Prepare: the index is built, then the objects change behind its back.
      const f = fresh();
      await f.state.putFailure(failure('801', minute(1)));
      await f.state.putFailure(failure('802', minute(2)));
      await rebuild(f);
      await f.plain.putFailure(resolveRecord(failure('801', minute(1)), new Date(minute(5)))); // stale
      await f.plain.putFailure(failure('803', minute(3))); // missing
      await h.store.deleteMany(h.bucket, [`${f.prefix}failures/802.json`]); // orphan

      // Act
      const drift = await checkIndex({ store: h.store, bucket: h.bucket, prefix: f.prefix, index: f.index });
      const healed = await f.state.getFailure('801');
      const after = await checkIndex({ store: h.store, bucket: h.bucket, prefix: f.prefix, index: f.index });
      const rebuilt = await rebuild(f);
      const fixed = await checkIndex({ store: h.store, bucket: h.bucket, prefix: f.prefix, index: f.index });

      // Assess
      expect(drift).toMatchObject({ checked: 2, missing: 1, stale: 1, orphan: 1 });
      expect(drift.samples).toEqual(
        expect.arrayContaining([
          { logId: '801', problem: 'stale' },
          { logId: '803', problem: 'missing' },
          { logId: '802', problem: 'orphan' },
        ]),
      );
      expect(healed?.state).toBe('resolved');
      expect((await f.index.lookup('801')).failure?.state).toBe('resolved');
      expect(after).toMatchObject({ stale: 0, missing: 1, orphan: 1 });
      expect(rebuilt).toMatchObject({ status: 'done', pruned: 1 });
      expect(fixed).toMatchObject({ checked: 2, missing: 0, stale: 0, orphan: 0 });
    });

    it('drops the entry of a record that is gone when it is read', async () => {
      // Prepare: a lifecycle rule expired the object behind the index's back.
      const f = fresh();
      await f.state.putFailure(failure('851', minute(1)));
      await h.store.deleteMany(h.bucket, [`${f.prefix}failures/851.json`]);

      // Act
      const read = await f.state.getFailure('851');

      // Assess
      expect(read).toBeUndefined();
      expect(await f.index.lookup('851')).toEqual({});
    });

    it('keeps resolved failures and audit entries out of the index after the retention days', async () => {
      // Prepare: retention 7 days; one resolved record 30 days old, one resolved today.
      const f = fresh(7);
      const old = new Date(Date.now() - 30 * 86_400_000);
      const recent = new Date(Date.now() - 3_600_000);
      await f.plain.putFailure(resolveRecord(failure('901', old.toISOString()), old));
      await f.plain.putFailure(resolveRecord(failure('902', recent.toISOString()), recent));
      await f.plain.putFailure(failure('903', old.toISOString()));
      await f.plain.appendAudit({
        at: old.toISOString(),
        operator: 'a',
        action: 'x',
        details: {},
        outcome: 'ok',
      });

      // Act
      await rebuild(f);
      const resolved = await f.index.pageFailures({ state: 'resolved', limit: 10 });
      const audit = await f.index.pageAudit({ limit: 10 });

      // Assess
      expect(resolved?.items.map((s) => s.logId)).toEqual(['902']);
      expect((await f.index.pageFailures({ state: 'failed', limit: 10 }))?.total).toBe(1);
      expect(audit?.total).toBe(0);
      expect(await f.plain.getFailure('901')).toMatchObject({ state: 'resolved' }); // the object stays
    });

    it('trims resolved failures that aged past the cutoff', async () => {
      // Prepare
      const f = fresh();
      await f.state.putFailure(resolveRecord(failure('951', minute(1)), new Date(minute(2))));
      await f.state.putFailure(failure('952', minute(1)));
      await rebuild(f);

      // Act
      const removed = await f.index.trim(new Date(minute(10)));

      // Assess
      expect(removed).toEqual({ failures: 1, audit: 0 });
      expect((await f.index.pageFailures({ limit: 10 }))?.items.map((s) => s.logId)).toEqual(['952']);
    });

    it('keys every index entry under one hash tag in its namespace', async () => {
      // Prepare
      const f = fresh();
      await f.state.putFailure(failure('991', minute(1)));
      await f.state.putManifest(manifest('991', minute(2)));

      // Act
      const names = await redis.keys(`${f.namespace}*`);

      // Assess
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) expect(name.startsWith(indexKeys(f.namespace).base)).toBe(true);
    });
  });
}

defineIndexContract('the filesystem', redisEnabled(), async () => {
  const dir = await tempDir('failure-index');
  return { store: createFsObjectStore({ rootDir: dir.path }), bucket: 'state-bucket', cleanup: dir.cleanup };
});

defineIndexContract('S3 (moto)', redisEnabled() && motoEnabled(), async () => {
  const client = createS3Client({ AWS_ENDPOINT_URL_S3: requireMoto() }, { credentials: MOTO_CREDENTIALS });
  const bucket = await createTestBucket(client, 'index');
  return {
    store: createS3ObjectStore({ client }),
    bucket,
    cleanup: async () => {
      await deleteTestBucket(client, bucket);
      client.destroy();
    },
  };
});

// FLUSHALL needs a Redis of its own: the shared one holds every other test's keys.
const privateRedis = (await findExecutable('redis-server')) !== undefined;
if (!privateRedis && isCI()) throw new Error('redis-server is required under CI=true');

describe.runIf(privateRedis)('failure index when Redis is flushed mid-run', () => {
  let child: ChildProcess;
  let redis: Redis;
  let dir: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    const port = await freePort();
    child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    redis = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 3 });
    redis.on('error', () => {}); // refused while the server starts
    await waitUntil(
      async () => {
        if (redis.status === 'ready') return true;
        await redis.connect().catch(() => {});
        return (redis.status as string) === 'ready';
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'the private redis-server' },
    );
    dir = await tempDir('index-flush');
  });
  afterAll(async () => {
    await redis?.quit().catch(() => redis.disconnect());
    child?.kill('SIGTERM');
    await dir?.cleanup();
  });

  it('answers "rebuilding" after the flush and the reindex starts over and completes', async () => {
    // Prepare: 40 records indexed, a reindex running in batches of 5.
    const store = createFsObjectStore({ rootDir: dir.path });
    const prefix = 'logzip-state/';
    const plain = createStateStore({ store, bucket: 'b', prefix });
    for (let i = 1; i <= 40; i++) await plain.putFailure(failure(`f${i}`, minute(i % 60)));
    const index = createRedisFailureIndex({ redis });
    await reindex({ store, bucket: 'b', prefix, index });
    let duringFlush: unknown = 'not checked';

    // Act: flush after the first batch of a second reindex.
    const result = await reindex({
      store,
      bucket: 'b',
      prefix,
      index,
      batchSize: 5,
      onProgress: (p) => {
        if (duringFlush !== 'not checked' || p.counts.failures < 5) return;
        duringFlush = 'flushing';
        void redis.flushall().then(async () => {
          duringFlush = await index.pageFailures({ limit: 50 });
        });
      },
    });

    // Assess
    expect(duringFlush).toBeUndefined();
    expect(result).toMatchObject({ status: 'done', counts: { failures: 40 } });
    expect(result.status === 'done' && result.restarts).toBeGreaterThanOrEqual(1);
    expect((await index.pageFailures({ limit: 50 }))?.total).toBe(40);
  });
});
