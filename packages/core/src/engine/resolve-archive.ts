import { LogzipError } from '../errors.js';
import { parseLogId, shardedArchiveKey } from '../log-id.js';
import type { ObjectInfo, ObjectStore } from '../ports/object-store.js';
import type { StateStore } from '../state/state-store.js';

export interface ResolveArchiveOptions {
  bucket: string;
  incomingPrefix: string;
  logIdPattern: RegExp;
  /**
   * Whether to list the incoming prefix when no known key exists (default true). Views pass false:
   * their cost must not grow with the number of uploads.
   */
  listIncoming?: boolean;
}

/**
 * Finds the archive of a log ID: the key of its failure record, else its manifest's source,
 * else the ingest API's sharded key or `<prefix><logId>.zip`, else the newest matching key under
 * the incoming prefix (a re-upload under another name wins by LastModified; not listed with
 * `listIncoming: false`). `source_not_found` when none exists.
 */
export async function resolveArchive(
  store: ObjectStore,
  state: StateStore,
  logId: string,
  options: ResolveArchiveOptions,
): Promise<ObjectInfo> {
  const candidates: Array<{ bucket: string; key: string }> = [];
  const failure = await state.getFailure(logId);
  if (failure !== undefined) candidates.push(failure.source);
  const manifest = await state.getManifest(logId);
  if (manifest !== undefined) candidates.push({ bucket: manifest.source.bucket, key: manifest.source.key });
  candidates.push({ bucket: options.bucket, key: shardedArchiveKey(options.incomingPrefix, logId) });
  candidates.push({ bucket: options.bucket, key: `${options.incomingPrefix}${logId}.zip` });

  const found: ObjectInfo[] = [];
  for (const candidate of candidates) {
    const info = await store.head(candidate.bucket, candidate.key);
    if (info !== undefined) found.push(info);
  }
  if (found.length === 0 && options.listIncoming !== false) {
    for await (const object of store.list(options.bucket, options.incomingPrefix)) {
      if (!object.key.toLowerCase().endsWith('.zip')) continue;
      try {
        if (parseLogId(object.key, options.logIdPattern) === logId) found.push(object);
      } catch {
        // keys that yield no log ID are not this log ID's archive
      }
    }
  }
  if (found.length === 0) {
    throw new LogzipError('source_not_found', `no archive found for log ID ${logId}`);
  }
  return found.reduce((newest, info) => (info.lastModified > newest.lastModified ? info : newest));
}
