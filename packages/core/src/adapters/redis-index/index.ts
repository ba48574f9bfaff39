export type { IndexKeys } from './keys.js';
export { DEFAULT_INDEX_NAMESPACE, indexKeys } from './keys.js';
export type { RedisFailureIndexOptions } from './redis-failure-index.js';
export {
  AUDIT_ENTRY_MAX_CHARS,
  auditEntryId,
  createFailureIndexFromConfig,
  createRedisFailureIndex,
  PREFIX_SEARCH_CAP,
} from './redis-failure-index.js';
