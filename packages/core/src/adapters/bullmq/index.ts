export type { BullmqProducer, BullmqProducerOptions, QueueJobState } from './producer.js';
export {
  createBullmqProducer,
  DEFAULT_QUEUE_PREFIX,
  DEFAULT_REMOVE_ON_COMPLETE,
  DEFAULT_REMOVE_ON_FAIL,
  EXTRACT_JOB_NAME,
  PENDING_STATES,
} from './producer.js';
export type { CreateRedisOptions, RedisCheck } from './redis.js';
export { checkRedis, createRedis, redactRedisUrl, waitForRedis } from './redis.js';
export { createRedisRouteStore, ROUTE_KEY } from './route-store.js';
