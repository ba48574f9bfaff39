import type { FailureIndex } from '../ports/failure-index.js';
import type { Logger } from '../ports/logger.js';
import { silentLogger } from '../ports/logger.js';
import type { ObservedArchive, PendingMarks } from '../ports/pending-set.js';
import { sameFailureSummary, summarizeFailure, summarizeManifest } from './index-summary.js';
import type { StateStore } from './state-store.js';
import type { FailureRecord } from './types.js';

/** What the write-through needs of the index: its writes and the one-record lookup (for healing). */
export type IndexWriter = Pick<
  FailureIndex,
  'putFailure' | 'removeFailure' | 'putManifest' | 'removeManifest' | 'addAudit' | 'lookup'
> & {
  /** The pending set: a manifest or a final failure settles the log ID (the periodic sweep stops checking it). */
  pending?: PendingMarks;
};

/** Settles unconditionally (a purge: whatever was observed, nothing of the log ID is left to check). */
const END_OF_TIME = new Date(8.64e15);

/** A state store whose writes also update an index, and which can say which one. */
export interface IndexedStateStore extends StateStore {
  readonly index: IndexWriter;
  /** Re-reads a record and corrects its index entry if the two disagree (removes it if the object is gone). */
  healFailure(logId: string): Promise<FailureRecord | undefined>;
}

export interface IndexedStateStoreOptions {
  /** Index writes that fail are logged here (the object was written: a rebuild or a read heals the index). */
  logger?: Pick<Logger, 'warn'>;
}

/**
 * Wraps a state store so every write (manifest, failure record, resolve, purge, audit) updates the
 * index right after the object is written, in the same call. The object stays the truth: an index
 * write that fails is logged, not thrown, so an extraction never fails because Redis hiccuped; the
 * record is healed the next time a page or getFailure reads it, and `logzip reindex --check`
 * reports what is still out of step.
 *
 * @example
 * const state = createIndexedStateStore(createStateStore({ store, bucket, prefix }), createRedisFailureIndex({ redis }));
 */
export function createIndexedStateStore(
  state: StateStore,
  index: IndexWriter,
  options: IndexedStateStoreOptions = {},
): IndexedStateStore {
  const logger = options.logger ?? silentLogger;
  const quietly = async (what: string, logId: string | undefined, write: () => Promise<void>) => {
    try {
      await write();
    } catch (error) {
      logger.warn(
        { logId, err: error instanceof Error ? error.message : String(error) },
        `the index missed a ${what} (the object is written; a rebuild or the next read heals it)`,
      );
    }
  };

  async function healFailure(logId: string, record?: FailureRecord): Promise<FailureRecord | undefined> {
    const truth = record ?? (await state.getFailure(logId));
    await quietly('heal', logId, async () => {
      const { failure } = await index.lookup(logId);
      if (truth === undefined) {
        if (failure !== undefined) await index.removeFailure(logId);
        return;
      }
      const summary = summarizeFailure(truth);
      if (!sameFailureSummary(failure, summary)) await index.putFailure(summary);
    });
    return truth;
  }

  return {
    index,
    healFailure: (logId) => healFailure(logId),
    getManifest: (logId) => state.getManifest(logId),
    async putManifest(manifest) {
      await state.putManifest(manifest);
      await quietly('manifest', manifest.logId, () => index.putManifest(summarizeManifest(manifest)));
      const started = new Date(manifest.startedAt);
      await quietly('settled archive', manifest.logId, async () =>
        index.pending?.settle(manifest.logId, Number.isNaN(started.getTime()) ? new Date(0) : started),
      );
    },
    async retireManifest(logId) {
      await state.retireManifest(logId);
      await quietly('retired manifest', logId, () => index.removeManifest(logId));
    },
    listHistory: (logId) => state.listHistory(logId),
    async getFailure(logId) {
      const record = await state.getFailure(logId);
      if (record !== undefined) return healFailure(logId, record);
      // Gone (a lifecycle rule, a purge elsewhere): an entry left behind goes too.
      await quietly('heal', logId, async () => {
        if ((await index.lookup(logId)).failure !== undefined) await index.removeFailure(logId);
      });
      return undefined;
    },
    async putFailure(record) {
      await state.putFailure(record);
      await quietly('failure record', record.logId, () => index.putFailure(summarizeFailure(record)));
      // Failed for good: the sweeper leaves it to the operators, so it stops being pending.
      if (record.state === 'failed') {
        await quietly('settled archive', record.logId, async () =>
          index.pending?.settle(record.logId, new Date(record.updatedAt)),
        );
      }
    },
    listFailures: (filter) => state.listFailures(filter),
    async appendAudit(entry) {
      await state.appendAudit(entry);
      await quietly('audit entry', undefined, () => index.addAudit(entry));
    },
    listAudit: (options) => state.listAudit(options),
    acquireLease: (logId, owner, ttlMs) => state.acquireLease(logId, owner, ttlMs),
    renewLease: (logId, owner, ttlMs) => state.renewLease(logId, owner, ttlMs),
    releaseLease: (logId, owner) => state.releaseLease(logId, owner),
    async purge(logId) {
      const removed = await state.purge(logId);
      await quietly('purge', logId, async () => {
        await index.removeFailure(logId);
        await index.removeManifest(logId);
        await index.pending?.settle(logId, END_OF_TIME);
      });
      return removed;
    },
  };
}

export function isIndexedStateStore(state: StateStore): state is IndexedStateStore {
  return 'index' in state && 'healFailure' in state;
}

/**
 * Marks an archive observed (the pending set the periodic sweep checks), when the state store is
 * indexed; a no-op otherwise. Never throws: a missed mark leaves the archive to the full sweep.
 *
 * @example
 * await observeArchive(state, { logId, bucket, key }, log);
 */
export async function observeArchive(
  state: StateStore,
  archive: ObservedArchive,
  logger: Pick<Logger, 'warn'> = silentLogger,
  at: Date = new Date(),
): Promise<void> {
  if (!isIndexedStateStore(state) || state.index.pending === undefined) return;
  try {
    await state.index.pending.observe(archive, at);
  } catch (error) {
    logger.warn(
      { logId: archive.logId, err: error instanceof Error ? error.message : String(error) },
      'could not mark the archive pending (the full sweep still finds it if it is never extracted)',
    );
  }
}

/**
 * The traceparent observed with the log ID's archive (see `ObservedArchive.traceparent`), when the
 * state store is indexed; undefined otherwise. Never throws: a failed read only loses the parent.
 * One Redis read, so callers ask only with tracing on and no parent from the object or the job.
 *
 * @example
 * const parent = metadata?.[TRACEPARENT] ?? (await observedTraceparent(state, logId));
 */
export async function observedTraceparent(state: StateStore, logId: string): Promise<string | undefined> {
  if (!isIndexedStateStore(state) || state.index.pending === undefined) return undefined;
  return state.index.pending.traceparentOf(logId).catch(() => undefined);
}
