export type { IndexKeys } from './keys.js';
export { DEFAULT_INDEX_NAMESPACE, indexKeys } from './keys.js';
export { createRedisDigestGate } from './redis-digest-gate.js';
export type { RedisFailureGroupsOptions } from './redis-failure-groups.js';
export { createRedisFailureGroups, groupKeys } from './redis-failure-groups.js';
export type { RedisFailureIndexOptions } from './redis-failure-index.js';
export {
  AUDIT_ENTRY_MAX_CHARS,
  auditEntryId,
  createFailureIndexFromConfig,
  createRedisFailureIndex,
  PREFIX_SEARCH_CAP,
} from './redis-failure-index.js';
export type { RedisOperationStoreOptions } from './redis-operation-store.js';
export { createRedisOperationStore, operationKeys } from './redis-operation-store.js';
export { createRedisPendingSet } from './redis-pending-set.js';
