import { randomUUID } from 'node:crypto';
import type { Clock } from '../ports/clock.js';
import { systemClock } from '../ports/clock.js';
import type { FailureGroups } from '../ports/failure-groups.js';
import type { FailureIndex, IndexBatch, RebuildCheckpoint, RebuildPhase } from '../ports/failure-index.js';
import type { ObjectStore } from '../ports/object-store.js';
import { groupFailure } from './grouped-state-store.js';
import { parseStateObject, summarizeFailure, summarizeManifest } from './index-summary.js';
import type { FailureRecord } from './types.js';

export const REBUILD_PHASES: readonly RebuildPhase[] = ['manifests', 'failures', 'audit'];

export interface ReindexOptions {
  store: ObjectStore;
  /** The bucket of the state prefix (the output bucket). */
  bucket: string;
  /** The state prefix (`LOGZIP_STATE_PREFIX`). */
  prefix: string;
  index: FailureIndex;
  /**
   * The failure groups, rebuilt from the same failure records (each record joins its group, or
   * leaves it when no longer `failed`; a record that is gone leaves its group). Without it only
   * the index is rebuilt.
   */
  groups?: FailureGroups;
  /** Who holds the rebuild lock (shown to a second reindex). Default: a random id. */
  owner?: string;
  /** Objects read and written to Redis per batch (default 500): memory stays at one batch. */
  batchSize?: number;
  /** Objects read at once (default 16). */
  concurrency?: number;
  /** The lock expires this long after the last batch (default 60 s), so a killed run frees it. */
  lockTtlMs?: number;
  clock?: Clock;
  onProgress?: (progress: ReindexProgress) => void;
  /** A corrupt or foreign object: reported, skipped, never fatal. */
  onInvalid?: (object: { key: string; reason: string }) => void;
  /** Stops after the current batch; the checkpoint lets the next run resume. */
  signal?: AbortSignal;
}

export interface ReindexCounts {
  manifests: number;
  failures: number;
  audit: number;
  /** Corrupt or foreign objects skipped. */
  skipped: number;
}

export interface ReindexProgress {
  phase: RebuildPhase;
  counts: ReindexCounts;
  /** Objects done, this run and the runs it resumes. */
  done: number;
  /** Objects under the indexed prefixes, counted by a listing that runs ahead (final once `counted`). */
  total: number;
  counted: boolean;
  /** Objects per second in this process. */
  rate: number;
  /** Seconds left at the current rate, when the total is known. */
  etaSeconds: number | undefined;
  elapsedMs: number;
}

export type ReindexResult =
  | {
      status: 'done';
      runId: string;
      /** Whether it continued an interrupted run. */
      resumed: boolean;
      /** Times it started over because Redis lost the index mid-run. */
      restarts: number;
      counts: ReindexCounts;
      /** Index entries whose failure record is gone (deleted by a lifecycle rule, by hand) that were removed. */
      pruned: number;
      durationMs: number;
      rate: number;
    }
  | { status: 'busy'; owner: string; checkpoint?: RebuildCheckpoint }
  | { status: 'interrupted'; checkpoint: RebuildCheckpoint };

const MAX_RESTARTS = 3;

class IndexLostError extends Error {}

/**
 * Rebuilds the index from the objects of the state prefix: manifests, failure records, audit
 * entries, each listed as a stream and indexed a batch at a time (memory: one batch), the failure
 * records regrouped too when `groups` is given; then drops the entries whose record is gone. Safe beside
 * live writes: an older summary never replaces a newer one. Resumable: after every batch the
 * checkpoint (phase, last key) is in Redis, and a run that finds one continues from it. One run at
 * a time: a second one gets `busy`. Redis flushed mid-run: the run notices (its lock and marker
 * are gone) and starts over; views answer "rebuilding" until it completes.
 *
 * @example
 * const result = await reindex({ store, bucket, prefix: 'logzip-state/', index });
 * if (result.status === 'busy') console.error(`another reindex (${result.owner}) is running`);
 */
export async function reindex(options: ReindexOptions): Promise<ReindexResult> {
  const { index, clock = systemClock } = options;
  const owner = options.owner ?? `reindex-${randomUUID()}`;
  const ttl = options.lockTtlMs ?? 60_000;
  const prefix =
    options.prefix === '' || options.prefix.endsWith('/') ? options.prefix : `${options.prefix}/`;
  if (!(await index.rebuild.acquire(owner, ttl))) {
    const readiness = await index.readiness();
    return {
      status: 'busy',
      owner: readiness.rebuilding?.owner ?? 'unknown',
      ...(readiness.rebuilding?.checkpoint === undefined
        ? {}
        : { checkpoint: readiness.rebuilding.checkpoint }),
    };
  }
  const started = Date.now();
  let restarts = 0;
  let resumed = false;
  try {
    for (;;) {
      const previous = await index.rebuild.readCheckpoint();
      resumed ||= previous !== undefined;
      const checkpoint: RebuildCheckpoint = previous ?? {
        runId: randomUUID(),
        phase: 'manifests',
        counts: { manifests: 0, failures: 0, audit: 0, skipped: 0 },
        startedAt: clock.now().toISOString(),
        ...((await isEmpty(index)) ? { fromEmpty: true } : {}),
      };
      try {
        const outcome = await runPhases({ ...options, prefix, owner, ttl }, checkpoint, started);
        if (outcome === 'interrupted') return { status: 'interrupted', checkpoint };
        // Built from nothing, every entry came from an object read here or a live write (a purge
        // removes its entry itself): no orphan to look for, and a million HEADs saved.
        const pruned = checkpoint.fromEmpty ? 0 : await pruneOrphans({ ...options, prefix, owner, ttl });
        if (!(await index.rebuild.finish(checkpoint.runId, clock.now()))) throw new IndexLostError();
        const durationMs = Date.now() - started;
        const { manifests, failures, audit, skipped } = checkpoint.counts;
        return {
          status: 'done',
          runId: checkpoint.runId,
          resumed,
          restarts,
          counts: checkpoint.counts,
          pruned,
          durationMs,
          rate: Math.round(((manifests + failures + audit + skipped) * 1000) / Math.max(1, durationMs)),
        };
      } catch (error) {
        if (!(error instanceof IndexLostError) || restarts >= MAX_RESTARTS) throw error;
        // Redis lost the index (and the lock and checkpoint with it): start over.
        restarts += 1;
        if (!(await index.rebuild.acquire(owner, ttl))) {
          const readiness = await index.readiness();
          return { status: 'busy', owner: readiness.rebuilding?.owner ?? 'unknown' };
        }
      }
    }
  } finally {
    await index.rebuild.release(owner).catch(() => {});
  }
}

type RunOptions = ReindexOptions & { prefix: string; owner: string; ttl: number };

/** Whether the index holds no failure at all (a new or flushed Redis). */
async function isEmpty(index: FailureIndex): Promise<boolean> {
  for await (const ids of index.scanFailureIds()) if (ids.length > 0) return false;
  return true;
}

/** Removes index entries whose failure record no longer exists (one HEAD per indexed failure). */
async function pruneOrphans(options: RunOptions): Promise<number> {
  const { store, bucket, prefix, index } = options;
  const concurrency = options.concurrency ?? 16;
  let pruned = 0;
  for await (const ids of index.scanFailureIds()) {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, ids.length) }, async () => {
        while (next < ids.length) {
          const logId = ids[next++] as string;
          if ((await store.head(bucket, `${prefix}failures/${logId}.json`)) !== undefined) continue;
          await index.removeFailure(logId);
          await options.groups?.remove(logId);
          pruned += 1;
        }
      }),
    );
    if (!(await index.rebuild.renew(options.owner, options.ttl))) throw new IndexLostError();
  }
  return pruned;
}

async function runPhases(
  options: RunOptions,
  checkpoint: RebuildCheckpoint,
  started: number,
): Promise<'done' | 'interrupted'> {
  const { store, bucket, prefix, index } = options;
  const batchSize = options.batchSize ?? 500;
  const concurrency = options.concurrency ?? 16;
  await index.rebuild.begin(checkpoint.runId);
  const counter = countAhead(store, bucket, prefix, options.signal);
  const doneAtStart = totalDone(checkpoint);
  try {
    for (const phase of REBUILD_PHASES.slice(REBUILD_PHASES.indexOf(checkpoint.phase))) {
      const startAfter = phase === checkpoint.phase ? checkpoint.after : undefined;
      checkpoint.phase = phase;
      delete checkpoint.after;
      let keys: string[] = [];
      // One batch is written to Redis while the next one is read: the reads and the round trip
      // overlap. The checkpoint moves only once a batch is written.
      let writing: Promise<void> = Promise.resolve();
      const flush = async () => {
        if (keys.length === 0) return;
        const batchKeys = keys;
        keys = [];
        const batch = await readBatch(options, phase, batchKeys, concurrency, checkpoint);
        await writing;
        writing = (async () => {
          await writeBatch(options, batch, concurrency, checkpoint);
          checkpoint.after = batchKeys[batchKeys.length - 1] as string;
          if (!(await index.rebuild.renew(options.owner, options.ttl))) throw new IndexLostError();
          await index.rebuild.writeCheckpoint(checkpoint);
          report(options, checkpoint, counter, started, doneAtStart);
        })();
        // A failed write surfaces at the next await of `writing`; never as an unhandled rejection.
        writing.catch(() => {});
      };
      const listing = store.list(bucket, `${prefix}${phase}/`, {
        delimiter: phase !== 'audit',
        keysOnly: true,
        ...(startAfter === undefined ? {} : { startAfter }),
      });
      for await (const object of listing) {
        if (!object.key.endsWith('.json')) continue;
        keys.push(object.key);
        if (keys.length >= batchSize) {
          await flush();
          if (options.signal?.aborted) {
            await writing;
            return 'interrupted';
          }
        }
      }
      await flush();
      await writing;
    }
    report(options, checkpoint, counter, started, doneAtStart);
    return 'done';
  } finally {
    counter.stop();
  }
}

async function readBatch(
  options: RunOptions,
  phase: RebuildPhase,
  keys: readonly string[],
  concurrency: number,
  checkpoint: RebuildCheckpoint,
): Promise<ReadBatch> {
  const batch: Required<IndexBatch> = { failures: [], manifests: [], audit: [] };
  // The failure records themselves, when the groups are rebuilt too.
  const records: FailureRecord[] = [];
  let next = 0;
  const readers = Array.from({ length: Math.min(concurrency, keys.length) }, async () => {
    while (next < keys.length) {
      const key = keys[next++] as string;
      let body: Buffer;
      try {
        body = await options.store.get(options.bucket, key);
      } catch (error) {
        // Deleted since it was listed (a purge): nothing to index.
        if ((error as { code?: string }).code === 'source_not_found') continue;
        throw error;
      }
      const parsed = parseStateObject(phase, key, body);
      if (parsed.kind === 'invalid') {
        checkpoint.counts.skipped += 1;
        options.onInvalid?.({ key, reason: parsed.reason });
      } else if (parsed.kind === 'manifests') batch.manifests.push(summarizeManifest(parsed.value));
      else if (parsed.kind === 'failures') {
        batch.failures.push(summarizeFailure(parsed.value));
        if (options.groups !== undefined) records.push(parsed.value);
      } else batch.audit.push(parsed.value);
    }
  });
  await Promise.all(readers);
  return { batch, records };
}

interface ReadBatch {
  batch: Required<IndexBatch>;
  records: FailureRecord[];
}

async function writeBatch(
  options: RunOptions,
  { batch, records }: ReadBatch,
  concurrency: number,
  checkpoint: RebuildCheckpoint,
): Promise<void> {
  await options.index.putBatch(batch);
  const groups = options.groups;
  if (groups !== undefined) {
    // Idempotent, and an older record never replaces a newer one: safe beside live writes and on resume.
    let nextRecord = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, records.length) }, async () => {
        while (nextRecord < records.length)
          await groupFailure(groups, records[nextRecord++] as FailureRecord);
      }),
    );
  }
  checkpoint.counts.manifests += batch.manifests.length;
  checkpoint.counts.failures += batch.failures.length;
  checkpoint.counts.audit += batch.audit.length;
}

function totalDone(checkpoint: RebuildCheckpoint): number {
  const { manifests, failures, audit, skipped } = checkpoint.counts;
  return manifests + failures + audit + skipped;
}

function report(
  options: RunOptions,
  checkpoint: RebuildCheckpoint,
  counter: Counter,
  started: number,
  doneAtStart: number,
): void {
  if (options.onProgress === undefined) return;
  const elapsedMs = Date.now() - started;
  const done = totalDone(checkpoint);
  const rate = Math.round(((done - doneAtStart) * 1000) / Math.max(1, elapsedMs));
  const total = Math.max(counter.total(), done);
  options.onProgress({
    phase: checkpoint.phase,
    counts: { ...checkpoint.counts },
    done,
    total,
    counted: counter.finished(),
    rate,
    etaSeconds: counter.finished() && rate > 0 ? Math.ceil((total - done) / rate) : undefined,
    elapsedMs,
  });
}

interface Counter {
  total(): number;
  finished(): boolean;
  stop(): void;
}

/** Counts the objects to index with a keys-only listing that runs beside the rebuild (for the ETA). */
function countAhead(store: ObjectStore, bucket: string, prefix: string, signal?: AbortSignal): Counter {
  let total = 0;
  let finished = false;
  let stopped = false;
  void (async () => {
    for (const phase of REBUILD_PHASES) {
      for await (const object of store.list(bucket, `${prefix}${phase}/`, {
        delimiter: phase !== 'audit',
        keysOnly: true,
        // A count: a folder store need not hold and sort a second copy of the names.
        unordered: true,
      })) {
        if (stopped || signal?.aborted) return;
        if (object.key.endsWith('.json')) total += 1;
      }
    }
    finished = true;
  })().catch(() => {
    // The count is only for the ETA; the rebuild's own listing reports real errors.
  });
  return {
    total: () => total,
    finished: () => finished,
    stop: () => {
      stopped = true;
    },
  };
}
