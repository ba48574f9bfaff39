/**
 * One contract for every ObjectStore adapter: the filesystem one in a temp dir and the S3 one against
 * the run's moto_server (started by the integration global setup). Then S3 error mapping through the
 * fault-injecting proxy in front of moto.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer as readAll } from 'node:stream/consumers';
import { crc32 } from 'node:zlib';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  createTestBucket,
  deleteTestBucket,
  describeWithMoto,
  MOTO_CREDENTIALS,
  motoEnabled,
  requireMoto,
  type S3FaultProxy,
  startS3FaultProxy,
  tempDir,
} from '@logzip/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsObjectStore } from '../../src/adapters/fs/index.js';
import { crc32ToBase64, createS3Client, createS3ObjectStore } from '../../src/adapters/s3/index.js';
import { LogzipError } from '../../src/errors.js';
import { isPreconditionFailed, type ObjectInfo, type ObjectStore } from '../../src/ports/object-store.js';

interface Harness {
  store: ObjectStore;
  bucket: string;
  cleanup(): Promise<void>;
}

const md5 = (bytes: Buffer | string) => createHash('md5').update(bytes).digest('hex');
const EMPTY_MD5 = 'd41d8cd98f00b204e9800998ecf8427e';

async function collect(iterable: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

async function keysOf(
  store: ObjectStore,
  bucket: string,
  prefix: string,
  startAfter?: string,
): Promise<string[]> {
  const options = startAfter === undefined ? {} : { startAfter };
  return (await collect(store.list(bucket, prefix, options))).map((o) => o.key);
}

/** Runs `task` over `items` with `limit` in flight (moto serves ~150 small requests/s). */
async function inParallel<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await task(items[next++] as T);
    }),
  );
}

/** The error a promise rejects with (attached at once: no unhandled rejection while others are awaited). */
function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

function streamOf(...chunks: Array<string | Buffer>): Readable {
  return Readable.from(
    chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)),
    { objectMode: false },
  );
}

function defineStoreContract(name: string, enabled: boolean, open: () => Promise<Harness>): void {
  describe.runIf(enabled)(`ObjectStore contract: ${name}`, () => {
    let h: Harness;
    // Each test works under its own prefix in the suite's bucket.
    const unique = () => `t-${randomUUID()}/`;

    beforeAll(async () => {
      h = await open();
    });
    afterAll(async () => {
      await h?.cleanup();
    });

    it('puts a Buffer and reads it back with head, get, getRange and getStream', async () => {
      // Prepare
      const key = `${unique()}dir/app.log`;
      const body = Buffer.from('0123456789abcdefghij');

      // Act
      const { etag } = await h.store.put(h.bucket, key, body, { contentType: 'text/plain; charset=utf-8' });
      const info = await h.store.head(h.bucket, key);
      const whole = await h.store.get(h.bucket, key);
      const range = await h.store.getRange(h.bucket, key, 5, 10);
      const streamed = await readAll(await h.store.getStream(h.bucket, key, 10, 20));

      // Assess
      expect(etag).toBe(md5(body));
      expect(info).toMatchObject({ bucket: h.bucket, key, size: 20, etag: md5(body) });
      expect(info?.lastModified).toBeInstanceOf(Date);
      expect(Math.abs((info?.lastModified.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);
      expect(whole.equals(body)).toBe(true);
      expect(range.toString()).toBe('56789');
      expect(streamed.toString()).toBe('abcdefghij');
    });

    it('clamps ranges to the object and returns nothing past its end', async () => {
      // Prepare
      const key = `${unique()}short.txt`;
      await h.store.put(h.bucket, key, Buffer.from('hello'));

      // Act
      const tail = await h.store.getRange(h.bucket, key, 3, 100);
      const past = await h.store.getRange(h.bucket, key, 5, 10);
      const empty = await h.store.getRange(h.bucket, key, 2, 2);
      const streamedTail = await readAll(await h.store.getStream(h.bucket, key, 1, 100));

      // Assess
      expect(tail.toString()).toBe('lo');
      expect(past.length).toBe(0);
      expect(empty.length).toBe(0);
      expect(streamedTail.toString()).toBe('ello');
    });

    it('overwrites an object and reports the new etag', async () => {
      // Prepare
      const key = `${unique()}a.txt`;
      await h.store.put(h.bucket, key, Buffer.from('first'));

      // Act
      const { etag } = await h.store.put(h.bucket, key, Buffer.from('second!'));

      // Assess
      expect(etag).toBe(md5('second!'));
      expect((await h.store.get(h.bucket, key)).toString()).toBe('second!');
      expect((await h.store.head(h.bucket, key))?.size).toBe(7);
    });

    it('writes streams of a declared size, in one piece and past the 16 MiB multipart threshold', async () => {
      // Prepare
      const prefix = unique();
      const small = Buffer.alloc(300_000, 'x');
      const large = Buffer.alloc(17 * 1024 * 1024 + 123);
      for (let i = 0; i < large.length; i += 4096) large.writeUInt32BE(i, i);
      const chunks = (bytes: Buffer) =>
        Array.from({ length: Math.ceil(bytes.length / 65_536) }, (_, i) =>
          bytes.subarray(i * 65_536, (i + 1) * 65_536),
        );

      // Act
      const smallPut = await h.store.put(h.bucket, `${prefix}small.bin`, streamOf(...chunks(small)), {
        size: small.length,
      });
      const largePut = await h.store.put(h.bucket, `${prefix}large.bin`, streamOf(...chunks(large)), {
        size: large.length,
        contentType: 'application/octet-stream',
      });

      // Assess
      expect(smallPut.etag).toBe(md5(small));
      expect((await h.store.get(h.bucket, `${prefix}small.bin`)).equals(small)).toBe(true);
      const largeInfo = await h.store.head(h.bucket, `${prefix}large.bin`);
      expect(largeInfo?.size).toBe(large.length);
      expect(largeInfo?.etag).toBe(largePut.etag); // multipart ETags are not an MD5 on S3: only consistency
      const middle = await h.store.getRange(h.bucket, `${prefix}large.bin`, 9_000_000, 9_000_100);
      expect(middle.equals(large.subarray(9_000_000, 9_000_100))).toBe(true);
    });

    it('writes a stream without a declared size', async () => {
      // Prepare
      const key = `${unique()}unsized.txt`;

      // Act
      const { etag } = await h.store.put(h.bucket, key, streamOf('un', 'sized'));

      // Assess
      expect(etag).toBe(md5('unsized'));
      expect((await h.store.get(h.bucket, key)).toString()).toBe('unsized');
    });

    it('stores zero-byte objects from an empty Buffer and from an empty stream (a real round trip)', async () => {
      // Prepare
      const prefix = unique();

      // Act
      const fromBuffer = await h.store.put(h.bucket, `${prefix}empty-buffer`, Buffer.alloc(0));
      const fromStream = await h.store.put(h.bucket, `${prefix}empty-stream`, streamOf(), {
        size: 0,
        crc32: 0,
      });
      const listed = await collect(h.store.list(h.bucket, prefix));

      // Assess
      expect(fromBuffer.etag).toBe(EMPTY_MD5);
      expect(fromStream.etag).toBe(EMPTY_MD5);
      expect(await h.store.head(h.bucket, `${prefix}empty-buffer`)).toMatchObject({
        size: 0,
        etag: EMPTY_MD5,
      });
      expect((await h.store.get(h.bucket, `${prefix}empty-stream`)).length).toBe(0);
      expect((await h.store.getRange(h.bucket, `${prefix}empty-buffer`, 0, 10)).length).toBe(0);
      expect((await readAll(await h.store.getStream(h.bucket, `${prefix}empty-buffer`, 0, 0))).length).toBe(
        0,
      );
      expect(listed.map((o) => [o.key.slice(prefix.length), o.size])).toEqual([
        ['empty-buffer', 0],
        ['empty-stream', 0],
      ]);
    });

    it('accepts the CRC32 of the body on put', async () => {
      // Prepare
      const key = `${unique()}crc.txt`;
      const body = Buffer.from('checksummed body\n');

      // Act
      const { etag } = await h.store.put(h.bucket, key, body, { crc32: crc32(body) });

      // Assess
      expect(etag).toBe(md5(body));
    });

    it('keeps Japanese and space-containing keys exactly', async () => {
      // Prepare
      const prefix = unique();
      const keys = [
        `${prefix}日本語/ログ ファイル.log`,
        `${prefix}a b/c+d%20e.txt`,
        `${prefix}表示/ソ能.txt`,
      ];

      // Act
      for (const key of keys) await h.store.put(h.bucket, key, Buffer.from(key));
      const listed = await keysOf(h.store, h.bucket, prefix);

      // Assess
      expect(listed).toEqual([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
      for (const key of keys) {
        expect((await h.store.get(h.bucket, key)).toString()).toBe(key);
        expect((await h.store.head(h.bucket, key))?.key).toBe(key);
      }
    });

    it('lists in S3 key order: UTF-8 bytes, "-" before "/", folders interleaved', async () => {
      // Prepare
      const prefix = unique();
      // UTF-16 order would put the emoji (a surrogate pair) before U+FF5E; UTF-8 order puts it after.
      const keys = ['a/b', 'a-c', 'a0', 'b', '\u{ff5e}', '\u{1f600}', 'a/a/z', 'A'];
      for (const key of keys) await h.store.put(h.bucket, `${prefix}${key}`, Buffer.from(key));

      // Act
      const listed = (await keysOf(h.store, h.bucket, prefix)).map((k) => k.slice(prefix.length));

      // Assess
      expect(listed).toEqual(['A', 'a-c', 'a/a/z', 'a/b', 'a0', 'b', '\u{ff5e}', '\u{1f600}']);
    });

    it('lists by partial prefix, one level with the delimiter, and after a key', async () => {
      // Prepare
      const prefix = unique();
      for (const key of ['logs/1.log', 'logs/2.log', 'logs/sub/3.log', 'logsx/4.log', 'other.txt']) {
        await h.store.put(h.bucket, `${prefix}${key}`, Buffer.from(key));
      }
      const strip = (keys: string[]) => keys.map((k) => k.slice(prefix.length));

      // Act
      const partial = strip(await keysOf(h.store, h.bucket, `${prefix}logs`));
      const folder = strip(await keysOf(h.store, h.bucket, `${prefix}logs/`));
      const oneLevel = strip(
        (await collect(h.store.list(h.bucket, `${prefix}logs/`, { delimiter: true }))).map((o) => o.key),
      );
      const after = strip(await keysOf(h.store, h.bucket, prefix, `${prefix}logs/2.log`));
      const afterFolder = strip(await keysOf(h.store, h.bucket, prefix, `${prefix}logs/`));
      const nothing = await keysOf(h.store, h.bucket, `${prefix}nope/`);

      // Assess
      expect(partial).toEqual(['logs/1.log', 'logs/2.log', 'logs/sub/3.log', 'logsx/4.log']);
      expect(folder).toEqual(['logs/1.log', 'logs/2.log', 'logs/sub/3.log']);
      expect(oneLevel).toEqual(['logs/1.log', 'logs/2.log']);
      expect(after).toEqual(['logs/sub/3.log', 'logsx/4.log', 'other.txt']);
      expect(afterFolder).toEqual(['logs/1.log', 'logs/2.log', 'logs/sub/3.log', 'logsx/4.log', 'other.txt']);
      expect(nothing).toEqual([]);
    });

    it('lists more than 1,000 keys (S3 pages) and resumes with startAfter; deleteMany batches them', async () => {
      // Prepare
      const prefix = unique();
      const keys = Array.from({ length: 1_005 }, (_, i) => `${prefix}k${String(i).padStart(5, '0')}`);
      await inParallel(keys, 16, (key) => h.store.put(h.bucket, key, Buffer.alloc(0)));

      // Act
      const all = await keysOf(h.store, h.bucket, prefix);
      const resumed = await keysOf(h.store, h.bucket, prefix, keys[998]);
      await h.store.deleteMany(h.bucket, [...keys, ...keys.slice(0, 3)]); // duplicates are fine
      const afterDelete = await keysOf(h.store, h.bucket, prefix);

      // Assess
      expect(all).toEqual(keys);
      expect(resumed).toEqual(keys.slice(999));
      expect(afterDelete).toEqual([]);
    });

    it('deletes some keys, ignores missing ones, and leaves neighbours alone', async () => {
      // Prepare
      const prefix = unique();
      for (const key of ['x/1', 'x/2', 'x/deep/3', 'y/4'])
        await h.store.put(h.bucket, `${prefix}${key}`, Buffer.from(key));

      // Act
      await h.store.deleteMany(h.bucket, [
        `${prefix}x/1`,
        `${prefix}x/deep/3`,
        `${prefix}missing`,
        `${prefix}x`,
      ]);
      await h.store.deleteMany(h.bucket, []);

      // Assess
      expect(await keysOf(h.store, h.bucket, prefix)).toEqual([`${prefix}x/2`, `${prefix}y/4`]);
      expect(await h.store.head(h.bucket, `${prefix}x/1`)).toBeUndefined();
    });

    it('refuses to overwrite with ifNoneMatch (PreconditionFailedError, code conflict)', async () => {
      // Prepare
      const key = `${unique()}lease.json`;
      const created = await h.store.put(h.bucket, key, Buffer.from('{"owner":"a"}'), { ifNoneMatch: true });

      // Act
      const second = h.store.put(h.bucket, key, Buffer.from('{"owner":"b"}'), { ifNoneMatch: true });

      // Assess
      await expect(second).rejects.toSatisfy(isPreconditionFailed);
      await expect(second).rejects.toMatchObject({ code: 'conflict', retryable: false, key });
      expect(created.etag).toBe(md5('{"owner":"a"}'));
      expect((await h.store.get(h.bucket, key)).toString()).toBe('{"owner":"a"}');
    });

    it('maps a missing object: head → undefined, reads → source_not_found', async () => {
      // Prepare
      const key = `${unique()}missing.txt`;

      // Act
      const head = await h.store.head(h.bucket, key);
      const errors = await Promise.all([
        caught(h.store.get(h.bucket, key)),
        caught(h.store.getRange(h.bucket, key, 0, 10)),
        caught(h.store.getRange(h.bucket, key, 0, 0)),
        caught(h.store.getStream(h.bucket, key, 0, 10)),
      ]);

      // Assess
      expect(head).toBeUndefined();
      for (const error of errors) {
        expect(error).toBeInstanceOf(LogzipError);
        expect(error).toMatchObject({ code: 'source_not_found', retryable: false });
      }
    });

    it('passes a failing body stream through untouched and stores nothing', async () => {
      // Prepare
      const key = `${unique()}broken.bin`;
      const defect = new LogzipError('crc_mismatch', 'CRC32 mismatch', { entry: 'broken.bin' });
      async function* broken() {
        yield Buffer.from('some bytes');
        throw defect;
      }

      // Act
      const put = h.store.put(h.bucket, key, Readable.from(broken(), { objectMode: false }), { size: 1_000 });

      // Assess
      await expect(put).rejects.toBe(defect);
      expect(await h.store.head(h.bucket, key)).toBeUndefined();
    });

    it('refuses a stream whose length differs from the declared size', async () => {
      // Prepare
      const key = `${unique()}wrong-size.bin`;

      // Act
      const longer = await caught(h.store.put(h.bucket, key, streamOf('12345'), { size: 3 }));
      const shorter = await caught(h.store.put(h.bucket, key, streamOf('12'), { size: 3 }));

      // Assess
      expect(longer).toMatchObject({ code: 'internal' });
      expect(shorter).toMatchObject({ code: 'internal' });
      expect(await h.store.head(h.bucket, key)).toBeUndefined();
    });
  });
}

defineStoreContract('filesystem', true, async () => {
  const dir = await tempDir('store-contract');
  return { store: createFsObjectStore({ rootDir: dir.path }), bucket: 'bucket-a', cleanup: dir.cleanup };
});

defineStoreContract('filesystem, thread-pool writes only', true, async () => {
  const dir = await tempDir('store-contract-async');
  const store = createFsObjectStore({ rootDir: dir.path, syncWriteMaxBytes: 0, fsync: true });
  return { store, bucket: 'bucket-b', cleanup: dir.cleanup };
});

defineStoreContract('S3 (moto)', motoEnabled(), async () => {
  const client = createS3Client({ AWS_ENDPOINT_URL_S3: requireMoto() }, { credentials: MOTO_CREDENTIALS });
  const bucket = await createTestBucket(client, 'contract');
  return {
    store: createS3ObjectStore({ client }),
    bucket,
    cleanup: async () => {
      await deleteTestBucket(client, bucket);
      client.destroy();
    },
  };
});

describeWithMoto('S3 adapter through the fault proxy', () => {
  let proxy: S3FaultProxy;
  let direct: S3Client;
  let bucket: string;
  const key = 'objects/data.bin';
  const body = Buffer.alloc(64 * 1024, 7);

  /** A store whose client talks to the proxy; one SDK attempt unless told otherwise. */
  function storeVia(options: { maxAttempts?: number; socketTimeoutMs?: number } = {}) {
    const client = createS3Client(
      { AWS_ENDPOINT_URL_S3: proxy.url },
      { credentials: MOTO_CREDENTIALS, maxAttempts: options.maxAttempts ?? 1, ...options },
    );
    return createS3ObjectStore({ client });
  }

  beforeAll(async () => {
    const moto = requireMoto();
    proxy = await startS3FaultProxy({ target: moto });
    direct = createS3Client({ AWS_ENDPOINT_URL_S3: moto }, { credentials: MOTO_CREDENTIALS });
    bucket = await createTestBucket(direct, 'faults');
    await createS3ObjectStore({ client: direct }).put(bucket, key, body);
  });
  afterAll(async () => {
    await proxy?.close();
    if (bucket !== undefined) await deleteTestBucket(direct, bucket);
    direct?.destroy();
  });

  it('sends ContentType, metadata and the CRC32 checksum (moto does not verify the value)', async () => {
    // Prepare
    proxy.clearRules();
    proxy.resetStats();
    const store = storeVia();
    const payload = Buffer.from('2026-11-28 10:00:00 INFO started\n');
    const checksum = crc32(payload);

    // Act
    await store.put(bucket, 'crc/app.log', payload, {
      crc32: checksum,
      contentType: 'text/plain; charset=utf-8',
      metadata: { 'logzip-source': 'incoming/54321.zip' },
    });
    const stored = await direct.send(new HeadObjectCommand({ Bucket: bucket, Key: 'crc/app.log' }));

    // Assess: what this proves is that the adapter sends the right header (base64 of the big-endian
    // CRC32); moto accepts any value, so only AWS itself checks the stored bytes against it.
    const put = proxy.requests.find((r) => r.method === 'PUT' && r.path === `/${bucket}/crc/app.log`);
    expect(put?.headers['x-amz-checksum-crc32']).toBe(crc32ToBase64(checksum));
    expect(put?.headers['content-length']).toBe(String(payload.length));
    expect(stored.ContentType).toBe('text/plain; charset=utf-8');
    expect(stored.Metadata).toEqual({ 'logzip-source': 'incoming/54321.zip' });
  });

  it('sends an empty body with Content-Length 0 and no aws-chunked encoding', async () => {
    // Prepare
    proxy.clearRules();
    proxy.resetStats();

    // Act
    await storeVia().put(bucket, 'zero/empty.log', Buffer.alloc(0), { crc32: 0 });

    // Assess
    const put = proxy.requests.find((r) => r.method === 'PUT' && r.path === `/${bucket}/zero/empty.log`);
    expect(put?.headers['content-length']).toBe('0');
    expect(put?.headers['content-encoding'] ?? '').not.toContain('aws-chunked');
    expect(put?.headers['x-amz-checksum-crc32']).toBe('AAAAAA==');
  });

  it.each([
    { fault: { kind: 'internal-error' } as const, what: 'InternalError 500' },
    { fault: { kind: 'slow-down' } as const, what: 'SlowDown 503' },
    { fault: { kind: 'reset' } as const, what: 'ECONNRESET' },
  ])('maps $fault.kind on GET to storage_unavailable (retryable)', async ({ fault, what }) => {
    // Prepare
    proxy.setRules([{ method: 'GET', path: `/${bucket}/${key}`, fault }]);
    proxy.resetStats();
    const store = storeVia();

    // Act
    const results = await Promise.allSettled([store.get(bucket, key), store.getRange(bucket, key, 0, 10)]);

    // Assess
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const error = (result as PromiseRejectedResult).reason;
      expect(error).toBeInstanceOf(LogzipError);
      expect(error).toMatchObject({ code: 'storage_unavailable', retryable: true });
      expect(error.message).toContain(what);
      expect(error.cause).toBeDefined();
    }
    expect(proxy.stats.faults).toBe(2);
    expect(proxy.stats.byKind[fault.kind]).toBe(2);
  });

  it('maps a connection reset in the middle of a body, for get and getStream', async () => {
    // Prepare
    proxy.setRules([
      { method: 'GET', path: `/${bucket}/${key}`, fault: { kind: 'reset-mid-body', afterBytes: 1000 } },
    ]);
    proxy.resetStats();
    const store = storeVia();

    // Act
    const get = await caught(store.get(bucket, key));
    const stream = await store.getStream(bucket, key, 0, body.length); // headers arrive: the stream opens
    const streamed = await caught(readAll(stream));

    // Assess
    expect(get).toMatchObject({ code: 'storage_unavailable', retryable: true });
    expect(streamed).toMatchObject({ code: 'storage_unavailable', retryable: true });
    expect(proxy.stats.byKind['reset-mid-body']).toBe(2);
  });

  it('maps faults on put, list and deleteMany', async () => {
    // Prepare
    proxy.setRules([
      { method: 'PUT', fault: { kind: 'internal-error' } },
      { method: 'GET', query: 'list-type', fault: { kind: 'slow-down' } },
      { method: 'POST', query: 'delete', fault: { kind: 'reset' } },
    ]);
    const store = storeVia();

    // Act
    const errors = await Promise.all([
      caught(store.put(bucket, 'p/x.txt', Buffer.from('x'))),
      caught(collect(store.list(bucket, 'objects/'))),
      caught(store.deleteMany(bucket, ['objects/nothing'])),
    ]);

    // Assess
    for (const error of errors) expect(error).toMatchObject({ code: 'storage_unavailable', retryable: true });
  });

  it('reports per-key DeleteObjects errors', async () => {
    // Prepare
    proxy.setRules([
      {
        method: 'POST',
        query: 'delete',
        fault: {
          kind: 'response',
          status: 200,
          body:
            '<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
            '<Error><Key>a.txt</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>',
        },
      },
    ]);

    // Act
    const del = storeVia().deleteMany(bucket, ['a.txt', 'b.txt']);

    // Assess
    await expect(del).rejects.toMatchObject({ code: 'storage_unavailable' });
    await expect(del).rejects.toThrow(/1 of 2 keys not deleted.*access denied.*a\.txt: AccessDenied/);
  });

  it('says clearly when S3 denies access (403), still as storage_unavailable', async () => {
    // Prepare
    proxy.setRules([{ method: 'GET', fault: { kind: 's3-error', status: 403, code: 'AccessDenied' } }]);

    // Act
    const get = storeVia().get(bucket, key);

    // Assess
    await expect(get).rejects.toMatchObject({ code: 'storage_unavailable' });
    await expect(get).rejects.toThrow(/S3 denied access.*AccessDenied 403.*IAM policy/);
  });

  it('maps a 404 through the proxy to source_not_found, and a head of a missing key to undefined', async () => {
    // Prepare
    proxy.clearRules();
    const store = storeVia();

    // Act
    const get = await caught(store.get(bucket, 'objects/absent.bin'));
    const head = await store.head(bucket, 'objects/absent.bin');

    // Assess
    expect(get).toMatchObject({ code: 'source_not_found', retryable: false });
    expect(head).toBeUndefined();
  });

  it('recovers from one 500 with the SDK retry, counting both requests', async () => {
    // Prepare
    proxy.setRules([
      { method: 'GET', path: `/${bucket}/${key}`, times: 1, fault: { kind: 'internal-error' } },
    ]);
    proxy.resetStats();

    // Act
    const got = await storeVia({ maxAttempts: 3 }).get(bucket, key);

    // Assess
    expect(got.equals(body)).toBe(true);
    expect(proxy.stats).toMatchObject({ requests: 2, faults: 1 });
    expect(proxy.requests.map((r) => r.fault)).toEqual(['internal-error', undefined]);
  });

  it('skips, limits and reconfigures rules at runtime', async () => {
    // Prepare
    proxy.setRules([
      {
        name: 'second-get',
        method: 'GET',
        path: `/${bucket}/${key}`,
        skip: 1,
        times: 1,
        fault: { kind: 'slow-down' },
      },
    ]);
    proxy.resetStats();
    const store = storeVia();

    // Act
    const first = await store.getRange(bucket, key, 0, 4);
    const second = await store.getRange(bucket, key, 0, 4).catch((error: unknown) => error);
    const third = await store.getRange(bucket, key, 0, 4);
    proxy.setRules([{ method: 'HEAD', fault: { kind: 'internal-error' } }]);
    const head = await store.head(bucket, key).catch((error: unknown) => error);

    // Assess
    expect(first.length).toBe(4);
    expect(second).toMatchObject({ code: 'storage_unavailable' });
    expect(third.length).toBe(4);
    expect(head).toMatchObject({ code: 'storage_unavailable' });
    expect(proxy.stats.byRule).toEqual({ 'second-get': 1, 'internal-error': 1 });
  });

  it('turns a stalled response into storage_unavailable (socket timeout via injected latency)', async () => {
    // Prepare
    proxy.setRules([{ method: 'GET', path: `/${bucket}/${key}`, fault: { kind: 'latency', ms: 1_500 } }]);
    const store = storeVia({ socketTimeoutMs: 300 });

    // Act
    const started = Date.now();
    const get = store.get(bucket, key);

    // Assess
    await expect(get).rejects.toMatchObject({ code: 'storage_unavailable', retryable: true });
    expect(Date.now() - started).toBeLessThan(1_400);
  });

  it('forwards untouched when no rule matches, and latency only delays', async () => {
    // Prepare
    proxy.setRules([{ method: 'GET', path: `/${bucket}/${key}`, fault: { kind: 'latency', ms: 200 } }]);
    const store = storeVia();

    // Act
    const started = Date.now();
    const got = await store.get(bucket, key);
    const elapsed = Date.now() - started;

    // Assess
    expect(got.equals(body)).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(190);
  });
});
