export type { GroupKeys, IndexKeys, OperationKeys } from './keys.js';
export { DEFAULT_INDEX_NAMESPACE, groupKeys, indexKeys, operationKeys } from './keys.js';
export { ACTIVITY_HOURS, ACTIVITY_WINDOW_MINUTES, readActivity, recordActivity } from './redis-activity.js';
export { createRedisDigestGate } from './redis-digest-gate.js';
export type { RedisFailureGroupsOptions } from './redis-failure-groups.js';
export { createRedisFailureGroups } from './redis-failure-groups.js';
export type { RedisFailureIndexOptions } from './redis-failure-index.js';
export {
  AUDIT_ENTRY_MAX_CHARS,
  auditEntryId,
  createFailureIndexFromConfig,
  createRedisFailureIndex,
  PREFIX_SEARCH_CAP,
} from './redis-failure-index.js';
export type { RedisOperationStoreOptions } from './redis-operation-store.js';
export { createRedisOperationStore } from './redis-operation-store.js';
export { createRedisPendingSet } from './redis-pending-set.js';
