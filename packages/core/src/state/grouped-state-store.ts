import type { FailureGroups, GroupChange } from '../ports/failure-groups.js';
import type { Logger } from '../ports/logger.js';
import { silentLogger } from '../ports/logger.js';
import { fingerprintFailure } from './fingerprint.js';
import { isIndexedStateStore } from './indexed-state-store.js';
import type { StateStore } from './state-store.js';
import type { FailureRecord } from './types.js';

export interface GroupedStateStoreOptions {
  /** Group writes that fail are logged here (the object is written: a reindex regroups it). */
  logger?: Pick<Logger, 'warn'>;
  /** Called after a record joined its group, with what that did to the group (alerts by group). */
  onGrouped?: (record: FailureRecord, change: GroupChange, fingerprint: string) => void | Promise<void>;
}

/** Puts one failure record in its group (or takes it out): what the write-through and a rebuild share. */
export async function groupFailure(groups: FailureGroups, record: FailureRecord): Promise<GroupChange> {
  const { fingerprint, signature } = fingerprintFailure(record);
  return groups.put({
    logId: record.logId,
    fingerprint,
    signature,
    code: record.code,
    route: record.route,
    state: record.state,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  });
}

/**
 * Wraps a state store so every failure record written (a failed attempt, a resolve) moves its log
 * ID into its failure group or out of it, and a purge takes it out. Like the index, the object is
 * the truth: a group write that fails is logged, never thrown.
 *
 * @example
 * const state = createGroupedStateStore(createIndexedStateStore(objects, index), createRedisFailureGroups({ redis }));
 */
export function createGroupedStateStore(
  state: StateStore,
  groups: FailureGroups,
  options: GroupedStateStoreOptions = {},
): StateStore {
  const logger = options.logger ?? silentLogger;
  const quietly = async (logId: string, write: () => Promise<void>) => {
    try {
      await write();
    } catch (error) {
      logger.warn(
        { logId, err: error instanceof Error ? error.message : String(error) },
        'the failure groups missed a write (the object is written; a reindex regroups it)',
      );
    }
  };
  // Delegation spelled out: a class-based store's methods live on its prototype, which a spread
  // would leave behind. An indexed store underneath stays recognisable (its index and heal pass on).
  const indexed = isIndexedStateStore(state)
    ? { index: state.index, healFailure: (logId: string) => state.healFailure(logId) }
    : {};
  return {
    ...indexed,
    getManifest: (logId) => state.getManifest(logId),
    putManifest: (manifest) => state.putManifest(manifest),
    retireManifest: (logId) => state.retireManifest(logId),
    listHistory: (logId) => state.listHistory(logId),
    getFailure: (logId) => state.getFailure(logId),
    listFailures: (filter) => state.listFailures(filter),
    appendAudit: (entry) => state.appendAudit(entry),
    listAudit: (options) => state.listAudit(options),
    acquireLease: (logId, owner, ttlMs) => state.acquireLease(logId, owner, ttlMs),
    renewLease: (logId, owner, ttlMs) => state.renewLease(logId, owner, ttlMs),
    releaseLease: (logId, owner) => state.releaseLease(logId, owner),
    async putFailure(record) {
      await state.putFailure(record);
      await quietly(record.logId, async () => {
        const change = await groupFailure(groups, record);
        await options.onGrouped?.(record, change, fingerprintFailure(record).fingerprint);
      });
    },
    async purge(logId) {
      const removed = await state.purge(logId);
      await quietly(logId, () => groups.remove(logId));
      return removed;
    },
  };
}
