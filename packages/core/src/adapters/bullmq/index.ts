export type { HeartbeatKeys, WorkerHeartbeat } from './heartbeat.js';
export { HEARTBEAT_TTL_MS, readHeartbeats, removeHeartbeat, writeHeartbeat } from './heartbeat.js';
export type { GroupKeys, IndexKeys, OperationKeys, RedisKeys } from './keys.js';
export {
  DEFAULT_KEY_NAMESPACE,
  DEFAULT_KEYS,
  DEFAULT_QUEUE_PREFIX,
  groupKeys,
  indexKeys,
  KEY_NAMESPACE_RE,
  operationKeys,
  otherDeployments,
  otherDeploymentsWarning,
  queuePrefixFor,
  redisKeys,
} from './keys.js';
export type { OperationJob } from './operations-queue.js';
export { enqueueOperationRun, OPERATIONS_QUEUE_NAME } from './operations-queue.js';
export type {
  OperationItemDeps,
  OperationsWorker,
  StartOperationsWorkerOptions,
} from './operations-worker.js';
export { purgeItem, reenqueueItem, startOperationsWorker } from './operations-worker.js';
export type { JobResult, ProcessorDeps, ProcessorMetrics } from './processor.js';
export { createExtractProcessor, JobAttemptError } from './processor.js';
export type { BullmqProducer, BullmqProducerOptions, QueueJobState } from './producer.js';
export {
  COUNTED_STATES,
  createBullmqProducer,
  DEFAULT_REMOVE_ON_COMPLETE,
  DEFAULT_REMOVE_ON_FAIL,
  EXTRACT_JOB_NAME,
  PENDING_STATES,
} from './producer.js';
export type { CreateRedisOptions, RedisCheck } from './redis.js';
export {
  checkRedis,
  createRedis,
  isRedisUnreachable,
  redactRedisUrl,
  waitForRedis,
} from './redis.js';
export { createRedisRouteStore } from './route-store.js';
export { readSweepSnapshot, sweepSnapshotPublisher } from './sweep-snapshot.js';
