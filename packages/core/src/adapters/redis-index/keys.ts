// The index's, groups' and operations' key names live with every other logzip Redis key (adapters/bullmq/keys.ts).
export type { GroupKeys, IndexKeys, OperationKeys } from '../bullmq/keys.js';
export {
  DEFAULT_KEY_NAMESPACE as DEFAULT_INDEX_NAMESPACE,
  groupKeys,
  indexKeys,
  operationKeys,
} from '../bullmq/keys.js';
