import type { Limits } from '../config.js';
import { LogzipError } from '../errors.js';
import type { ZipDirectory, ZipEntry } from './directory.js';
import {
  METHOD_AES,
  METHOD_DEFLATE,
  METHOD_STORED,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFREG,
  S_IFSOCK,
  unixFileType,
} from './format.js';
import { unsafePathReason } from './names.js';

export interface PlannedEntry {
  entry: ZipEntry;
  /** The entry's path under the log ID's folder (validated). */
  path: string;
  /** `${outputPrefix}${logId}/${path}` */
  key: string;
}

export interface PlanOptions {
  logId: string;
  /** '' or a prefix ending in '/', e.g. 'extracted/'. */
  outputPrefix: string;
  limits: Limits;
}

/** S3's limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;
/** The compression ratio limit applies to entries larger than this (uncompressed). */
export const RATIO_MIN_BYTES = 2 ** 20;

const SPECIAL_FILES: Record<number, string> = {
  [S_IFLNK]: 'a symbolic link',
  [S_IFIFO]: 'a FIFO',
  [S_IFCHR]: 'a character device',
  [S_IFBLK]: 'a block device',
  [S_IFSOCK]: 'a socket',
};

/** Throws `encrypted` / `unsupported_method` for entries this reader cannot inflate. */
export function checkMethod(entry: ZipEntry): void {
  if (entry.encrypted) {
    const how = entry.method === METHOD_AES ? 'AES' : 'ZipCrypto';
    throw new LogzipError('encrypted', `"${entry.path}" is encrypted (${how})`, { entry: entry.path });
  }
  if (entry.method !== METHOD_STORED && entry.method !== METHOD_DEFLATE) {
    throw new LogzipError(
      'unsupported_method',
      `"${entry.path}" uses compression method ${entry.method} (only stored and deflate are supported)`,
      { entry: entry.path },
    );
  }
}

/** Throws `limits_exceeded` when an entry's declared size or ratio is over the limits. */
export function checkDeclaredSize(entry: ZipEntry, limits: Limits): void {
  const size = entry.uncompressedSize;
  if (size > limits.maxEntryBytes) {
    throw new LogzipError(
      'limits_exceeded',
      `"${entry.path}" is ${size} bytes uncompressed, more than the limit of ${limits.maxEntryBytes} per entry`,
      { entry: entry.path },
    );
  }
  if (size > RATIO_MIN_BYTES && size > entry.compressedSize * limits.maxRatio) {
    const ratio = entry.compressedSize === 0 ? 'infinite' : (size / entry.compressedSize).toFixed(0);
    throw new LogzipError(
      'limits_exceeded',
      `"${entry.path}" has a compression ratio of ${ratio}:1, more than the limit of ${limits.maxRatio}:1`,
      { entry: entry.path },
    );
  }
  if (entry.method === METHOD_STORED && entry.compressedSize !== entry.uncompressedSize) {
    throw new LogzipError(
      'corrupt',
      `"${entry.path}" is stored but declares ${entry.compressedSize} bytes stored and ${size} bytes uncompressed`,
      { entry: entry.path },
    );
  }
}

function checkUnsafe(entry: ZipEntry, path: string): void {
  const reason = unsafePathReason(path);
  if (reason !== undefined) {
    throw new LogzipError('unsafe_path', `unsafe entry name "${entry.path}": ${reason}`, {
      entry: entry.path,
    });
  }
}

/**
 * Every check possible from the central directory, before anything is written: encryption,
 * methods, unsafe names (absolute, drive, UNC, '..', NUL, empty segments), symlinks and other
 * special files, key length, duplicate keys (exact or after normalisation; also a file that is
 * another file's folder), declared sizes and ratios. Directory entries are dropped. Pure.
 *
 * @throws LogzipError naming the first offending entry (central directory order).
 * @example
 * const plan = planEntries(dir, { logId: '54321', outputPrefix: 'extracted/', limits: config.limits });
 */
export function planEntries(dir: ZipDirectory, options: PlanOptions): PlannedEntry[] {
  const { logId, outputPrefix, limits } = options;
  if (dir.entries.length > limits.maxEntries) {
    throw new LogzipError(
      'limits_exceeded',
      `the archive has ${dir.entries.length} entries, more than the limit of ${limits.maxEntries}`,
    );
  }
  const folder = `${outputPrefix}${logId}/`;
  const folderBytes = Buffer.byteLength(folder, 'utf8');
  const planned: PlannedEntry[] = [];
  const byKey = new Map<string, ZipEntry>();
  let declaredTotal = 0;

  for (const entry of dir.entries) {
    if (entry.isDirectory) {
      // Nothing is written for a folder, but a hostile one still marks a hostile archive.
      const trimmed = entry.path.replace(/\/+$/, '');
      if (trimmed !== '') checkUnsafe(entry, trimmed);
      if (entry.uncompressedSize !== 0) {
        throw new LogzipError(
          'corrupt',
          `directory entry "${entry.path}" declares ${entry.uncompressedSize} bytes of data`,
          { entry: entry.path },
        );
      }
      continue;
    }
    checkMethod(entry);
    checkUnsafe(entry, entry.path);
    const type = unixFileType(entry.versionMadeBy, entry.externalAttributes);
    if (type !== undefined && type !== 0 && type !== S_IFREG && type !== S_IFDIR) {
      const what = SPECIAL_FILES[type] ?? `a special file (mode ${type.toString(8)})`;
      throw new LogzipError('unsafe_path', `"${entry.path}" is ${what}`, { entry: entry.path });
    }
    const key = folder + entry.path;
    const keyBytes = folderBytes + Buffer.byteLength(entry.path, 'utf8');
    if (keyBytes > MAX_KEY_BYTES) {
      throw new LogzipError(
        'key_too_long',
        `the key for "${entry.path}" is ${keyBytes} bytes of UTF-8, more than ${MAX_KEY_BYTES}`,
        { entry: entry.path },
      );
    }
    const earlier = byKey.get(key);
    if (earlier !== undefined) {
      const how =
        Buffer.compare(earlier.rawName, entry.rawName) === 0
          ? 'the same name'
          : 'names that normalise to one key';
      throw new LogzipError(
        'duplicate_entry',
        `entries #${earlier.index} and #${entry.index} have ${how}: "${entry.path}"`,
        { entry: entry.path },
      );
    }
    byKey.set(key, entry);
    checkDeclaredSize(entry, limits);
    declaredTotal += entry.uncompressedSize;
    if (declaredTotal > limits.maxTotalBytes) {
      throw new LogzipError(
        'limits_exceeded',
        `the archive declares more than the limit of ${limits.maxTotalBytes} bytes uncompressed (at "${entry.path}")`,
        { entry: entry.path },
      );
    }
    planned.push({ entry, path: entry.path, key });
  }

  // A file whose key is also another file's folder cannot exist in a filesystem (and no archive
  // made from one has it): same defect class as a duplicate.
  for (const item of planned) {
    let slash = item.path.indexOf('/');
    while (slash !== -1) {
      const parent = byKey.get(folder + item.path.slice(0, slash));
      if (parent !== undefined) {
        throw new LogzipError(
          'duplicate_entry',
          `"${parent.path}" is a file and also the folder of "${item.path}"`,
          { entry: item.path },
        );
      }
      slash = item.path.indexOf('/', slash + 1);
    }
  }
  return planned;
}
