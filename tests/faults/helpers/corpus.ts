import { createHash } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { buildZip } from '@logzip/test-utils';
import { pick, randomInt } from './settings.js';

/** One uploaded version of an archive: what is in it, and what S3 says it is. */
export interface ArchiveVersion {
  etag: string;
  size: number;
  /** Path inside the archive → content: the ground truth a correct extraction reproduces. */
  files: Map<string, Buffer>;
}

export interface UploadedArchive {
  logId: string;
  bucket: string;
  key: string;
  /** Every version uploaded under the key, oldest first; the last one is the current object. */
  versions: ArchiveVersion[];
}

const WORDS = ['INFO', 'WARN', 'ERROR', 'DEBUG', 'request', 'user', 'session', 'timeout', 'retry', 'ok'];
const NAMES = ['app', 'main', 'crash', 'trace', 'worker', 'ui', 'net', 'db'];
const DIRS = ['', 'logs/', 'logs/2026-11-28/', 'diag/', 'ログ/'];

/** Log-like text of about `bytes` bytes (compressible, like the real thing). */
function logText(random: () => number, bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  let n = 0;
  while (size < bytes) {
    const line = `${String(n++).padStart(6, '0')} ${pick(random, WORDS)} ${pick(random, WORDS)} ${Math.floor(random() * 1e9).toString(36)}\n`;
    lines.push(line);
    size += Buffer.byteLength(line);
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

/**
 * The files of one archive: `minFiles`–`maxFiles` entries of 0–`maxBytes` bytes, in nested
 * folders, with a Japanese folder name now and then and an empty file now and then.
 */
export function archiveFiles(
  random: () => number,
  options: { minFiles?: number; maxFiles?: number; maxBytes?: number } = {},
): Map<string, Buffer> {
  const count = randomInt(random, options.minFiles ?? 3, options.maxFiles ?? 10);
  const files = new Map<string, Buffer>();
  for (let i = 0; files.size < count; i++) {
    const path = `${pick(random, DIRS)}${pick(random, NAMES)}-${i}.log`;
    const bytes = random() < 0.1 ? 0 : randomInt(random, 1, options.maxBytes ?? 48 * 1024);
    files.set(path, logText(random, bytes));
  }
  return files;
}

/** `incoming/ab/cd/<logId>.zip`, shard = the first four hex digits of sha256(logId) (the ingest layout). */
export function shardedKey(logId: string, prefix = 'incoming/'): string {
  const hex = createHash('sha256').update(logId).digest('hex');
  return `${prefix}${hex.slice(0, 2)}/${hex.slice(2, 4)}/${logId}.zip`;
}

/** Builds the zip and PUTs it straight to the S3 server (not through the fault proxy). */
export async function uploadVersion(
  s3: S3Client,
  bucket: string,
  key: string,
  files: Map<string, Buffer>,
): Promise<ArchiveVersion> {
  const body = await buildZip([...files].map(([name, data]) => ({ name, data })));
  const out = await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length }),
  );
  return { etag: (out.ETag ?? '').replace(/"/g, ''), size: body.length, files };
}

/** Uploads `count` new archives named `<label><round>x<i>` and returns them. */
export async function uploadBatch(
  s3: S3Client,
  bucket: string,
  random: () => number,
  options: { label: string; round: number; count: number; maxFiles?: number; maxBytes?: number },
): Promise<UploadedArchive[]> {
  const archives: UploadedArchive[] = [];
  const ids = Array.from({ length: options.count }, (_, i) => `${options.label}${options.round}x${i}`);
  // Contents are drawn in order (reproducible from the seed); uploads run a few at a time.
  const planned = ids.map((logId) => ({
    logId,
    files: archiveFiles(random, {
      ...(options.maxFiles === undefined ? {} : { maxFiles: options.maxFiles }),
      ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
    }),
  }));
  for (let i = 0; i < planned.length; i += 8) {
    const slice = planned.slice(i, i + 8);
    archives.push(
      ...(await Promise.all(
        slice.map(async ({ logId, files }) => {
          const key = shardedKey(logId);
          return { logId, bucket, key, versions: [await uploadVersion(s3, bucket, key, files)] };
        }),
      )),
    );
  }
  return archives;
}
