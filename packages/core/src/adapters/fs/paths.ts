import { join } from 'node:path';
import { LogzipError } from '../../errors.js';

/** Prefix of the temp files written before a rename; list() never shows them and keys cannot use it. */
export const TEMP_PREFIX = '.logzip-tmp-';

const MAX_KEY_BYTES = 1024;

/** Why a bucket or key cannot name a file under rootDir, or undefined when it can. */
function segmentProblem(segment: string): string | undefined {
  if (segment === '') return 'an empty path segment';
  if (segment === '.' || segment === '..') return `a "${segment}" segment`;
  if (segment.includes('\0')) return 'a NUL byte';
  if (segment.startsWith(TEMP_PREFIX))
    return `a segment starting with ${TEMP_PREFIX} (reserved for temp files)`;
  return undefined;
}

export function bucketProblem(bucket: string): string | undefined {
  if (bucket.includes('/') || bucket.includes('\\')) return 'a slash';
  return segmentProblem(bucket);
}

export function keyProblem(key: string): string | undefined {
  if (key === '') return 'an empty key';
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) return `more than ${MAX_KEY_BYTES} bytes`;
  for (const segment of key.split('/')) {
    const problem = segmentProblem(segment);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

export function bucketDir(rootDir: string, bucket: string): string {
  const problem = bucketProblem(bucket);
  if (problem !== undefined) {
    throw new LogzipError(
      'unsafe_path',
      `bucket name ${JSON.stringify(bucket)} cannot be a folder: ${problem}`,
    );
  }
  return join(rootDir, bucket);
}

/**
 * The file of an object, or a LogzipError `unsafe_path` (`key_too_long` past 1,024 bytes) when the key
 * cannot be a file inside its bucket folder: `..`/`.` segments, empty segments (`a//b`, a trailing
 * slash), NUL bytes. Such keys are refused rather than normalised, so two keys never share a file.
 */
export function objectPath(rootDir: string, bucket: string, key: string): string {
  const dir = bucketDir(rootDir, bucket);
  const problem = keyProblem(key);
  if (problem !== undefined) {
    const code = problem.startsWith('more than') ? 'key_too_long' : 'unsafe_path';
    throw new LogzipError(code, `key ${JSON.stringify(key)} cannot be stored as a file: ${problem}`, {
      entry: key,
    });
  }
  return join(dir, ...key.split('/'));
}

/** Like objectPath, but undefined for keys that cannot exist in a folder store (reads treat them as missing). */
export function existingObjectPath(rootDir: string, bucket: string, key: string): string | undefined {
  if (bucketProblem(bucket) !== undefined || keyProblem(key) !== undefined) return undefined;
  return join(rootDir, bucket, ...key.split('/'));
}

/**
 * S3 orders keys by their UTF-8 bytes (code point order); JavaScript's `<` orders UTF-16 units, which
 * differs only where a surrogate (a code point past U+FFFF) meets a unit from U+E000 up. Compared
 * unit by unit without allocating: sorting a folder of a million names calls this 20 million times.
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    if (xSurrogate !== ySurrogate && (xSurrogate ? y : x) >= 0xe000) return xSurrogate ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
