import { constants } from 'node:buffer';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { crc32, createInflateRaw, inflateRawSync } from 'node:zlib';
import type { Limits } from '../config.js';
import { LogzipError } from '../errors.js';
import type { ZipEntry } from './directory.js';
import { parseExtras } from './directory.js';
import {
  FLAG_DATA_DESCRIPTOR,
  FLAG_ENCRYPTED,
  FLAG_STRONG_ENCRYPTION,
  FLAG_UTF8,
  LOCAL_HEADER_BYTES,
  METHOD_AES,
  METHOD_STORED,
  SIG_LOCAL,
} from './format.js';
import { decodeName, describeRawName, loadIconv, sameEntryName } from './names.js';
import { checkDeclaredSize, checkMethod, RATIO_MIN_BYTES } from './plan.js';
import type { RandomAccessReader } from './reader.js';

/** Entries whose compressed size is at most this are inflated in memory by `readEntry`. */
export const SMALL_ENTRY_BYTES = 2 ** 20;
/** `isSmallEntry` also caps the inflated size, so one buffered entry never takes much memory. */
export const SMALL_ENTRY_MAX_INFLATED_BYTES = 16 * 2 ** 20;
/** Output chunk size of the streamed inflate (256 KiB: about twice the throughput of the 16 KiB default). */
export const STREAM_CHUNK_BYTES = 256 * 1024;

/** Whether `readEntry` (one synchronous inflate into one buffer) suits an entry; otherwise `openEntryStream`. */
export function isSmallEntry(entry: ZipEntry): boolean {
  return (
    entry.compressedSize <= SMALL_ENTRY_BYTES && entry.uncompressedSize <= SMALL_ENTRY_MAX_INFLATED_BYTES
  );
}

/**
 * Counts the bytes really inflated, per entry and across the archive, against the limits: a
 * header that lies about sizes is caught on the real bytes. Reading one entry again (a retried
 * upload) does not count it twice. Share one budget between all entries of one archive.
 */
export class InflateBudget {
  readonly limits: Limits;
  #total = 0;
  readonly #perEntry = new Map<number, number>();

  constructor(limits: Limits) {
    this.limits = limits;
  }

  /** Real bytes inflated so far, over all entries. */
  get totalBytes(): number {
    return this.#total;
  }

  /**
   * Records that `entry` has produced `produced` bytes so far. Throws `limits_exceeded` when a
   * limit is crossed, else `corrupt` when the entry produced more than it declared.
   */
  consume(entry: ZipEntry, produced: number): void {
    const before = this.#perEntry.get(entry.index) ?? 0;
    if (produced > before) {
      this.#total += produced - before;
      this.#perEntry.set(entry.index, produced);
    }
    const { maxEntryBytes, maxTotalBytes, maxRatio } = this.limits;
    const options = { entry: entry.path };
    if (produced > maxEntryBytes) {
      throw new LogzipError(
        'limits_exceeded',
        `"${entry.path}" inflates to more than the limit of ${maxEntryBytes} bytes per entry`,
        options,
      );
    }
    if (this.#total > maxTotalBytes) {
      throw new LogzipError(
        'limits_exceeded',
        `the archive inflates to more than the limit of ${maxTotalBytes} bytes (at "${entry.path}")`,
        options,
      );
    }
    if (produced > RATIO_MIN_BYTES && produced > entry.compressedSize * maxRatio) {
      throw new LogzipError(
        'limits_exceeded',
        `"${entry.path}" inflates at more than the limit ratio of ${maxRatio}:1`,
        options,
      );
    }
    if (produced > entry.uncompressedSize) {
      throw new LogzipError(
        'corrupt',
        `"${entry.path}" inflates to more than the ${entry.uncompressedSize} bytes its header declares`,
        options,
      );
    }
  }
}

function checkFinal(entry: ZipEntry, produced: number, crc: number): void {
  if (produced !== entry.uncompressedSize) {
    throw new LogzipError(
      'corrupt',
      `"${entry.path}" inflates to ${produced} bytes, its header declares ${entry.uncompressedSize}`,
      { entry: entry.path },
    );
  }
  if (crc >>> 0 !== entry.crc32 >>> 0) {
    throw new LogzipError(
      'crc_mismatch',
      `"${entry.path}" has CRC32 ${hex(crc)}, its header declares ${hex(entry.crc32)}`,
      { entry: entry.path },
    );
  }
}

function hex(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/**
 * Reads the local header (its name and extra lengths may differ from the central ones) and returns
 * the range of the entry's compressed bytes, checked against the other entries' ranges.
 */
export async function locateData(reader: RandomAccessReader, entry: ZipEntry): Promise<[number, number]> {
  const options = { entry: entry.path };
  const offset = entry.localHeaderOffset;
  if (offset + LOCAL_HEADER_BYTES > entry.dataLimit) {
    throw new LogzipError('corrupt', `the local header of "${entry.path}" is out of bounds`, options);
  }
  const header = await reader.read(offset, offset + LOCAL_HEADER_BYTES);
  if (header.readUInt32LE(0) !== SIG_LOCAL) {
    throw new LogzipError('corrupt', `no local header for "${entry.path}" at ${offset}`, options);
  }
  const flags = header.readUInt16LE(6);
  const method = header.readUInt16LE(8);
  if ((flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) !== 0 || method === METHOD_AES) {
    throw new LogzipError('encrypted', `"${entry.path}" is encrypted (local header)`, options);
  }
  if (method !== entry.method) {
    throw new LogzipError(
      'corrupt',
      `"${entry.path}": the local header says method ${method}, the central directory ${entry.method}`,
      options,
    );
  }
  checkLocalDeclarations(entry, header, flags);
  const nameLength = header.readUInt16LE(26);
  const extraLength = header.readUInt16LE(28);
  const start = offset + LOCAL_HEADER_BYTES + nameLength + extraLength;
  const end = start + entry.compressedSize;
  if (end > entry.dataLimit) {
    throw new LogzipError(
      'corrupt',
      `the data of "${entry.path}" (bytes ${start}–${end}) overlaps the next entry or the central directory at ${entry.dataLimit}`,
      options,
    );
  }
  const nameAndExtra = await reader.read(offset + LOCAL_HEADER_BYTES, start);
  await checkLocalName(entry, flags, nameAndExtra.subarray(0, nameLength), nameAndExtra.subarray(nameLength));
  return [start, end];
}

/**
 * A streaming reader trusts the local header's CRC and sizes, this reader the central ones: when
 * both are given (no data descriptor) they must agree, or two readers extract different bytes.
 * 0xFFFFFFFF in the local header defers to its ZIP64 extra field and is not compared.
 */
function checkLocalDeclarations(entry: ZipEntry, header: Buffer, flags: number): void {
  if ((flags & FLAG_DATA_DESCRIPTOR) !== 0) return;
  const disagree = (what: string, local: number, central: number) =>
    new LogzipError(
      'corrupt',
      `"${entry.path}": the local header declares ${what} ${local}, the central directory ${central}`,
      { entry: entry.path },
    );
  const crc = header.readUInt32LE(14);
  if (crc !== entry.crc32 >>> 0) throw disagree('CRC32', crc, entry.crc32 >>> 0);
  const compressed = header.readUInt32LE(18);
  if (compressed !== U32 && compressed !== entry.compressedSize) {
    throw disagree('a compressed size of', compressed, entry.compressedSize);
  }
  const uncompressed = header.readUInt32LE(22);
  if (uncompressed !== U32 && uncompressed !== entry.uncompressedSize) {
    throw disagree('an uncompressed size of', uncompressed, entry.uncompressedSize);
  }
}

/**
 * The local header's name must be the central name, up to encoding and normalisation: readers
 * disagree about which of two differing names wins, so an archive carrying both cannot be trusted.
 */
async function checkLocalName(entry: ZipEntry, flags: number, rawName: Buffer, extra: Buffer): Promise<void> {
  const localUnicode = parseExtras(extra).unicodePath;
  const sameBytes = rawName.equals(entry.rawName);
  // Same bytes and no Unicode Path field of its own: the local header repeats the central name.
  if (sameBytes && (localUnicode === undefined || localUnicode.equals(entry.unicodePath ?? EMPTY))) return;
  let localName: string;
  try {
    const utf8 = (flags & FLAG_UTF8) !== 0;
    localName =
      decodeName(rawName, utf8, localUnicode, entry.nameEncoding, undefined) ??
      decodeName(rawName, utf8, localUnicode, entry.nameEncoding, await loadIconv())!;
  } catch {
    localName = describeRawName(rawName);
  }
  if (!sameEntryName(localName, entry.path)) {
    throw new LogzipError(
      'name_mismatch',
      `"${entry.path}" is named "${localName}" in its local header: readers disagree about which name wins`,
      { entry: entry.path },
    );
  }
}

const EMPTY = Buffer.alloc(0);
const U32 = 0xffffffff;

function precheck(entry: ZipEntry, budget: InflateBudget): void {
  if (entry.isDirectory) {
    throw new LogzipError('corrupt', `"${entry.path}" is a directory entry`, { entry: entry.path });
  }
  checkMethod(entry);
  checkDeclaredSize(entry, budget.limits);
}

/**
 * The whole entry in memory, inflated by one synchronous call (for entries with compressedSize <=
 * SMALL_ENTRY_BYTES; see `isSmallEntry`). Never inflates much past declared + 1 bytes, counts the
 * real bytes against the budget, checks the real size and the CRC32.
 *
 * @throws LogzipError corrupt | crc_mismatch | limits_exceeded | encrypted | unsupported_method, naming the entry.
 */
export async function readEntry(
  reader: RandomAccessReader,
  entry: ZipEntry,
  budget: InflateBudget,
): Promise<Buffer> {
  precheck(entry, budget);
  if (entry.uncompressedSize >= constants.MAX_LENGTH) {
    // A caller bug, not an archive defect: such an entry can only be streamed.
    throw new LogzipError('internal', `"${entry.path}" is too large to buffer; use openEntryStream`, {
      entry: entry.path,
    });
  }
  const [start, end] = await locateData(reader, entry);
  const compressed = await reader.read(start, end);
  let data: Buffer;
  // Some writers store an empty file as deflate with no bytes at all (not even an empty block).
  if (entry.method === METHOD_STORED || compressed.length === 0) {
    data = compressed;
  } else {
    const declared = entry.uncompressedSize;
    try {
      data = inflateRawSync(compressed, {
        maxOutputLength: declared + 1,
        // One output chunk for most entries: no concatenation, and little work past declared + 1.
        chunkSize: Math.min(Math.max(declared + 1, 64), STREAM_CHUNK_BYTES),
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        budget.consume(entry, declared + 1);
      }
      throw new LogzipError('corrupt', `"${entry.path}" does not inflate: ${(error as Error).message}`, {
        entry: entry.path,
        cause: error,
      });
    }
  }
  budget.consume(entry, data.length);
  checkFinal(entry, data.length, crc32(data));
  return data;
}

class EntryCheck extends Transform {
  #produced = 0;
  #crc = 0;
  readonly #entry: ZipEntry;
  readonly #budget: InflateBudget;

  constructor(entry: ZipEntry, budget: InflateBudget) {
    super({ highWaterMark: STREAM_CHUNK_BYTES });
    this.#entry = entry;
    this.#budget = budget;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#produced += chunk.length;
      this.#budget.consume(this.#entry, this.#produced);
      this.#crc = crc32(chunk, this.#crc);
      callback(null, chunk);
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      checkFinal(this.#entry, this.#produced, this.#crc);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }
}

/**
 * A stream of the entry's inflated bytes, for large entries: `createInflateRaw` with 256 KiB chunks,
 * real bytes counted against the budget and the declared size as they come (a lying header stops
 * the inflate within one chunk), CRC32 checked at the end. Errors are LogzipErrors emitted on the
 * returned stream; a storage error from the source passes through (`storage_unavailable`).
 * Destroying the returned stream releases the source.
 */
export async function openEntryStream(
  reader: RandomAccessReader,
  entry: ZipEntry,
  budget: InflateBudget,
): Promise<Readable> {
  precheck(entry, budget);
  const [start, end] = await locateData(reader, entry);
  const source = await reader.stream(start, end);
  const check = new EntryCheck(entry, budget);
  const inflate =
    entry.method === METHOD_STORED || start === end
      ? undefined
      : createInflateRaw({ chunkSize: STREAM_CHUNK_BYTES });
  const fail = (error: unknown, asCorrupt: boolean) => {
    if (check.destroyed) return;
    let wrapped: LogzipError;
    if (error instanceof LogzipError) wrapped = error;
    else if (asCorrupt) {
      wrapped = new LogzipError('corrupt', `"${entry.path}" does not inflate: ${(error as Error).message}`, {
        entry: entry.path,
        cause: error,
      });
    } else {
      wrapped = new LogzipError(
        'storage_unavailable',
        `reading "${entry.path}" failed: ${(error as Error)?.message ?? String(error)}`,
        { entry: entry.path, cause: error },
      );
    }
    check.destroy(wrapped);
  };
  source.on('error', (error) => fail(error, false));
  // The consumer may attach its listeners only after an await (opening a temp file, starting a
  // multipart upload): an entry that fails in its first chunk must not be an unhandled 'error'
  // that kills the process. The error stays on the stream (`errored`), and for-await / pipeline
  // still reject with it.
  check.on('error', () => {});
  check.on('close', () => {
    source.destroy();
    inflate?.destroy();
  });
  if (inflate === undefined) {
    source.pipe(check);
  } else {
    inflate.on('error', (error) => fail(error, true));
    source.pipe(inflate).pipe(check);
  }
  return check;
}
