import type { FailureIndex } from '../ports/failure-index.js';
import type { ObjectStore } from '../ports/object-store.js';
import { parseStateObject, sameFailureSummary, summarizeFailure } from './index-summary.js';

export interface CheckIndexOptions {
  store: ObjectStore;
  bucket: string;
  prefix: string;
  index: FailureIndex;
  /** Resolved records older than this are out of the index on purpose (retention). */
  retainedSince?: Date;
  concurrency?: number;
  /** How many examples of each problem to keep (default 20). */
  samples?: number;
}

export type DriftProblem = 'missing' | 'stale' | 'orphan';

export interface IndexDrift {
  /** Failure records read from the objects. */
  checked: number;
  /** A record the index does not have. */
  missing: number;
  /** A record the index has with another state, code, route, time or attempt count. */
  stale: number;
  /** An index entry whose object is gone. */
  orphan: number;
  samples: Array<{ logId: string; problem: DriftProblem }>;
}

/**
 * Compares the failure entries of the index with the failure records (the truth), both ways,
 * streaming: reports what is missing, stale or orphaned, changes nothing (`logzip reindex` fixes).
 */
export async function checkIndex(options: CheckIndexOptions): Promise<IndexDrift> {
  const { store, bucket, index } = options;
  const prefix =
    options.prefix === '' || options.prefix.endsWith('/') ? options.prefix : `${options.prefix}/`;
  const concurrency = options.concurrency ?? 16;
  const maxSamples = options.samples ?? 20;
  const drift: IndexDrift = { checked: 0, missing: 0, stale: 0, orphan: 0, samples: [] };
  const note = (logId: string, problem: DriftProblem) => {
    drift[problem] += 1;
    if (drift.samples.length < maxSamples) drift.samples.push({ logId, problem });
  };
  const retained = options.retainedSince?.getTime();

  const failuresPrefix = `${prefix}failures/`;
  let keys: string[] = [];
  const checkKeys = async () => {
    await inParallel(keys, concurrency, async (key) => {
      let body: Buffer;
      try {
        body = await store.get(bucket, key);
      } catch {
        return;
      }
      const parsed = parseStateObject('failures', key, body);
      if (parsed.kind !== 'failures') return;
      drift.checked += 1;
      const summary = summarizeFailure(parsed.value);
      const { failure } = await index.lookup(summary.logId);
      if (failure === undefined) {
        const expired =
          retained !== undefined && summary.state === 'resolved' && Date.parse(summary.updatedAt) < retained;
        if (!expired) note(summary.logId, 'missing');
      } else if (!sameFailureSummary(failure, summary)) note(summary.logId, 'stale');
    });
    keys = [];
  };
  for await (const object of store.list(bucket, failuresPrefix, { delimiter: true, keysOnly: true })) {
    if (!object.key.endsWith('.json')) continue;
    keys.push(object.key);
    if (keys.length >= 500) await checkKeys();
  }
  await checkKeys();

  for await (const ids of index.scanFailureIds()) {
    await inParallel(ids, concurrency, async (logId) => {
      if ((await store.head(bucket, `${failuresPrefix}${logId}.json`)) === undefined) note(logId, 'orphan');
    });
  }
  return drift;
}

async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}
