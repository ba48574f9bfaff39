import { createHash, type Hash, randomBytes } from 'node:crypto';
import type { BigIntStats, Dir, Dirent } from 'node:fs';
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { link, mkdir, open, opendir, readFile, rename, rmdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { LogzipError } from '../../errors.js';
import type { ListOptions, ObjectInfo, ObjectStore, PutOptions } from '../../ports/object-store.js';
import { PreconditionFailedError } from '../../ports/object-store.js';
import {
  checkRange,
  EtagCache,
  errnoCode,
  fsUnavailable,
  isMissing,
  notFound,
  openFileStream,
  readFileRange,
  statFile,
} from './files.js';
import { bucketDir, compareKeys, existingObjectPath, objectPath, TEMP_PREFIX } from './paths.js';

export interface FsObjectStoreOptions {
  /** Buckets are the folders directly under this one. */
  rootDir: string;
  /**
   * fsync each file before its rename, so a power loss never leaves a renamed but empty file.
   * Costs a disk flush per object; off by default (renames are atomic either way).
   */
  fsync?: boolean;
  /**
   * Buffers up to this size are written with synchronous fs calls, 3-4 times faster per file than the
   * thread pool for the small files log archives are full of (default 256 KiB; 0 turns it off).
   */
  syncWriteMaxBytes?: number;
  /**
   * Names list() holds per pass over a large folder, at least (default 50,000): it reads the folder
   * again for each next slice in key order instead of holding and sorting all its names.
   */
  listPassNames?: number;
}

const HASH_CONCURRENCY = 16;
/** Files of one folder stat-ed and hashed before list() yields them. */
const LIST_CHUNK = 512;
/** Passes over a large folder after the first, at most (a pass holds 1/LIST_PASSES of its names). */
const LIST_PASSES = 4;
const DELETE_CONCURRENCY = 16;

/**
 * An ObjectStore over local folders: `<rootDir>/<bucket>/<key>`, one file per object.
 *
 * - Writes are atomic: a temp file (`.logzip-tmp-*`) in the destination folder, then a rename; readers
 *   and list() never see a partial object. `inPlace` puts (the engine's extracted files, whose
 *   manifest proves completeness) skip the temp file, the rename and the MD5. Small Buffers take a synchronous fast path (see
 *   `syncWriteMaxBytes`); streams and large Buffers use the promise API.
 * - ETags are the MD5 hex of the content, like S3's for single-part uploads: computed while writing,
 *   and for files written by others computed on first use and cached by inode + size + mtime.
 * - `contentType` and `metadata` are accepted and ignored: a folder holds only the objects' own bytes
 *   (no sidecar files under an output prefix); the port never reads them back.
 * - Keys that cannot be a file inside the bucket folder (`..`, `.`, empty segments, NUL) are refused
 *   on write with `unsafe_path` and read as missing. A key that needs a folder where a file is (or
 *   the reverse) is refused with `duplicate_entry`: a folder cannot hold both `a` and `a/b`.
 * - put() creates the bucket folder when missing; deleteMany() removes folders it leaves empty.
 * - `ifNoneMatch` uses link(2), which refuses an existing target atomically.
 * - list() walks in S3 key order (UTF-8 bytes) without paging; symlinks and special files are skipped.
 *
 * @example
 * ```ts
 * const store = createFsObjectStore({ rootDir: '.logzip/data' });
 * await store.put('logzip-local', 'extracted/54321/app.log', Buffer.from('hello\n'));
 * ```
 */
export function createFsObjectStore(options: FsObjectStoreOptions): ObjectStore {
  return new FsObjectStore(options);
}

class FsObjectStore implements ObjectStore {
  readonly #root: string;
  readonly #fsync: boolean;
  readonly #syncWriteMaxBytes: number;
  readonly #listPassNames: number;
  readonly #etags = new EtagCache();

  constructor(options: FsObjectStoreOptions) {
    this.#root = options.rootDir;
    this.#fsync = options.fsync ?? false;
    this.#syncWriteMaxBytes = options.syncWriteMaxBytes ?? 256 * 1024;
    this.#listPassNames = options.listPassNames ?? 50_000;
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    const path = existingObjectPath(this.#root, bucket, key);
    if (path === undefined) return undefined;
    try {
      const stats = await statFile(path);
      if (stats === undefined) return undefined;
      return await this.#info(bucket, key, path, stats);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw fsUnavailable('head', bucket, key, error);
    }
  }

  async get(bucket: string, key: string): Promise<Buffer> {
    const path = existingObjectPath(this.#root, bucket, key);
    if (path === undefined) throw notFound(bucket, key);
    try {
      return await readFile(path);
    } catch (error) {
      if (isMissing(error)) throw notFound(bucket, key, error);
      throw fsUnavailable('read', bucket, key, error);
    }
  }

  async getRange(bucket: string, key: string, start: number, end: number): Promise<Buffer> {
    checkRange(start, end);
    const path = existingObjectPath(this.#root, bucket, key);
    if (path === undefined) throw notFound(bucket, key);
    try {
      return await readFileRange(path, start, end);
    } catch (error) {
      if (isMissing(error)) throw notFound(bucket, key, error);
      throw fsUnavailable('read', bucket, key, error);
    }
  }

  async getStream(bucket: string, key: string, start: number, end: number): Promise<Readable> {
    checkRange(start, end);
    const path = existingObjectPath(this.#root, bucket, key);
    if (path === undefined) throw notFound(bucket, key);
    try {
      return await openFileStream(path, start, end);
    } catch (error) {
      if (isMissing(error)) throw notFound(bucket, key, error);
      throw fsUnavailable('read', bucket, key, error);
    }
  }

  async put(
    bucket: string,
    key: string,
    body: Buffer | Readable,
    options: PutOptions = {},
  ): Promise<{ etag: string }> {
    let path: string;
    try {
      path = objectPath(this.#root, bucket, key);
    } catch (error) {
      if (!Buffer.isBuffer(body)) body.destroy();
      throw error;
    }
    if (options.inPlace && !options.ifNoneMatch) {
      await this.#putInPlace(bucket, key, path, body, options.size);
      return { etag: '' };
    }
    const temp = join(dirname(path), `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    if (Buffer.isBuffer(body) && body.length <= this.#syncWriteMaxBytes) {
      if (options.size !== undefined && options.size !== body.length) {
        throw sizeMismatch(bucket, key, options.size, body.length);
      }
      return this.#putSmallSync(bucket, key, path, temp, body, options.ifNoneMatch ?? false);
    }
    const { etag, stats } = await this.#writeTemp(bucket, key, temp, body, options.size);
    try {
      if (options.ifNoneMatch) {
        // link(2) fails with EEXIST when the target exists: an atomic create-only rename.
        await link(temp, path);
        await unlink(temp).catch(() => undefined);
      } else {
        await rename(temp, path);
      }
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw commitError(bucket, key, options.ifNoneMatch ?? false, error);
    }
    this.#etags.remember(path, stats, etag);
    return { etag };
  }

  /**
   * `inPlace`: the file itself is opened (created or truncated; a symlink there is refused) and
   * written: three syscalls for a small file instead of five, and no MD5. Whoever asked for it
   * proves completeness otherwise (a manifest written last) and removes leftovers after a failure;
   * a failed write still removes its own partial file.
   */
  async #putInPlace(
    bucket: string,
    key: string,
    path: string,
    body: Buffer | Readable,
    size: number | undefined,
  ): Promise<void> {
    this.#etags.forget(path);
    if (Buffer.isBuffer(body)) {
      if (size !== undefined && size !== body.length) throw sizeMismatch(bucket, key, size, body.length);
      if (body.length <= this.#syncWriteMaxBytes) {
        writeInPlaceSync(bucket, key, path, body, this.#fsync);
        return;
      }
    }
    const handle = await openForWrite(bucket, key, path, IN_PLACE_FLAGS);
    let closed = false;
    try {
      await writeBody(handle, body, { bucket, key, size, fsync: this.#fsync });
      closed = true;
      await handle.close();
    } catch (error) {
      if (!closed) await handle.close().catch(() => undefined);
      await unlink(path).catch(() => undefined);
      if (!Buffer.isBuffer(body) && !body.destroyed) body.destroy();
      throw error;
    }
  }

  /**
   * Small Buffers (most files of a log archive) are written with synchronous calls: a handful of
   * syscalls take ~70 µs here, while each promise-based fs call waits for the libuv thread pool
   * (~250 µs per file in all on this machine). The event loop is held for about that long.
   */
  #putSmallSync(
    bucket: string,
    key: string,
    path: string,
    temp: string,
    body: Buffer,
    ifNoneMatch: boolean,
  ): { etag: string } {
    const etag = createHash('md5').update(body).digest('hex');
    let fd: number | undefined;
    let stats: BigIntStats;
    try {
      fd = openTempSync(bucket, key, temp);
      let offset = 0;
      while (offset < body.length) offset += writeSync(fd, body, offset, body.length - offset);
      if (this.#fsync) fsyncSync(fd);
      stats = fstatSync(fd, { bigint: true });
      closeSync(fd);
      fd = undefined;
    } catch (error) {
      if (fd !== undefined) closeSync(fd);
      removeQuietly(temp);
      if (error instanceof LogzipError) throw error;
      throw fsUnavailable('write', bucket, key, error);
    }
    try {
      if (ifNoneMatch) {
        linkSync(temp, path);
        removeQuietly(temp);
      } else {
        renameSync(temp, path);
      }
    } catch (error) {
      removeQuietly(temp);
      throw commitError(bucket, key, ifNoneMatch, error);
    }
    this.#etags.remember(path, stats, etag);
    return { etag };
  }

  async deleteMany(bucket: string, keys: readonly string[]): Promise<void> {
    const paths = [...new Set(keys)]
      .map((key) => ({ key, path: existingObjectPath(this.#root, bucket, key) }))
      .filter((item): item is { key: string; path: string } => item.path !== undefined);
    const parents = new Set<string>();
    await runConcurrently(paths, DELETE_CONCURRENCY, async ({ key, path }) => {
      this.#etags.forget(path);
      try {
        await unlink(path);
        parents.add(dirname(path));
      } catch (error) {
        if (isMissing(error)) return; // missing keys are not an error; a folder is not an object
        // unlink(2) on a folder is EPERM on some systems: only a file there is a real failure.
        if (errnoCode(error) === 'EPERM' && (await statFile(path)) === undefined) return;
        throw fsUnavailable('delete', bucket, key, error);
      }
    });
    // S3 has no folders: remove the ones the deletions left empty, up to (not including) the bucket.
    const top = bucketDir(this.#root, bucket);
    const deepestFirst = [...parents].sort((a, b) => b.length - a.length);
    for (const start of deepestFirst) {
      let dir = start;
      while (dir.length > top.length && dir.startsWith(top)) {
        try {
          await rmdir(dir);
        } catch {
          break; // not empty (or already gone): its parents are not empty either
        }
        dir = dirname(dir);
      }
    }
  }

  async *list(bucket: string, prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    if (existingObjectPath(this.#root, bucket, 'x') === undefined) return;
    const cut = prefix.lastIndexOf('/');
    const dirPart = cut === -1 ? '' : prefix.slice(0, cut + 1);
    const namePrefix = prefix.slice(cut + 1);
    if (dirPart !== '' && existingObjectPath(this.#root, bucket, `${dirPart}x`) === undefined) return;
    const dir = join(this.#root, bucket, ...dirPart.split('/').filter((s) => s !== ''));
    yield* this.#walk(bucket, dir, dirPart, namePrefix, options.startAfter, options.delimiter ?? false, {
      keysOnly: options.keysOnly ?? false,
      unordered: options.unordered ?? false,
    });
  }

  async *#walk(
    bucket: string,
    dir: string,
    keyPrefix: string,
    namePrefix: string,
    startAfter: string | undefined,
    oneLevel: boolean,
    how: { keysOnly: boolean; unordered: boolean },
  ): AsyncGenerator<ObjectInfo> {
    // A folder is named "name/": its keys all start with that, so sorting it so walks in key order.
    const keep = (dirent: Dirent): string | undefined => {
      if (!dirent.name.startsWith(namePrefix) || dirent.name.startsWith(TEMP_PREFIX)) return undefined;
      const isDirectory = dirent.isDirectory();
      if (!dirent.isFile() && !(isDirectory && !oneLevel)) return undefined;
      const name = isDirectory ? `${dirent.name}/` : dirent.name;
      if (startAfter !== undefined && !isAfter(keyPrefix + name, startAfter, isDirectory)) return undefined;
      return name;
    };
    const below = (name: string) =>
      this.#walk(bucket, join(dir, name.slice(0, -1)), keyPrefix + name, '', startAfter, false, how);
    if (how.unordered) {
      for await (const name of this.#names(bucket, dir, keyPrefix, keep)) {
        if (name.endsWith('/')) yield* below(name);
        else {
          const info = await this.#infoIfFile(bucket, keyPrefix + name, join(dir, name), how.keysOnly);
          if (info !== undefined) yield info;
        }
      }
      return;
    }
    // A folder of a million state objects is never held whole: each pass reads it as a stream and
    // keeps only the next `size` names in key order (the first pass learns how many there are, so
    // a folder takes at most LIST_PASSES more passes).
    let after: string | undefined;
    let size = this.#listPassNames;
    for (let pass = 0; ; pass++) {
      const { names, seen } = await this.#smallest(bucket, dir, keyPrefix, keep, after, size);
      // Hash the files a chunk at a time and yield in order: never a pass's worth of ObjectInfos.
      for (let start = 0; start < names.length; start += LIST_CHUNK) {
        const chunk = names.slice(start, start + LIST_CHUNK);
        const infos = new Map<string, ObjectInfo | undefined>();
        await runConcurrently(
          chunk.filter((name) => !name.endsWith('/')),
          HASH_CONCURRENCY,
          async (name) => {
            infos.set(name, await this.#infoIfFile(bucket, keyPrefix + name, join(dir, name), how.keysOnly));
          },
        );
        for (const name of chunk) {
          if (name.endsWith('/')) yield* below(name);
          else {
            const info = infos.get(name);
            if (info !== undefined) yield info;
          }
        }
      }
      if (seen <= size) return; // this pass held every name left
      after = names[names.length - 1];
      if (pass === 0) size = Math.max(size, Math.ceil((seen - size) / LIST_PASSES));
    }
  }

  /** The names `keep` returns for a folder's entries, read as a stream (no Dirent kept). */
  async *#names(
    bucket: string,
    dir: string,
    keyPrefix: string,
    keep: (dirent: Dirent) => string | undefined,
  ): AsyncGenerator<string> {
    let handle: Dir;
    try {
      handle = await opendir(dir, { bufferSize: 1024 });
    } catch (error) {
      if (isMissing(error)) return;
      throw fsUnavailable('list', bucket, keyPrefix, error);
    }
    try {
      for await (const dirent of handle) {
        const name = keep(dirent);
        if (name !== undefined) yield name;
      }
    } catch (error) {
      if (isMissing(error)) return; // removed while listing
      throw fsUnavailable('list', bucket, keyPrefix, error);
    }
  }

  /** The `size` first names after `after` in key order (a max-heap while reading), and how many follow `after`. */
  async #smallest(
    bucket: string,
    dir: string,
    keyPrefix: string,
    keep: (dirent: Dirent) => string | undefined,
    after: string | undefined,
    size: number,
  ): Promise<{ names: string[]; seen: number }> {
    const heap: string[] = [];
    let seen = 0;
    for await (const name of this.#names(bucket, dir, keyPrefix, keep)) {
      if (after !== undefined && compareKeys(name, after) <= 0) continue;
      seen += 1;
      if (heap.length < size) {
        heap.push(name);
        siftUp(heap, heap.length - 1);
      } else if (compareKeys(name, heap[0] as string) < 0) {
        heap[0] = name;
        siftDown(heap, 0);
      }
    }
    return { names: heap.sort(compareKeys), seen };
  }

  async #infoIfFile(
    bucket: string,
    key: string,
    path: string,
    keysOnly = false,
  ): Promise<ObjectInfo | undefined> {
    try {
      // Keys only: the directory entry says it is a file; no stat, no hash (millions of state objects).
      if (keysOnly) return { bucket, key, size: 0, etag: '', lastModified: new Date(0) };
      const stats = await statFile(path);
      if (stats === undefined) return undefined;
      return await this.#info(bucket, key, path, stats);
    } catch (error) {
      if (isMissing(error)) return undefined; // deleted while listing
      throw fsUnavailable('list', bucket, key, error);
    }
  }

  async #info(bucket: string, key: string, path: string, stats: BigIntStats): Promise<ObjectInfo> {
    return {
      bucket,
      key,
      size: Number(stats.size),
      etag: await this.#etags.etagOf(path, stats),
      lastModified: new Date(Number(stats.mtimeNs / 1_000_000n)),
    };
  }

  /** Writes the body to `temp`, hashing and counting it; returns its MD5 and the temp file's stats. */
  async #writeTemp(
    bucket: string,
    key: string,
    temp: string,
    body: Buffer | Readable,
    size: number | undefined,
  ): Promise<{ etag: string; stats: BigIntStats }> {
    const handle = await openTemp(bucket, key, temp);
    const hash = createHash('md5');
    let closed = false;
    try {
      await writeBody(handle, body, { bucket, key, size, fsync: this.#fsync, hash });
      const stats = await handle.stat({ bigint: true });
      closed = true;
      await handle.close();
      return { etag: hash.digest('hex'), stats };
    } catch (error) {
      if (!closed) await handle.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      if (!Buffer.isBuffer(body) && !body.destroyed) body.destroy();
      throw error;
    }
  }
}

/** Create or truncate, never through a symlink at the name itself. */
const IN_PLACE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

/**
 * Opens a file for writing (`wx` for temp files, IN_PLACE_FLAGS in place), creating its folder
 * only when missing (most writes land in an existing folder). deleteMany() may remove a folder that
 * just became empty: retry a few times.
 */
async function openForWrite(
  bucket: string,
  key: string,
  path: string,
  flags: string | number,
): Promise<FileHandle> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await open(path, flags);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT' || attempt >= 5) throw openError(bucket, key, error);
      try {
        await mkdir(dirname(path), { recursive: true });
      } catch (mkdirError) {
        if (errnoCode(mkdirError) !== 'ENOENT') throw openError(bucket, key, mkdirError);
      }
    }
  }
}

function openTemp(bucket: string, key: string, temp: string): Promise<FileHandle> {
  return openForWrite(bucket, key, temp, 'wx');
}

function openForWriteSync(bucket: string, key: string, path: string, flags: string | number): number {
  for (let attempt = 1; ; attempt++) {
    try {
      return openSync(path, flags);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT' || attempt >= 5) throw openError(bucket, key, error);
      try {
        mkdirSync(dirname(path), { recursive: true });
      } catch (mkdirError) {
        if (errnoCode(mkdirError) !== 'ENOENT') throw openError(bucket, key, mkdirError);
      }
    }
  }
}

function openTempSync(bucket: string, key: string, temp: string): number {
  return openForWriteSync(bucket, key, temp, 'wx');
}

function writeInPlaceSync(bucket: string, key: string, path: string, body: Buffer, fsync: boolean): void {
  let fd: number | undefined;
  try {
    fd = openForWriteSync(bucket, key, path, IN_PLACE_FLAGS);
    let offset = 0;
    while (offset < body.length) offset += writeSync(fd, body, offset, body.length - offset);
    if (fsync) fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
  } catch (error) {
    if (fd !== undefined) {
      closeSync(fd);
      removeQuietly(path);
    }
    if (error instanceof LogzipError) throw error;
    throw fsUnavailable('write', bucket, key, error);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // never created, or already gone
  }
}

/** Creating the temp file (or the file in place, or its folders) failed. */
function openError(bucket: string, key: string, error: unknown): LogzipError {
  const code = errnoCode(error);
  if (code === 'ENOTDIR' || code === 'EEXIST' || code === 'EISDIR') return clash(bucket, key, error);
  if (code === 'ENAMETOOLONG') return tooLong(key, error);
  return fsUnavailable('write', bucket, key, error);
}

/** Renaming (or linking) the finished temp file into place failed. */
function commitError(bucket: string, key: string, ifNoneMatch: boolean, error: unknown): Error {
  const code = errnoCode(error);
  if (ifNoneMatch && code === 'EEXIST') return new PreconditionFailedError(bucket, key, { cause: error });
  if (code === 'EISDIR' || code === 'EEXIST' || code === 'ENOTEMPTY' || code === 'ENOTDIR') {
    return clash(bucket, key, error);
  }
  if (code === 'ENAMETOOLONG') return tooLong(key, error);
  return fsUnavailable('write', bucket, key, error);
}

function isAfter(key: string, startAfter: string, isDirectory: boolean): boolean {
  // Keep a folder when some key below it can sort after startAfter: startAfter is inside it, or before it.
  if (isDirectory && startAfter.startsWith(key)) return true;
  return compareKeys(key, startAfter) > 0;
}

/** Writes every chunk of the body, counting it against `size` (and hashing it), then fsyncs if asked. */
async function writeBody(
  handle: FileHandle,
  body: Buffer | Readable,
  options: { bucket: string; key: string; size: number | undefined; fsync: boolean; hash?: Hash },
): Promise<void> {
  const { bucket, key, size } = options;
  let written = 0;
  const chunks: AsyncIterable<Buffer> | Buffer[] = Buffer.isBuffer(body) ? [body] : body;
  for await (const chunk of chunks) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    options.hash?.update(bytes);
    written += bytes.length;
    if (size !== undefined && written > size) throw sizeMismatch(bucket, key, size, written);
    await writeAll(handle, bytes, bucket, key);
  }
  if (size !== undefined && written !== size) throw sizeMismatch(bucket, key, size, written);
  if (options.fsync) {
    try {
      await handle.sync();
    } catch (error) {
      throw fsUnavailable('fsync', bucket, key, error);
    }
  }
}

async function writeAll(handle: FileHandle, bytes: Buffer, bucket: string, key: string): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    try {
      const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
      offset += bytesWritten;
    } catch (error) {
      throw fsUnavailable('write', bucket, key, error);
    }
  }
}

function clash(bucket: string, key: string, cause: unknown): LogzipError {
  return new LogzipError(
    'duplicate_entry',
    `cannot store ${bucket}/${key}: a file and a folder would share one name (a folder store cannot hold both "a" and "a/b")`,
    { entry: key, cause },
  );
}

function tooLong(key: string, cause: unknown): LogzipError {
  return new LogzipError(
    'key_too_long',
    `key ${JSON.stringify(key)} has a segment too long for a file name`,
    {
      entry: key,
      cause,
    },
  );
}

function sizeMismatch(bucket: string, key: string, expected: number, actual: number): LogzipError {
  return new LogzipError(
    'internal',
    `body for ${bucket}/${key} has ${actual > expected ? 'more than ' : ''}${actual} bytes, size said ${expected}`,
  );
}

async function runConcurrently<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  });
  await Promise.all(workers);
}

/** Max-heap in key order: the entry at `i` moves up past smaller parents. */
function siftUp(heap: string[], i: number): void {
  const item = heap[i] as string;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (compareKeys(heap[parent] as string, item) >= 0) break;
    heap[i] = heap[parent] as string;
    i = parent;
  }
  heap[i] = item;
}

/** Max-heap in key order: the entry at `i` moves down past larger children. */
function siftDown(heap: string[], i: number): void {
  const item = heap[i] as string;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= heap.length) break;
    if (child + 1 < heap.length && compareKeys(heap[child + 1] as string, heap[child] as string) > 0)
      child += 1;
    if (compareKeys(heap[child] as string, item) <= 0) break;
    heap[i] = heap[child] as string;
    i = child;
  }
  heap[i] = item;
}
