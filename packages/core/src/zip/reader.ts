import { Readable } from 'node:stream';
import { LogzipError } from '../errors.js';

/** Random access to an archive's bytes: a Buffer in memory, or ranged reads of a stored object. */
export interface RandomAccessReader {
  readonly size: number;
  /** Bytes [start, end). */
  read(start: number, end: number): Promise<Buffer>;
  /** A stream of bytes [start, end). */
  stream(start: number, end: number): Promise<Readable>;
}

export interface BlockReaderOptions {
  /** Bytes per cached block (default 1 MiB). */
  blockSize?: number;
  /** Blocks kept in memory (default 8); least recently used blocks are dropped first. */
  maxBlocks?: number;
}

export const DEFAULT_BLOCK_SIZE = 2 ** 20;
export const DEFAULT_MAX_BLOCKS = 8;

function checkRange(size: number, start: number, end: number): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > size) {
    throw new LogzipError('corrupt', `read of bytes [${start}, ${end}) outside an archive of ${size} bytes`);
  }
}

/** A stream that emits one buffer (in pieces of at most 256 KiB, so consumers see ordinary chunk sizes). */
export function bufferStream(buf: Buffer): Readable {
  const piece = 256 * 1024;
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= buf.length) {
        this.push(null);
        return;
      }
      const next = Math.min(buf.length, offset + piece);
      const chunk = buf.subarray(offset, next);
      offset = next;
      this.push(chunk);
    },
  });
}

/**
 * An in-memory archive. Reads are views of the buffer (no copy).
 *
 * @example
 * const dir = await readZipDirectory(bufferReader(await store.get(bucket, key)), options);
 */
export function bufferReader(buf: Buffer): RandomAccessReader {
  return {
    size: buf.length,
    async read(start, end) {
      checkRange(buf.length, start, end);
      return buf.subarray(start, end);
    },
    async stream(start, end) {
      checkRange(buf.length, start, end);
      return bufferStream(buf.subarray(start, end));
    },
  };
}

/**
 * Wraps a range fetcher (e.g. S3 ranged GET) with a small LRU cache of aligned blocks: walking
 * entries in offset order costs about size/blockSize fetches (never two per entry), and the tail
 * (end record + central directory) comes in one or two fetches. Adjacent missing blocks are
 * fetched in one request; a read longer than the whole cache is fetched directly and not cached,
 * so memory stays at about `blockSize × maxBlocks` whatever the archive size. Concurrent reads of
 * one block share one fetch.
 *
 * @example
 * const reader = blockReader(info.size,
 *   (s, e) => store.getRange(bucket, key, s, e),
 *   (s, e) => store.getStream(bucket, key, s, e));
 */
export function blockReader(
  size: number,
  fetch: (start: number, end: number) => Promise<Buffer>,
  openStream: (start: number, end: number) => Promise<Readable>,
  options: BlockReaderOptions = {},
): RandomAccessReader {
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  const maxBlocks = Math.max(1, options.maxBlocks ?? DEFAULT_MAX_BLOCKS);
  if (!Number.isSafeInteger(blockSize) || blockSize < 1)
    throw new RangeError('blockSize must be a positive integer');
  // Map iteration order is insertion order: re-inserting on use makes the first key the LRU block.
  const cache = new Map<number, Promise<Buffer>>();
  // Blocks whose fetch has completed, so a read inside one block needs no promise chain (the common case).
  const ready = new WeakMap<Promise<Buffer>, Buffer>();

  const fetchExact = async (start: number, end: number): Promise<Buffer> => {
    const buf = await fetch(start, end);
    if (buf.length !== end - start) {
      throw new LogzipError(
        'corrupt',
        `short read: asked for bytes [${start}, ${end}) of ${size}, got ${buf.length} bytes (did the object change?)`,
      );
    }
    return buf;
  };

  const touch = (index: number, block: Promise<Buffer>): void => {
    cache.delete(index);
    cache.set(index, block);
  };

  const insert = (index: number, block: Promise<Buffer>): void => {
    cache.set(index, block);
    block.then(
      (buf) => ready.set(block, buf),
      () => undefined,
    );
    while (cache.size > maxBlocks) {
      const oldest = cache.keys().next().value as number;
      cache.delete(oldest);
    }
    // A failed fetch must not stay cached: the next read tries again.
    block.catch(() => {
      if (cache.get(index) === block) cache.delete(index);
    });
  };

  const slice = (block: Buffer, index: number, start: number, end: number): Buffer => {
    const base = index * blockSize;
    return block.subarray(Math.max(start, base) - base, Math.min(end, base + block.length) - base);
  };

  const read = async (start: number, end: number): Promise<Buffer> => {
    checkRange(size, start, end);
    if (start === end) return Buffer.alloc(0);
    const first = Math.floor(start / blockSize);
    const last = Math.floor((end - 1) / blockSize);
    if (first === last) {
      const cached = cache.get(first);
      const buf = cached === undefined ? undefined : ready.get(cached);
      if (buf !== undefined) {
        touch(first, cached!);
        return Buffer.from(slice(buf, first, start, end));
      }
    }
    // Take what the cache holds first: inserting fetched blocks below may evict some of them.
    const blocks: Array<Promise<Buffer> | undefined> = [];
    for (let i = first; i <= last; i++) {
      const cached = cache.get(i);
      if (cached !== undefined) touch(i, cached);
      blocks.push(cached);
    }
    const parts: Promise<Buffer>[] = [];
    let index = first;
    while (index <= last) {
      const cached = blocks[index - first];
      if (cached !== undefined) {
        const i = index;
        parts.push(cached.then((block) => slice(block, i, start, end)));
        index++;
        continue;
      }
      let runEnd = index;
      while (runEnd < last && blocks[runEnd + 1 - first] === undefined) runEnd++;
      const runStart = index;
      const count = runEnd - runStart + 1;
      if (count > maxBlocks) {
        // Longer than the whole cache (a large central directory): fetch just what is asked.
        parts.push(
          fetchExact(Math.max(start, runStart * blockSize), Math.min(end, (runEnd + 1) * blockSize)),
        );
      } else {
        const run = fetchExact(runStart * blockSize, Math.min(size, (runEnd + 1) * blockSize));
        for (let i = runStart; i <= runEnd; i++) {
          const offset = (i - runStart) * blockSize;
          // Copy blocks out of a multi-block run so one cached block never pins the whole run.
          const block =
            count === 1
              ? run
              : run.then((buf) =>
                  Buffer.from(buf.subarray(offset, Math.min(buf.length, offset + blockSize))),
                );
          insert(i, block);
          parts.push(block.then((b) => slice(b, i, start, end)));
        }
      }
      index = runEnd + 1;
    }
    const buffers = await Promise.all(parts);
    // Always a copy: a caller that keeps the result must not pin a cached block.
    return buffers.length === 1 ? Buffer.from(buffers[0]!) : Buffer.concat(buffers);
  };

  const allCached = (start: number, end: number): boolean => {
    for (let i = Math.floor(start / blockSize); i <= Math.floor((end - 1) / blockSize); i++) {
      if (!cache.has(i)) return false;
    }
    return true;
  };

  return {
    size,
    read,
    async stream(start, end) {
      checkRange(size, start, end);
      if (end - start <= blockSize || allCached(start, end)) return bufferStream(await read(start, end));
      return openStream(start, end);
    },
  };
}
