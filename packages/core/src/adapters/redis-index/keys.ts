// The index's key names live with every other logzip Redis key (adapters/bullmq/keys.ts).
export type { IndexKeys } from '../bullmq/keys.js';
export { DEFAULT_KEY_NAMESPACE as DEFAULT_INDEX_NAMESPACE, indexKeys } from '../bullmq/keys.js';
