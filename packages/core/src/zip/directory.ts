import { LogzipError } from '../errors.js';
import {
  CENTRAL_HEADER_BYTES,
  EOCD_BYTES,
  EXTRA_UNICODE_PATH,
  EXTRA_ZIP64,
  FLAG_ENCRYPTED,
  FLAG_STRONG_ENCRYPTION,
  FLAG_UTF8,
  LOCAL_HEADER_BYTES,
  MAX_COMMENT_BYTES,
  METHOD_AES,
  S_IFDIR,
  SIG_CENTRAL,
  SIG_DIGITAL_SIGNATURE,
  SIG_EOCD,
  SIG_LOCAL,
  SIG_ZIP64_EOCD,
  SIG_ZIP64_LOCATOR,
  unixFileType,
  ZIP64_EOCD_BYTES,
  ZIP64_LOCATOR_BYTES,
} from './format.js';
import { assertEncoding, decodeName, loadIconv, normalizeName } from './names.js';
import type { RandomAccessReader } from './reader.js';

export interface ZipEntry {
  /** Position in the central directory. */
  index: number;
  /** Decoded; backslashes → '/'; NFC; leading './' dropped; NOT validated (see planEntries). */
  path: string;
  rawName: Buffer;
  isDirectory: boolean;
  method: number;
  flags: number;
  encrypted: boolean;
  crc32: number;
  /** Declared, from the central directory (ZIP64 aware). */
  compressedSize: number;
  /** Declared, from the central directory (ZIP64 aware). */
  uncompressedSize: number;
  localHeaderOffset: number;
  versionMadeBy: number;
  externalAttributes: number;
  /** The central header's Info-ZIP Unicode Path field (0x7075), if any. */
  unicodePath: Buffer | undefined;
  /** The fallback encoding the name was read with; the local header's name is read the same way. */
  nameEncoding: string;
  /**
   * Where this entry's bytes must end: the next local header (in offset order) or the central
   * directory. Data reaching past it overlaps another entry (checked once the local header is read).
   */
  dataLimit: number;
}

export interface ZipDirectory {
  entries: ZipEntry[];
  /** Archive size in bytes. */
  size: number;
  zip64: boolean;
  centralDirectoryOffset: number;
}

export interface ReadZipDirectoryOptions {
  /** Encoding of names that are neither flagged UTF-8 nor valid UTF-8 (LOGZIP_FALLBACK_ENCODING). */
  fallbackEncoding: string;
  /** More entries than this → `limits_exceeded`, before the central directory is read. */
  maxEntries: number;
}

/** End record + the largest comment + the ZIP64 locator and end record in front of it. */
export const TAIL_BYTES = EOCD_BYTES + MAX_COMMENT_BYTES + ZIP64_LOCATOR_BYTES + ZIP64_EOCD_BYTES;

/** A central directory larger than this is refused (`limits_exceeded`): it is held in memory. */
export const MAX_CENTRAL_DIRECTORY_BYTES = 128 * 2 ** 20;

const U16 = 0xffff;
const U32 = 0xffffffff;

function corrupt(message: string, entry?: string): LogzipError {
  return new LogzipError('corrupt', message, entry === undefined ? {} : { entry });
}

function u64(buf: Buffer, offset: number, what: string, entry?: string): number {
  const value = buf.readBigUInt64LE(offset);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`${what} is out of range (${value})`, entry);
  return Number(value);
}

/** Finds the end of central directory record in the tail; -1 when there is none. */
function findEndRecord(tail: Buffer): number {
  let loose = -1;
  for (let pos = tail.length - EOCD_BYTES; pos >= 0; pos--) {
    if (tail[pos] !== 0x50 || tail.readUInt32LE(pos) !== SIG_EOCD) continue;
    const end = pos + EOCD_BYTES + tail.readUInt16LE(pos + 20);
    // The comment length normally reaches the last byte exactly; a signature inside the comment does not.
    if (end === tail.length) return pos;
    if (end < tail.length && loose === -1) loose = pos;
  }
  return loose;
}

interface EndInfo {
  entryCount: number;
  cdSize: number;
  cdOffset: number;
  /** Where the central directory must end (the ZIP64 end record, or the end record). */
  cdEnd: number;
  zip64: boolean;
}

async function readEnd(reader: RandomAccessReader): Promise<EndInfo> {
  const size = reader.size;
  const notZip = () =>
    new LogzipError('not_zip', `not a ZIP archive (${size} bytes, no end of central directory)`);
  if (size < EOCD_BYTES) {
    if (size >= 4 && (await reader.read(0, 4)).readUInt32LE(0) === SIG_LOCAL) {
      throw corrupt(`truncated ZIP archive (${size} bytes)`);
    }
    throw notZip();
  }
  const tailStart = Math.max(0, size - TAIL_BYTES);
  const tail = await reader.read(tailStart, size);
  const eocd = findEndRecord(tail);
  if (eocd < 0) {
    // A file that starts like a ZIP but has no end record was cut short.
    const head = tailStart === 0 ? tail : await reader.read(0, 4);
    if (head.readUInt32LE(0) === SIG_LOCAL) {
      throw corrupt(`truncated ZIP archive: no end of central directory in ${size} bytes`);
    }
    throw notZip();
  }
  const eocdPos = tailStart + eocd;
  const disk = tail.readUInt16LE(eocd + 4);
  const cdDisk = tail.readUInt16LE(eocd + 6);
  const entriesOnDisk = tail.readUInt16LE(eocd + 8);
  let entryCount = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);

  const locator = eocd - ZIP64_LOCATOR_BYTES;
  if (locator >= 0 && tail.readUInt32LE(locator) === SIG_ZIP64_LOCATOR) {
    const locatorPos = tailStart + locator;
    const recordPos = u64(tail, locator + 8, 'ZIP64 end record offset');
    if (tail.readUInt32LE(locator + 4) !== 0 || tail.readUInt32LE(locator + 16) > 1) {
      throw corrupt('split (multi-disk) ZIP archives are not supported');
    }
    if (recordPos + ZIP64_EOCD_BYTES > locatorPos) {
      throw corrupt(`ZIP64 end record at ${recordPos} overlaps its locator at ${locatorPos}`);
    }
    const record =
      recordPos >= tailStart
        ? tail.subarray(recordPos - tailStart, recordPos - tailStart + ZIP64_EOCD_BYTES)
        : await reader.read(recordPos, recordPos + ZIP64_EOCD_BYTES);
    if (record.readUInt32LE(0) !== SIG_ZIP64_EOCD) throw corrupt(`no ZIP64 end record at ${recordPos}`);
    if (record.readUInt32LE(16) !== 0 || record.readUInt32LE(20) !== 0) {
      throw corrupt('split (multi-disk) ZIP archives are not supported');
    }
    const onDisk = u64(record, 24, 'ZIP64 entry count');
    entryCount = u64(record, 32, 'ZIP64 entry count');
    cdSize = u64(record, 40, 'ZIP64 central directory size');
    cdOffset = u64(record, 48, 'ZIP64 central directory offset');
    if (onDisk !== entryCount) throw corrupt('split (multi-disk) ZIP archives are not supported');
    return { entryCount, cdSize, cdOffset, cdEnd: recordPos, zip64: true };
  }
  if (disk !== 0 || cdDisk !== 0 || entriesOnDisk !== entryCount) {
    throw corrupt('split (multi-disk) ZIP archives are not supported');
  }
  return { entryCount, cdSize, cdOffset, cdEnd: eocdPos, zip64: false };
}

export interface Extras {
  zip64?: Buffer;
  unicodePath?: Buffer;
}

/** The extra fields logzip reads (ZIP64, Info-ZIP Unicode Path); the first of each kind wins. */
export function parseExtras(extra: Buffer): Extras {
  const found: Extras = {};
  let pos = 0;
  // Trailing bytes too short for a field header (padding some writers add) are ignored.
  while (pos + 4 <= extra.length) {
    const id = extra.readUInt16LE(pos);
    const len = extra.readUInt16LE(pos + 2);
    const body = extra.subarray(pos + 4, pos + 4 + len);
    if (body.length < len) break;
    if (id === EXTRA_ZIP64 && found.zip64 === undefined) found.zip64 = body;
    else if (id === EXTRA_UNICODE_PATH && found.unicodePath === undefined) found.unicodePath = body;
    pos += 4 + len;
  }
  return found;
}

/**
 * Reads the central directory: finds the end record in the tail (comment up to 64 KiB), follows
 * the ZIP64 locator and end record, parses every central header (ZIP64 extra fields, name
 * decoding) and checks the structure: the directory lies between the entries and the end record,
 * and no entry's data can overlap another's or the directory ("overlapping files" bombs).
 * Costs one read of the tail and at most one more for the rest of the directory.
 *
 * @throws LogzipError `not_zip`, `corrupt` (truncated, inconsistent, overlapping), `limits_exceeded` (entry count).
 */
export async function readZipDirectory(
  reader: RandomAccessReader,
  options: ReadZipDirectoryOptions,
): Promise<ZipDirectory> {
  const end = await readEnd(reader);
  const { entryCount, cdSize, cdOffset, cdEnd, zip64 } = end;
  if (entryCount > options.maxEntries) {
    throw new LogzipError(
      'limits_exceeded',
      `the archive has ${entryCount} entries, more than the limit of ${options.maxEntries}`,
    );
  }
  if (cdOffset + cdSize !== cdEnd) {
    throw corrupt(
      `the central directory (${cdSize} bytes at ${cdOffset}) does not end where the end record starts (${cdEnd}): truncated or inconsistent archive`,
    );
  }
  if (cdSize < entryCount * CENTRAL_HEADER_BYTES) {
    throw corrupt(`a central directory of ${cdSize} bytes cannot hold ${entryCount} entries`);
  }
  if (cdSize > MAX_CENTRAL_DIRECTORY_BYTES) {
    throw new LogzipError(
      'limits_exceeded',
      `the central directory is ${cdSize} bytes, more than ${MAX_CENTRAL_DIRECTORY_BYTES}`,
    );
  }
  const cd = await reader.read(cdOffset, cdOffset + cdSize);

  let iconv: Awaited<ReturnType<typeof loadIconv>> | undefined;
  const entries: ZipEntry[] = [];
  let pos = 0;
  while (pos < cdSize) {
    const where = `central directory header #${entries.length} (at ${cdOffset + pos})`;
    if (pos + 4 <= cdSize && cd.readUInt32LE(pos) === SIG_DIGITAL_SIGNATURE) break;
    if (pos + CENTRAL_HEADER_BYTES > cdSize) throw corrupt(`${where} is truncated`);
    if (cd.readUInt32LE(pos) !== SIG_CENTRAL) throw corrupt(`${where} has a bad signature`);
    if (entries.length >= options.maxEntries) {
      throw new LogzipError(
        'limits_exceeded',
        `the archive has more than the limit of ${options.maxEntries} entries`,
      );
    }
    const versionMadeBy = cd.readUInt16LE(pos + 4);
    const flags = cd.readUInt16LE(pos + 8);
    const method = cd.readUInt16LE(pos + 10);
    const crc32 = cd.readUInt32LE(pos + 16);
    let compressedSize = cd.readUInt32LE(pos + 20);
    let uncompressedSize = cd.readUInt32LE(pos + 24);
    const nameLength = cd.readUInt16LE(pos + 28);
    const extraLength = cd.readUInt16LE(pos + 30);
    const commentLength = cd.readUInt16LE(pos + 32);
    let diskStart = cd.readUInt16LE(pos + 34);
    const externalAttributes = cd.readUInt32LE(pos + 38);
    let localHeaderOffset = cd.readUInt32LE(pos + 42);
    const nameStart = pos + CENTRAL_HEADER_BYTES;
    const next = nameStart + nameLength + extraLength + commentLength;
    if (next > cdSize) throw corrupt(`${where} runs past the end of the central directory`);
    const rawName = cd.subarray(nameStart, nameStart + nameLength);
    const extras = parseExtras(cd.subarray(nameStart + nameLength, nameStart + nameLength + extraLength));

    let decoded: string | undefined;
    try {
      decoded = decodeName(
        rawName,
        (flags & FLAG_UTF8) !== 0,
        extras.unicodePath,
        options.fallbackEncoding,
        iconv,
      );
      if (decoded === undefined) {
        await assertEncoding(options.fallbackEncoding);
        iconv = await loadIconv();
        decoded = decodeName(rawName, false, extras.unicodePath, options.fallbackEncoding, iconv)!;
      }
    } catch (error) {
      if (error instanceof LogzipError && error.code !== 'internal') {
        throw new LogzipError(error.code, `${where}: ${error.message}`, {
          ...(error.entry === undefined ? {} : { entry: error.entry }),
        });
      }
      throw error;
    }
    const path = normalizeName(decoded);

    // 0xFFFFFFFF means "see the ZIP64 extra field" only when there is one: writers without ZIP64
    // store an entry of exactly 4 GiB − 1 bytes that way, and Go, Python and Info-ZIP read the
    // literal value (the limits then apply to it as to any size).
    if (
      extras.zip64 !== undefined &&
      (uncompressedSize === U32 || compressedSize === U32 || localHeaderOffset === U32 || diskStart === U16)
    ) {
      const field = extras.zip64;
      let at = 0;
      const take = (what: string): number => {
        if (at + 8 > field.length) {
          throw corrupt(`${where}: ${what} is 0xFFFFFFFF and the ZIP64 extra field is too short`, path);
        }
        const value = u64(field, at, what, path);
        at += 8;
        return value;
      };
      if (uncompressedSize === U32) uncompressedSize = take('uncompressed size');
      if (compressedSize === U32) compressedSize = take('compressed size');
      if (localHeaderOffset === U32) localHeaderOffset = take('local header offset');
      if (diskStart === U16) {
        if (at + 4 > field.length) throw corrupt(`${where}: missing ZIP64 disk number`, path);
        diskStart = field.readUInt32LE(at);
      }
    }
    if (diskStart !== 0) throw corrupt('split (multi-disk) ZIP archives are not supported', path);

    const encrypted = (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) !== 0 || method === METHOD_AES;
    const isDirectory = path.endsWith('/') || unixFileType(versionMadeBy, externalAttributes) === S_IFDIR;
    entries.push({
      index: entries.length,
      path,
      rawName,
      isDirectory,
      method,
      flags,
      encrypted,
      crc32,
      compressedSize,
      uncompressedSize,
      localHeaderOffset,
      versionMadeBy,
      externalAttributes,
      unicodePath: extras.unicodePath,
      nameEncoding: options.fallbackEncoding,
      dataLimit: cdOffset,
    });
    pos = next;
  }
  // A 16-bit count wraps past 65,535 entries when a writer omits ZIP64 (jszip does): accept that,
  // never a directory that holds a different number of headers than its end record says.
  const countMatches = zip64 ? entries.length === entryCount : entries.length % 0x10000 === entryCount;
  if (!countMatches) {
    throw corrupt(`the end record says ${entryCount} entries, the central directory holds ${entries.length}`);
  }
  checkLayout(entries, cdOffset);
  return { entries, size: reader.size, zip64, centralDirectoryOffset: cdOffset };
}

/**
 * Every entry needs at least a local header plus its compressed bytes before the next local header
 * (or the central directory). Entries sharing a local header, or whose data runs into the next one,
 * are the "overlapping files" zip bomb: `corrupt`. Sets each entry's `dataLimit`.
 */
function checkLayout(entries: ZipEntry[], cdOffset: number): void {
  let sorted = true;
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.localHeaderOffset < entries[i - 1]!.localHeaderOffset) {
      sorted = false;
      break;
    }
  }
  const ordered = sorted ? entries : [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  for (let i = 0; i < ordered.length; i++) {
    const entry = ordered[i]!;
    const next = ordered[i + 1];
    const limit = next === undefined ? cdOffset : next.localHeaderOffset;
    if (next !== undefined && next.localHeaderOffset === entry.localHeaderOffset) {
      throw corrupt(
        `entries "${entry.path}" and "${next.path}" share the local header at ${entry.localHeaderOffset} (overlapping entries)`,
        next.path,
      );
    }
    if (entry.localHeaderOffset + LOCAL_HEADER_BYTES + entry.compressedSize > limit) {
      const what = next === undefined ? 'the central directory' : `entry "${next.path}"`;
      throw corrupt(
        `the data of "${entry.path}" (${entry.compressedSize} bytes at ${entry.localHeaderOffset}) overlaps ${what}`,
        entry.path,
      );
    }
    entry.dataLimit = limit;
  }
}
