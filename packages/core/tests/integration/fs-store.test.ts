/** What only the filesystem adapter has to get right: files, folders, temp files, foreign writers. */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer as readAll } from 'node:stream/consumers';
import { type TempDir, tempDir } from '@logzip/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileHashed } from '../../src/adapters/fs/files.js';
import { createFsObjectStore, createLocalFileSource } from '../../src/adapters/fs/index.js';
import { compareKeys } from '../../src/adapters/fs/paths.js';
import type { ObjectInfo, ObjectStore } from '../../src/ports/object-store.js';

const md5 = (bytes: Buffer | string) => createHash('md5').update(bytes).digest('hex');

async function listKeys(store: ObjectStore, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list(bucket, prefix)) keys.push(object.key);
  return keys;
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('filesystem ObjectStore', () => {
  let dir: TempDir;
  let store: ObjectStore;

  beforeEach(async () => {
    dir = await tempDir('fs-store');
    store = createFsObjectStore({ rootDir: dir.path });
  });
  afterEach(() => dir.cleanup());

  it('stores each object as a plain file at <rootDir>/<bucket>/<key>, byte for byte', async () => {
    // Prepare
    const body = Buffer.from([0, 1, 2, 255, 254, 10, 13]);

    // Act
    await store.put('bkt', 'extracted/54321/logs/日本語 1.log', body, {
      metadata: { source: 'x' },
      contentType: 'text/plain',
    });

    // Assess
    expect(await readFile(join(dir.path, 'bkt', 'extracted', '54321', 'logs', '日本語 1.log'))).toEqual(body);
    // Metadata and content type are not stored: the folder holds the object's bytes and nothing else.
    expect(await readdir(join(dir.path, 'bkt', 'extracted', '54321', 'logs'))).toEqual(['日本語 1.log']);
  });

  it('never shows a write in progress: the temp file is invisible to list() and head()', async () => {
    // Prepare
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* slowBody() {
      yield Buffer.from('first half, ');
      await gate;
      yield Buffer.from('second half');
    }

    // Act
    const put = store.put('bkt', 'out/slow.txt', Readable.from(slowBody(), { objectMode: false }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const filesDuring = await readdir(join(dir.path, 'bkt', 'out'));
    const listedDuring = await listKeys(store, 'bkt', 'out/');
    const headDuring = await store.head('bkt', 'out/slow.txt');
    release();
    await put;

    // Assess
    expect(filesDuring).toHaveLength(1);
    expect(filesDuring[0]).toMatch(/^\.logzip-tmp-/);
    expect(listedDuring).toEqual([]);
    expect(headDuring).toBeUndefined();
    expect(await listKeys(store, 'bkt', 'out/')).toEqual(['out/slow.txt']);
    expect(await readdir(join(dir.path, 'bkt', 'out'))).toEqual(['slow.txt']);
  });

  it('removes the temp file when the body fails', async () => {
    // Prepare
    async function* failing() {
      yield Buffer.from('partial');
      throw new Error('inflate failed');
    }

    // Act
    const error = await caught(
      store.put('bkt', 'out/bad.txt', Readable.from(failing(), { objectMode: false })),
    );

    // Assess
    expect(error).toMatchObject({ message: 'inflate failed' });
    expect(await readdir(join(dir.path, 'bkt', 'out'))).toEqual([]);
  });

  it('inPlace writes the file itself (no temp file), truncates an older one, and head() sees the new MD5', async () => {
    // Prepare: an older, longer object whose etag is cached
    await store.put('bkt', 'out/a.log', Buffer.from('an older and longer content'));
    expect((await store.head('bkt', 'out/a.log'))?.etag).toBe(md5('an older and longer content'));
    const big = Buffer.alloc(512 * 1024, 0x61);

    // Act
    const small = await store.put('bkt', 'out/a.log', Buffer.from('new'), { inPlace: true, size: 3 });
    await store.put('bkt', 'out/new/b.log', Readable.from([big.subarray(0, 1000), big.subarray(1000)]), {
      inPlace: true,
      size: big.length,
    });
    await store.put('bkt', 'out/c.log', big, { inPlace: true });

    // Assess
    expect(small.etag).toBe('');
    expect(await readFile(join(dir.path, 'bkt/out/a.log'), 'utf8')).toBe('new');
    expect((await store.head('bkt', 'out/a.log'))?.etag).toBe(md5('new'));
    expect(await readFile(join(dir.path, 'bkt/out/new/b.log'))).toEqual(big);
    expect(await readFile(join(dir.path, 'bkt/out/c.log'))).toEqual(big);
    expect((await readdir(join(dir.path, 'bkt/out'))).sort()).toEqual(['a.log', 'c.log', 'new']);
  });

  it('inPlace never writes through a symlink at the name, and removes its partial file when the body fails', async () => {
    // Prepare
    await mkdir(join(dir.path, 'bkt/out'), { recursive: true });
    await writeFile(join(dir.path, 'target.txt'), 'outside');
    await symlink(join(dir.path, 'target.txt'), join(dir.path, 'bkt/out/link.log'));
    async function* failing() {
      yield Buffer.from('partial');
      throw new Error('inflate failed');
    }

    // Act
    const viaLink = await caught(store.put('bkt', 'out/link.log', Buffer.from('x'), { inPlace: true }));
    const failed = await caught(
      store.put('bkt', 'out/bad.log', Readable.from(failing(), { objectMode: false }), { inPlace: true }),
    );

    // Assess
    expect(viaLink).toMatchObject({ code: 'storage_unavailable' });
    expect(await readFile(join(dir.path, 'target.txt'), 'utf8')).toBe('outside');
    expect(failed).toMatchObject({ message: 'inflate failed' });
    expect(await readdir(join(dir.path, 'bkt/out'))).toEqual(['link.log']);
  });

  it.each([
    ['../outside.txt'],
    ['a/../../outside.txt'],
    ['/absolute.txt'],
    ['a//b.txt'],
    ['a/./b.txt'],
    ['folder/'],
    ['nul\0byte'],
    ['x/.logzip-tmp-1234'],
  ])('refuses the key %j with unsafe_path, and reads it as missing', async (key) => {
    // Act
    const put = await caught(store.put('bkt', key, Buffer.from('x')));
    const head = await store.head('bkt', key);
    const get = await caught(store.get('bkt', key));

    // Assess
    expect(put).toMatchObject({ code: 'unsafe_path', entry: key });
    expect(head).toBeUndefined();
    expect(get).toMatchObject({ code: 'source_not_found' });
    expect(await readdir(dir.path)).toEqual([]);
  });

  it('refuses bucket names that are not one folder', async () => {
    // Act
    const errors = await Promise.all(
      ['..', '.', 'a/b', ''].map((bucket) => caught(store.put(bucket, 'k', Buffer.from('x')))),
    );

    // Assess
    for (const error of errors) expect(error).toMatchObject({ code: 'unsafe_path' });
  });

  it('refuses a key whose file name is longer than the filesystem allows (key_too_long)', async () => {
    // Act
    const error = await caught(store.put('bkt', `dir/${'ソ'.repeat(100)}.log`, Buffer.from('x')));

    // Assess
    expect(error).toMatchObject({ code: 'key_too_long' });
    expect(await readdir(join(dir.path, 'bkt', 'dir'))).toEqual([]);
  });

  it('refuses a file and a folder of one name (duplicate_entry), both ways', async () => {
    // Prepare
    await store.put('bkt', 'clash/a', Buffer.from('file'));
    await store.put('bkt', 'clash2/a/b', Buffer.from('file in folder'));

    // Act
    const under = await caught(store.put('bkt', 'clash/a/b', Buffer.from('x')));
    const over = await caught(store.put('bkt', 'clash2/a', Buffer.from('x')));
    const streamed = await caught(
      store.put('bkt', 'clash2/a', Readable.from([Buffer.from('x')], { objectMode: false }), { size: 1 }),
    );

    // Assess
    expect(under).toMatchObject({ code: 'duplicate_entry', entry: 'clash/a/b' });
    expect(over).toMatchObject({ code: 'duplicate_entry', entry: 'clash2/a' });
    expect(streamed).toMatchObject({ code: 'duplicate_entry', entry: 'clash2/a' });
    expect(await listKeys(store, 'bkt')).toEqual(['clash/a', 'clash2/a/b']);
  });

  it('gives files written by others an MD5 etag, and notices when they change', async () => {
    // Prepare
    await mkdir(join(dir.path, 'bkt', 'incoming'), { recursive: true });
    const file = join(dir.path, 'bkt', 'incoming', '54321.zip');
    await writeFile(file, 'version one');
    const first = await store.head('bkt', 'incoming/54321.zip');

    // Act: same size, new content; an explicit mtime so the test does not depend on clock granularity
    await writeFile(file, 'version two');
    const later = new Date(Math.floor(Date.now() / 1000) * 1000 + 5_000);
    await utimes(file, later, later);
    const second = await store.head('bkt', 'incoming/54321.zip');
    const listed: ObjectInfo[] = [];
    for await (const object of store.list('bkt', 'incoming/')) listed.push(object);

    // Assess
    expect(first).toMatchObject({ size: 11, etag: md5('version one') });
    expect(second).toMatchObject({ size: 11, etag: md5('version two') });
    expect(second?.lastModified.getTime()).toBe(later.getTime());
    expect(listed.map((o) => o.etag)).toEqual([md5('version two')]);
  });

  it('ignores folders, symlinks and special names when listing', async () => {
    // Prepare
    await store.put('bkt', 'p/real.txt', Buffer.from('x'));
    await mkdir(join(dir.path, 'bkt', 'p', 'empty-folder'));
    await writeFile(join(dir.path, 'bkt', 'p', '.logzip-tmp-leftover'), 'from a crash');

    // Act
    const keys = await listKeys(store, 'bkt', 'p/');
    const headOfFolder = await store.head('bkt', 'p/empty-folder');

    // Assess
    expect(keys).toEqual(['p/real.txt']);
    expect(headOfFolder).toBeUndefined();
  });

  it('lists unordered (a count) the same keys as in order, holding nothing, and honours startAfter', async () => {
    // Prepare
    const keys = ['s/b.json', 's/a.json', 's/d/e.json', 's/c.json', 's/\u{1f600}.json', 's/\u{ff5e}.json'];
    for (const key of keys) await store.put('bkt', key, Buffer.from('{}'));
    await writeFile(join(dir.path, 'bkt', 's', '.logzip-tmp-leftover'), 'from a crash');
    const unordered = async (options: { delimiter?: boolean; startAfter?: string }) => {
      const listed: string[] = [];
      for await (const o of store.list('bkt', 's/', { ...options, keysOnly: true, unordered: true }))
        listed.push(o.key);
      return listed.sort(compareKeys);
    };

    // Act
    const all = await unordered({});
    const oneLevel = await unordered({ delimiter: true });
    const after = await unordered({ startAfter: 's/c.json' });

    // Assess
    expect(all).toEqual(await listKeys(store, 'bkt', 's/'));
    expect(oneLevel).toEqual(all.filter((key) => key !== 's/d/e.json'));
    expect(after).toEqual(['s/d/e.json', 's/\u{ff5e}.json', 's/\u{1f600}.json']);
  });

  it('lists a folder larger than one pass in key order, resuming with startAfter inside a later pass', async () => {
    // Prepare
    const small = createFsObjectStore({ rootDir: dir.path, listPassNames: 3 });
    const keys = Array.from({ length: 40 }, (_, i) => `f/${String((i * 17) % 40).padStart(2, '0')}.json`);
    keys.push('f/sub/x.json', 'f/sub/y.json', 'f/\u{1f600}.json', 'f/\u{ff5e}.json');
    for (const key of keys) await small.put('bkt', key, Buffer.from('{}'));
    const expected = [...keys].sort(compareKeys);

    // Act
    const all = await listKeys(small, 'bkt', 'f/');
    const resumed: string[] = [];
    for await (const o of small.list('bkt', 'f/', { startAfter: 'f/21.json', keysOnly: true }))
      resumed.push(o.key);
    const oneLevel: string[] = [];
    for await (const o of small.list('bkt', 'f/', { delimiter: true })) oneLevel.push(o.key);

    // Assess
    expect(all).toEqual(expected);
    expect(resumed).toEqual(expected.slice(expected.indexOf('f/21.json') + 1));
    expect(oneLevel).toEqual(expected.filter((key) => !key.startsWith('f/sub/')));
  });

  it('orders keys by UTF-8 bytes without allocating (compareKeys agrees with Buffer.compare)', () => {
    // Prepare
    const units = ['a', 'z', '/', '-', '\u00e9', '\u{ff5e}', '\ue000', '\u{1f600}', '\u{10ffff}', '\u07ff'];
    const strings: string[] = [''];
    for (const x of units) for (const y of units) strings.push(x, x + y, `${x}${y}z`);

    // Act
    const mismatches = strings.flatMap((a) =>
      strings
        .filter((b) => Math.sign(compareKeys(a, b)) !== Buffer.compare(Buffer.from(a), Buffer.from(b)))
        .map((b) => [a, b]),
    );

    // Assess
    expect(mismatches).toEqual([]);
  });

  it('removes the folders a deletion leaves empty, but never the bucket folder', async () => {
    // Prepare
    await store.put('bkt', 'extracted/1/a/b/c.log', Buffer.from('x'));
    await store.put('bkt', 'extracted/1/a/d.log', Buffer.from('x'));
    await store.put('bkt', 'extracted/2/e.log', Buffer.from('x'));

    // Act
    await store.deleteMany('bkt', ['extracted/1/a/b/c.log', 'extracted/1/a/d.log']);
    const afterFirst = await readdir(join(dir.path, 'bkt', 'extracted'));
    await store.deleteMany('bkt', ['extracted/2/e.log']);

    // Assess
    expect(afterFirst).toEqual(['2']);
    expect(await readdir(join(dir.path, 'bkt'))).toEqual([]);
    expect((await stat(join(dir.path, 'bkt'))).isDirectory()).toBe(true);
  });

  it('lets exactly one of many concurrent ifNoneMatch writers win', async () => {
    // Act
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        store.put('bkt', 'leases/54321.json', Buffer.from(`{"owner":${i}}`), { ifNoneMatch: true }),
      ),
    );

    // Assess
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const losers = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(losers).toHaveLength(11);
    for (const loser of losers)
      expect(loser.reason).toMatchObject({ name: 'PreconditionFailedError', code: 'conflict' });
    expect(await readdir(join(dir.path, 'bkt', 'leases'))).toEqual(['54321.json']);
  });

  it('fsyncs when asked and still writes atomically', async () => {
    // Prepare
    const durable = createFsObjectStore({ rootDir: dir.path, fsync: true });

    // Act
    const { etag } = await durable.put('bkt', 'state/manifest.json', Buffer.from('{}'));

    // Assess
    expect(etag).toBe(md5('{}'));
    expect(await readFile(join(dir.path, 'bkt', 'state', 'manifest.json'), 'utf8')).toBe('{}');
  });
});

describe('createLocalFileSource', () => {
  let dir: TempDir;

  beforeEach(async () => {
    dir = await tempDir('local-source');
  });
  afterEach(() => dir.cleanup());

  it('serves one local file as bucket = its folder, key = its name, etag = its MD5', async () => {
    // Prepare
    const content = Buffer.from('PK\u0005\u0006 not really a zip, but bytes');
    await writeFile(join(dir.path, '54321-2026-11-28.zip'), content);

    // Act
    const source = createLocalFileSource(join(dir.path, '54321-2026-11-28.zip'));
    const info = await source.store.head(source.bucket, source.key);
    const listed: ObjectInfo[] = [];
    for await (const object of source.store.list(source.bucket, '')) listed.push(object);

    // Assess
    expect(source).toMatchObject({ bucket: dir.path, key: '54321-2026-11-28.zip' });
    expect(info).toMatchObject({ size: content.length, etag: md5(content), key: '54321-2026-11-28.zip' });
    expect((await source.store.get(source.bucket, source.key)).equals(content)).toBe(true);
    expect((await source.store.getRange(source.bucket, source.key, 0, 2)).toString()).toBe('PK');
    expect((await readAll(await source.store.getStream(source.bucket, source.key, 3, 6))).toString()).toBe(
      '\u0006 n',
    );
    expect(listed.map((o) => o.key)).toEqual(['54321-2026-11-28.zip']);
  });

  it('hands the bytes head hashed to get, and reads again when the file changed in between', async () => {
    // Prepare
    const path = join(dir.path, '54321-2026-11-28.zip');
    const first = Buffer.from('PK first version');
    const second = Buffer.from('PK second version, longer');
    await writeFile(path, first);
    const source = createLocalFileSource(path);

    // Act
    const firstInfo = await source.store.head(source.bucket, source.key);
    const firstGet = await source.store.get(source.bucket, source.key);
    const secondInfo = await source.store.head(source.bucket, source.key);
    await writeFile(path, second);
    const secondGet = await source.store.get(source.bucket, source.key);
    const thirdInfo = await source.store.head(source.bucket, source.key);

    // Assess
    expect(firstInfo?.etag).toBe(md5(first));
    expect(firstGet.equals(first)).toBe(true);
    expect(secondInfo?.etag).toBe(md5(first));
    expect(secondGet.equals(second)).toBe(true);
    expect(thirdInfo).toMatchObject({ etag: md5(second), size: second.length });
  });

  it('reads a file of several chunks and its MD5 in one pass, and returns less when the file is shorter', async () => {
    // Prepare: not a multiple of the 1 MiB chunk, different bytes in every chunk
    const content = Buffer.alloc(2.5 * 2 ** 20 + 7);
    for (let i = 0; i < content.length; i += 4096) content.writeUInt32LE(i, i);
    const path = join(dir.path, 'big.zip');
    await writeFile(path, content);

    // Act
    const whole = await readFileHashed(path, content.length);
    const asked = await readFileHashed(path, content.length + 10);
    const empty = await readFileHashed(path, 0);

    // Assess
    expect(whole.content.equals(content)).toBe(true);
    expect(whole.md5).toBe(md5(content));
    expect(asked.content.length).toBe(content.length);
    expect(asked.md5).toBe(md5(content));
    expect(empty).toEqual({ content: Buffer.alloc(0), md5: md5('') });
  });

  it('reads anything else as missing and refuses writes', async () => {
    // Prepare
    const source = createLocalFileSource(join(dir.path, 'absent.zip'));

    // Act
    const head = await source.store.head(source.bucket, source.key);
    const get = await caught(source.store.get(source.bucket, source.key));
    const other = await caught(source.store.get(source.bucket, 'other.zip'));
    const put = await caught(source.store.put(source.bucket, source.key, Buffer.from('x')));

    // Assess
    expect(head).toBeUndefined();
    expect(get).toMatchObject({ code: 'source_not_found' });
    expect(other).toMatchObject({ code: 'source_not_found' });
    expect(put).toMatchObject({ code: 'internal' });
  });
});
