/**
 * The engine end to end, over both store adapters (a folder, and moto over HTTP): what lands under
 * `extracted/<logId>/`, the manifest, whole-archive rejection, replacement, idempotency, retries.
 */
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import {
  buildZip,
  createMotoS3Client,
  createTestBucket,
  deleteTestBucket,
  motoEnabled,
  requireMoto,
  startS3FaultProxy,
  tempDir,
  writeZip,
} from '@logzip/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsObjectStore } from '../../src/adapters/fs/index.js';
import { createS3Client, createS3ObjectStore } from '../../src/adapters/s3/index.js';
import { DEFAULT_LIMITS } from '../../src/config.js';
import { extractArchive } from '../../src/engine/extract.js';
import { extractAndRecord } from '../../src/engine/record.js';
import type { ExtractOptions } from '../../src/engine/types.js';
import { LogzipError } from '../../src/errors.js';
import type { ObjectStore, PutOptions } from '../../src/ports/object-store.js';
import { createStateStore } from '../../src/state/object-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';

interface Harness {
  name: string;
  store: ObjectStore;
  bucket: string;
  cleanup(): Promise<void>;
}

/** Counts writes on a real store: tests assert that a re-run writes nothing. */
function countingStore(inner: ObjectStore): ObjectStore & { puts: string[] } {
  const puts: string[] = [];
  return {
    puts,
    head: (b, k) => inner.head(b, k),
    get: (b, k) => inner.get(b, k),
    getRange: (b, k, s, e) => inner.getRange(b, k, s, e),
    getStream: (b, k, s, e) => inner.getStream(b, k, s, e),
    put: (b, k, body, o?: PutOptions) => {
      puts.push(k);
      return inner.put(b, k, body, o);
    },
    deleteMany: (b, keys) => inner.deleteMany(b, keys),
    list: (b, p, o) => inner.list(b, p, o),
  };
}

async function keys(store: ObjectStore, bucket: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list(bucket, prefix)) out.push(o.key);
  return out.sort();
}

const harnesses: Array<{ name: string; enabled: boolean; make(): Promise<Harness> }> = [
  {
    name: 'folder',
    enabled: true,
    async make() {
      const dir = await tempDir('engine');
      return {
        name: 'folder',
        store: createFsObjectStore({ rootDir: dir.path }),
        bucket: 'logs',
        cleanup: dir.cleanup,
      };
    },
  },
  {
    name: 's3 (moto)',
    enabled: motoEnabled(),
    async make() {
      const admin = createMotoS3Client();
      const bucket = await createTestBucket(admin, 'engine');
      const store = createS3ObjectStore({
        client: createS3Client(
          { AWS_ENDPOINT_URL_S3: requireMoto(), AWS_REGION: 'us-east-1' },
          {
            credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
          },
        ),
      });
      return { name: 's3', store, bucket, cleanup: () => deleteTestBucket(admin, bucket) };
    },
  },
];

for (const h of harnesses) {
  describe.runIf(h.enabled)(`extractArchive on ${h.name}`, () => {
    let harness: Harness;
    let store: ObjectStore & { puts: string[] };
    let state: StateStore;
    let n = 0;

    beforeAll(async () => {
      harness = await h.make();
      store = countingStore(harness.store);
      state = createStateStore({ store, bucket: harness.bucket, prefix: 'logzip-state/' });
    });
    afterAll(() => harness.cleanup());

    const upload = async (key: string, zip: Buffer) => {
      await harness.store.put(harness.bucket, key, zip, { size: zip.length });
    };
    const options = (logId: string, key: string, extra: Partial<ExtractOptions> = {}): ExtractOptions => ({
      logId,
      source: { bucket: harness.bucket, key },
      output: { bucket: harness.bucket, prefix: 'extracted/' },
      limits: DEFAULT_LIMITS,
      fallbackEncoding: 'cp932',
      ...extra,
    });
    const nextId = () => `e${++n}${Date.now().toString(36)}`;

    it('writes every file byte for byte, then the manifest', async () => {
      // Prepare
      const logId = nextId();
      const binary = randomBytes(3000);
      const zip = await buildZip([
        { name: 'app/today.log', data: '2026-11-28 INFO started\n'.repeat(200) },
        { name: 'app/empty.log', data: '' },
        { name: 'ログ/表示.txt', data: '日本語のログ\n' },
        { name: 'dump.bin', data: binary },
      ]);
      const key = `incoming/ab/cd/${logId}-2026-11-28.zip`;
      await upload(key, zip);
      // Act
      const result = await extractArchive({ source: store, output: store, state }, options(logId, key));
      // Assess
      expect(result.status).toBe('extracted');
      expect(await keys(harness.store, harness.bucket, `extracted/${logId}/`)).toEqual(
        [
          `extracted/${logId}/app/empty.log`,
          `extracted/${logId}/app/today.log`,
          `extracted/${logId}/dump.bin`,
          `extracted/${logId}/ログ/表示.txt`,
        ].sort(),
      );
      expect(await harness.store.get(harness.bucket, `extracted/${logId}/dump.bin`)).toEqual(binary);
      expect((await harness.store.get(harness.bucket, `extracted/${logId}/app/empty.log`)).length).toBe(0);
      const manifest = await state.getManifest(logId);
      expect(manifest?.source.key).toBe(key);
      expect(manifest?.entries.find((e) => e.path === 'dump.bin')?.crc32).toBe(
        crc32(binary).toString(16).padStart(8, '0'),
      );
      expect(manifest?.bytes).toBe(result.bytes);
    });

    it('returns already_extracted for the same source and writes nothing; force re-runs', async () => {
      // Prepare
      const logId = nextId();
      const key = `incoming/${logId}.zip`;
      await upload(key, await buildZip([{ name: 'a.log', data: 'a' }]));
      await extractArchive({ source: store, output: store, state }, options(logId, key));
      const putsBefore = store.puts.length;
      // Act
      const again = await extractArchive({ source: store, output: store, state }, options(logId, key));
      const putsAfterAgain = store.puts.length;
      const forced = await extractArchive(
        { source: store, output: store, state },
        options(logId, key, { force: true }),
      );
      // Assess
      expect(again.status).toBe('already_extracted');
      expect(putsAfterAgain).toBe(putsBefore);
      expect(forced.status).toBe('extracted');
      expect(store.puts.length).toBeGreaterThan(putsAfterAgain);
    });

    it('replaces the folder when a newer source arrives, keeping the old manifest in history', async () => {
      // Prepare
      const logId = nextId();
      const key = `incoming/${logId}.zip`;
      await upload(
        key,
        await buildZip([
          { name: 'a.log', data: 'old a' },
          { name: 'b.log', data: 'old b' },
        ]),
      );
      await extractArchive({ source: store, output: store, state }, options(logId, key));
      await upload(
        key,
        await buildZip([
          { name: 'a.log', data: 'new a' },
          { name: 'c.log', data: 'new c' },
        ]),
      );
      // Act
      const result = await extractArchive({ source: store, output: store, state }, options(logId, key));
      // Assess
      expect(result.status).toBe('extracted');
      expect(await keys(harness.store, harness.bucket, `extracted/${logId}/`)).toEqual([
        `extracted/${logId}/a.log`,
        `extracted/${logId}/c.log`,
      ]);
      expect((await harness.store.get(harness.bucket, `extracted/${logId}/a.log`)).toString()).toBe('new a');
      expect(await state.listHistory(logId)).toHaveLength(1);
    });

    it('rejects an archive whose defect shows only while inflating, leaving nothing behind', async () => {
      // Prepare: the first entries are fine, the last one's CRC is wrong.
      const logId = nextId();
      const key = `incoming/${logId}.zip`;
      const zip = writeZip([
        { name: 'one.log', data: 'first file\n'.repeat(50) },
        { name: 'two.log', data: 'second file\n'.repeat(50) },
        { name: 'three.log', data: 'third file\n'.repeat(50), crc32: 0xdeadbeef },
      ]);
      await upload(key, zip);
      // Act
      const error = await extractArchive(
        { source: store, output: store, state },
        options(logId, key, { concurrency: 1 }),
      ).catch((e: unknown) => e);
      // Assess
      expect(error).toBeInstanceOf(LogzipError);
      expect((error as LogzipError).code).toBe('crc_mismatch');
      expect((error as LogzipError).entry).toBe('three.log');
      expect(await keys(harness.store, harness.bucket, `extracted/${logId}/`)).toEqual([]);
      expect(await state.getManifest(logId)).toBeUndefined();
    });

    it('keeps an earlier extraction intact when the new source fails the central-directory checks', async () => {
      // Prepare
      const logId = nextId();
      const key = `incoming/${logId}.zip`;
      await upload(key, await buildZip([{ name: 'good.log', data: 'good' }]));
      await extractArchive({ source: store, output: store, state }, options(logId, key));
      await upload(key, writeZip([{ name: '../escape.log', data: 'x' }]));
      // Act
      const error = await extractArchive({ source: store, output: store, state }, options(logId, key)).catch(
        (e: unknown) => e,
      );
      // Assess
      expect((error as LogzipError).code).toBe('unsafe_path');
      expect(await keys(harness.store, harness.bucket, `extracted/${logId}/`)).toEqual([
        `extracted/${logId}/good.log`,
      ]);
      expect((await state.getManifest(logId))?.entries.map((e) => e.path)).toEqual(['good.log']);
    });

    it('bug: a re-upload failing only while inflating (CRC, lying size) destroyed the good extraction; it now keeps it', async () => {
      // Prepare: a good extraction, then a re-upload whose central directory is fine but whose
      // last entries fail only when inflated (after the first file could have been written).
      const logId = nextId();
      const key = `incoming/${logId}.zip`;
      await upload(
        key,
        await buildZip([
          { name: 'a.log', data: 'good a' },
          { name: 'b.log', data: 'good b' },
        ]),
      );
      await extractArchive({ source: store, output: store, state }, options(logId, key));
      const before = await keys(harness.store, harness.bucket, `extracted/${logId}/`);
      const putsBefore = store.puts.length;
      const broken = [
        writeZip([
          { name: 'a.log', data: 'new a\n'.repeat(100) },
          { name: 'c.log', data: 'new c\n'.repeat(100) },
          { name: 'd.log', data: 'new d\n'.repeat(100), crc32: 0xdeadbeef },
        ]),
        writeZip([
          { name: 'a.log', data: 'new a\n'.repeat(100) },
          // An entry streamed (over the buffered-read threshold) that inflates past its declared size.
          { name: 'big.log', data: randomBytes(6 * 2 ** 20), uncompressedSize: 5 * 2 ** 20 },
        ]),
      ];
      const codes: string[] = [];
      for (const zip of broken) {
        await upload(key, zip);
        // Act
        const error = await extractArchive(
          { source: store, output: store, state },
          options(logId, key, { concurrency: 1 }),
        ).catch((e: unknown) => e);
        codes.push((error as LogzipError).code);
        // Assess: nothing of the old extraction was removed or overwritten
        expect(await keys(harness.store, harness.bucket, `extracted/${logId}/`)).toEqual(before);
        expect((await harness.store.get(harness.bucket, `extracted/${logId}/a.log`)).toString()).toBe(
          'good a',
        );
        expect((await state.getManifest(logId))?.entries.map((e) => e.path)).toEqual(['a.log', 'b.log']);
        expect(store.puts.slice(putsBefore).filter((k) => k.startsWith(`extracted/${logId}/`))).toEqual([]);
      }
      expect(codes).toEqual(['crc_mismatch', 'corrupt']);
    });

    it('reports a missing archive as source_not_found and an empty one as not_zip', async () => {
      const logId = nextId();
      const missing = await extractArchive(
        { source: store, output: store, state },
        options(logId, `incoming/${logId}.zip`),
      ).catch((e: unknown) => e);
      expect((missing as LogzipError).code).toBe('source_not_found');
      await upload(`incoming/${logId}-empty.zip`, Buffer.alloc(0));
      const empty = await extractArchive(
        { source: store, output: store, state },
        options(logId, `incoming/${logId}-empty.zip`),
      ).catch((e: unknown) => e);
      expect((empty as LogzipError).code).toBe('not_zip');
    });

    it('stops cleanly when aborted: timeout, no manifest, no files', async () => {
      // Prepare
      const logId = nextId();
      const key = `incoming/${logId}.zip`;
      await upload(
        key,
        await buildZip(Array.from({ length: 40 }, (_, i) => ({ name: `f${i}.log`, data: `line ${i}\n` }))),
      );
      const controller = new AbortController();
      let written = 0;
      // Act: abort after a few files are written.
      const error = await extractArchive(
        { source: store, output: store, state },
        options(logId, key, {
          concurrency: 1,
          signal: controller.signal,
          onProgress: () => {
            if (++written === 5) controller.abort(new Error('deadline'));
          },
        }),
      ).catch((e: unknown) => e);
      // Assess
      expect((error as LogzipError).code).toBe('timeout');
      expect((error as LogzipError).retryable).toBe(true);
      expect(await keys(harness.store, harness.bucket, `extracted/${logId}/`)).toEqual([]);
      expect(await state.getManifest(logId)).toBeUndefined();
    });

    it('runs one extraction per log ID at a time: a concurrent duplicate gets already_extracted', async () => {
      // Prepare
      const logId = nextId();
      const key = `incoming/${logId}.zip`;
      await upload(
        key,
        await buildZip(
          Array.from({ length: 30 }, (_, i) => ({ name: `d/${i}.log`, data: `x${i}\n`.repeat(99) })),
        ),
      );
      // Act: the Lambda route and the queue route (or a duplicate event) at the same moment.
      const [a, b] = await Promise.all([
        extractArchive({ source: store, output: store, state }, options(logId, key)),
        extractArchive({ source: store, output: store, state }, options(logId, key)),
      ]);
      // Assess
      expect([a.status, b.status].sort()).toEqual(['already_extracted', 'extracted']);
      expect(await keys(harness.store, harness.bucket, `extracted/${logId}/`)).toHaveLength(30);
      expect(await keys(harness.store, harness.bucket, `logzip-state/leases/${logId}`)).toEqual([]);
    });

    it('waits for a live lease, then fails retryably; takes over an expired one', async () => {
      // Prepare
      const logId = nextId();
      const key = `incoming/${logId}.zip`;
      await upload(key, await buildZip([{ name: 'a.log', data: 'a' }]));
      expect(await state.acquireLease(logId, 'other-run', 60_000)).toBe(true);
      // Act
      const blocked = await extractArchive(
        { source: store, output: store, state },
        options(logId, key, { leaseWaitMs: 600 }),
      ).catch((e: unknown) => e);
      await state.releaseLease(logId, 'other-run');
      expect(await state.acquireLease(logId, 'dead-run', 1)).toBe(true);
      await new Promise((r) => setTimeout(r, 20));
      const afterExpiry = await extractArchive({ source: store, output: store, state }, options(logId, key));
      // Assess
      expect((blocked as LogzipError).code).toBe('storage_unavailable');
      expect((blocked as LogzipError).retryable).toBe(true);
      expect(afterExpiry.status).toBe('extracted');
    });

    it('fuzz bug 2: replaces a file with a folder of the same name (and the reverse)', async () => {
      // Prepare: on a filesystem the old file `a` blocks the new folder `a/` unless it goes first.
      const logId = nextId();
      await upload(
        `incoming/${logId}-1.zip`,
        writeZip([
          { name: 'a', data: 'x' },
          { name: 'logs/app.log', data: 'l' },
        ]),
      );
      await upload(
        `incoming/${logId}-2.zip`,
        writeZip([
          { name: 'a/b.log', data: 'y' },
          { name: 'logs', data: 'f' },
        ]),
      );
      await extractArchive(
        { source: store, output: store, state },
        options(logId, `incoming/${logId}-1.zip`),
      );
      // Act
      const result = await extractArchive(
        { source: store, output: store, state },
        options(logId, `incoming/${logId}-2.zip`),
      );
      // Assess
      expect(result.status).toBe('extracted');
      expect(await keys(harness.store, harness.bucket, `extracted/${logId}/`)).toEqual([
        `extracted/${logId}/a/b.log`,
        `extracted/${logId}/logs`,
      ]);
    });

    it('fuzz bug 1: a streamed entry failing in its first chunk is rejected, the process lives on', async () => {
      // Prepare: declared 4 MiB + 1 (so it is streamed), data that is not deflate at all.
      const logId = nextId();
      const key = `incoming/${logId}.zip`;
      await upload(
        key,
        writeZip([
          {
            name: 'a.log',
            method: 8,
            compressed: Buffer.alloc(4200, 0xff),
            uncompressedSize: 4 * 2 ** 20 + 1,
            crc32: 0,
          },
        ]),
      );
      // Act
      const error = await extractArchive({ source: store, output: store, state }, options(logId, key)).catch(
        (e: unknown) => e,
      );
      // Assess
      expect((error as LogzipError).code).toBe('corrupt');
      expect((error as LogzipError).entry).toBe('a.log');
      expect(await keys(harness.store, harness.bucket, `extracted/${logId}/`)).toEqual([]);
    });

    it('keeps the failure record truthful across attempts: retrying, failed, then resolved', async () => {
      // Prepare
      const logId = nextId();
      const badKey = `incoming/${logId}.zip`;
      await upload(badKey, Buffer.from('this is not a zip at all'));
      const deps = { source: store, output: store, state };
      // Act
      const first = await extractAndRecord(deps, options(logId, badKey), {
        route: 'queue',
        attempt: 1,
        maxAttempts: 3,
        jobId: 'j1',
      });
      await upload(badKey, await buildZip([{ name: 'fixed.log', data: 'ok' }]));
      const second = await extractAndRecord(deps, options(logId, badKey), {
        route: 'queue',
        attempt: 2,
        maxAttempts: 3,
        jobId: 'j1',
      });
      // Assess
      expect(first.ok).toBe(false);
      expect(first.ok ? undefined : first.record?.state).toBe('failed');
      expect(first.ok ? undefined : first.record?.stack).toContain('LogzipError');
      expect(second.ok).toBe(true);
      const record = await state.getFailure(logId);
      expect(record?.state).toBe('resolved');
      expect(record?.attempts).toHaveLength(1);
      expect(record?.code).toBe('not_zip');
    });
  });
}

describe('extractArchive on a large archive', () => {
  it('streams big entries and reads a large archive in ranges (folder)', async () => {
    // Prepare: one 24 MiB incompressible entry (above the one-GET and buffered thresholds) and small ones.
    const dir = await tempDir('engine-large');
    try {
      const store = createFsObjectStore({ rootDir: dir.path });
      const state = createStateStore({ store, bucket: 'b', prefix: 'logzip-state/' });
      const big = randomBytes(24 * 2 ** 20);
      const zip = await buildZip([
        { name: 'big.dmp', data: big, compression: 'STORE' },
        ...Array.from({ length: 50 }, (_, i) => ({ name: `small/${i}.log`, data: `log ${i}\n`.repeat(100) })),
      ]);
      await store.put('b', 'incoming/big1.zip', zip, { size: zip.length });
      // Act
      const result = await extractArchive(
        { source: store, output: store, state },
        {
          logId: 'big1',
          source: { bucket: 'b', key: 'incoming/big1.zip' },
          output: { bucket: 'b', prefix: 'extracted/' },
          limits: DEFAULT_LIMITS,
          fallbackEncoding: 'cp932',
        },
      );
      // Assess
      expect(result.entries).toHaveLength(51);
      expect((await store.get('b', 'extracted/big1/big.dmp')).equals(big)).toBe(true);
    } finally {
      await dir.cleanup();
    }
  });
});

describe.runIf(motoEnabled())('extractArchive through S3 faults', () => {
  it('classifies a storage 5xx as retryable and succeeds once storage recovers', async () => {
    // Prepare: every PUT of an extracted file fails with 500 InternalError until the rules are cleared.
    const admin = createMotoS3Client();
    const bucket = await createTestBucket(admin, 'engine-faults');
    const proxy = await startS3FaultProxy({ target: requireMoto() });
    try {
      const client = createS3Client(
        { AWS_ENDPOINT_URL_S3: proxy.url, AWS_REGION: 'us-east-1' },
        { credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 },
      );
      const store = createS3ObjectStore({ client });
      const state = createStateStore({ store, bucket, prefix: 'logzip-state/' });
      const zip = await buildZip([
        { name: 'a.log', data: 'a' },
        { name: 'b.log', data: 'b' },
      ]);
      await store.put(bucket, 'incoming/f1.zip', zip, { size: zip.length });
      proxy.setRules([{ method: 'PUT', path: `/${bucket}/extracted/`, fault: { kind: 'internal-error' } }]);
      const opts: ExtractOptions = {
        logId: 'f1',
        source: { bucket, key: 'incoming/f1.zip' },
        output: { bucket, prefix: 'extracted/' },
        limits: DEFAULT_LIMITS,
        fallbackEncoding: 'cp932',
      };
      // Act
      const error = await extractArchive({ source: store, output: store, state }, opts).catch(
        (e: unknown) => e,
      );
      proxy.clearRules();
      const result = await extractArchive({ source: store, output: store, state }, opts);
      // Assess
      expect((error as LogzipError).code).toBe('storage_unavailable');
      expect((error as LogzipError).retryable).toBe(true);
      expect(proxy.stats.byKind['internal-error']).toBeGreaterThan(0);
      expect(result.status).toBe('extracted');
      expect(await keys(store, bucket, 'extracted/f1/')).toEqual([
        'extracted/f1/a.log',
        'extracted/f1/b.log',
      ]);
    } finally {
      await proxy.close();
      await deleteTestBucket(admin, bucket);
    }
  });

  it('adapts write concurrency to S3: grows toward the socket pool, halves on 503 SlowDown, and finishes', async () => {
    // Prepare: 300 small files; the first PUT of 20 of them (keys 100-119) gets 503 SlowDown,
    // which the SDK retries (the retry goes through).
    const admin = createMotoS3Client();
    const bucket = await createTestBucket(admin, 'engine-slowdown');
    const slowed = new Set<string>();
    const proxy = await startS3FaultProxy({ target: requireMoto() });
    try {
      const client = createS3Client(
        { AWS_ENDPOINT_URL_S3: proxy.url, AWS_REGION: 'us-east-1' },
        { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
      );
      const store = createS3ObjectStore({ client, maxConcurrency: 32 });
      const state = createStateStore({ store, bucket, prefix: 'logzip-state/' });
      const names = Array.from({ length: 300 }, (_, i) => `f-${String(i).padStart(3, '0')}.log`);
      const zip = writeZip(names.map((name) => ({ name, data: `${name}\n`, method: 0 })));
      await store.put(bucket, 'incoming/s1.zip', zip, { size: zip.length });
      proxy.setRules([
        {
          method: 'PUT',
          path: `/${bucket}/extracted/s1/f-1`,
          when: (request) => {
            const first = !slowed.has(request.path) && Number(request.path.slice(-7, -4)) < 120;
            if (first) slowed.add(request.path);
            return first;
          },
          fault: { kind: 'slow-down' },
        },
      ]);
      const seen: number[] = [];
      // Act
      const result = await extractArchive(
        { source: store, output: store, state },
        {
          logId: 's1',
          source: { bucket, key: 'incoming/s1.zip' },
          output: { bucket, prefix: 'extracted/' },
          limits: DEFAULT_LIMITS,
          fallbackEncoding: 'cp932',
          onProgress: (p) => seen.push(p.writeConcurrency),
        },
      );
      // Assess
      expect(result.status).toBe('extracted');
      expect(await keys(store, bucket, 'extracted/s1/')).toHaveLength(300);
      expect(proxy.stats.byKind['slow-down']).toBe(20);
      const peak = Math.max(...seen.slice(0, 100));
      expect(peak).toBe(32);
      expect(Math.min(...seen.slice(100))).toBeLessThanOrEqual(peak / 8);
    } finally {
      await proxy.close();
      await deleteTestBucket(admin, bucket);
    }
  });
});
