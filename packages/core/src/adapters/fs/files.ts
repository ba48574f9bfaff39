import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { LogzipError } from '../../errors.js';

/** Error codes that mean "no such object" when reading a path. */
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG']);

export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isMissing(error: unknown): boolean {
  const code = errnoCode(error);
  return code !== undefined && MISSING.has(code);
}

export function notFound(bucket: string, key: string, cause?: unknown): LogzipError {
  return new LogzipError('source_not_found', `no such object: ${bucket}/${key}`, { cause });
}

/** Filesystem failures other than "missing" (EACCES, ENOSPC, EIO, EMFILE...): retryable storage errors. */
export function fsUnavailable(operation: string, bucket: string, key: string, cause: unknown): LogzipError {
  const code = errnoCode(cause) ?? 'error';
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new LogzipError(
    'storage_unavailable',
    `filesystem ${operation} ${bucket}/${key} failed (${code}): ${reason}`,
    {
      cause,
    },
  );
}

export function checkRange(start: number, end: number): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`invalid byte range [${start}, ${end})`);
  }
}

/** Stats of a regular file, or undefined when there is none at `path` (directories are not objects). */
export async function statFile(path: string): Promise<BigIntStats | undefined> {
  try {
    const stats = await stat(path, { bigint: true });
    return stats.isFile() ? stats : undefined;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/** Bytes [start, end) of a file, clamped to its size; throws the raw fs error (ENOENT...) for the caller to map. */
export async function readFileRange(path: string, start: number, end: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw Object.assign(new Error(`not a file: ${path}`), { code: 'EISDIR' });
    const stop = Math.min(end, stats.size);
    if (stop <= start) return Buffer.alloc(0);
    const buffer = Buffer.allocUnsafe(stop - start);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, start + filled);
      if (bytesRead === 0) break; // truncated under us: return what exists
      filled += bytesRead;
    }
    return filled === buffer.length ? buffer : buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/**
 * A stream of bytes [start, end) of a file. The file is opened before returning, so a missing file
 * fails here and not later in the stream.
 */
export async function openFileStream(path: string, start: number, end: number): Promise<Readable> {
  const handle = await open(path, 'r');
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw Object.assign(new Error(`not a file: ${path}`), { code: 'EISDIR' });
  } catch (error) {
    await handle.close();
    throw error;
  }
  if (end <= start) {
    await handle.close();
    return Readable.from([], { objectMode: false });
  }
  return handle.createReadStream({ start, end: end - 1, highWaterMark: 256 * 1024, autoClose: true });
}

/** Chunks of `readFileHashed`: the read of the next overlaps the hashing of the one before. */
const HASHED_READ_CHUNK_BYTES = 1024 * 1024;

/**
 * The first `size` bytes of a file and their MD5, in one pass: the thread pool reads (and faults
 * in fresh memory for) the next megabyte while this thread hashes the last one, which takes about
 * two thirds of reading then hashing. `content` is shorter than `size` when the file is.
 */
export async function readFileHashed(path: string, size: number): Promise<{ content: Buffer; md5: string }> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(size);
    const hash = createHash('md5');
    let filled = 0;
    const readNext = () =>
      handle.read(buffer, filled, Math.min(HASHED_READ_CHUNK_BYTES, size - filled), filled);
    let pending = size > 0 ? readNext() : undefined;
    while (pending !== undefined) {
      const { bytesRead } = await pending;
      const from = filled;
      filled += bytesRead;
      pending = bytesRead > 0 && filled < size ? readNext() : undefined;
      hash.update(buffer.subarray(from, filled));
    }
    return { content: filled === size ? buffer : buffer.subarray(0, filled), md5: hash.digest('hex') };
  } finally {
    await handle.close();
  }
}

/** Files up to this size are hashed from one read: a stream (1 MiB buffer, several calls) costs more than the file. */
const ONE_READ_MAX_BYTES = 1_048_576;

export async function md5File(path: string, size?: number): Promise<string> {
  if (size !== undefined && size <= ONE_READ_MAX_BYTES) {
    return createHash('md5')
      .update(await readFile(path))
      .digest('hex');
  }
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

/** The same file, unchanged: inode, size and mtime (atomic writes always change the inode). */
export function sameFile(
  a: Pick<BigIntStats, 'ino' | 'size' | 'mtimeNs'>,
  b: Pick<BigIntStats, 'ino' | 'size' | 'mtimeNs'>,
): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;
}

interface CachedEtag {
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  etag: string;
}

/**
 * MD5 etags of files keyed by path and validated by inode + size + mtime, so files written by
 * someone else (or rewritten) are hashed again. Atomic writes always change the inode.
 */
export class EtagCache {
  readonly #entries = new Map<string, CachedEtag>();
  readonly #limit: number;

  constructor(limit = 100_000) {
    this.#limit = limit;
  }

  remember(path: string, stats: BigIntStats, etag: string): void {
    this.#entries.delete(path);
    this.#entries.set(path, { ino: stats.ino, size: stats.size, mtimeNs: stats.mtimeNs, etag });
    if (this.#entries.size > this.#limit) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }

  forget(path: string): void {
    this.#entries.delete(path);
  }

  /** The cached etag of `path` when the file is unchanged since it was hashed. */
  cached(path: string, stats: BigIntStats): string | undefined {
    const cached = this.#entries.get(path);
    return cached !== undefined && sameFile(cached, stats) ? cached.etag : undefined;
  }

  /** The cached etag when the file is unchanged, else hashes it (and caches the result). */
  async etagOf(path: string, stats: BigIntStats): Promise<string> {
    const cached = this.cached(path, stats);
    if (cached !== undefined) return cached;
    const etag = await md5File(path, Number(stats.size));
    // Only cache when the file did not change while we hashed it.
    const after = await statFile(path);
    if (after !== undefined && sameFile(after, stats)) this.remember(path, stats, etag);
    return etag;
  }
}
