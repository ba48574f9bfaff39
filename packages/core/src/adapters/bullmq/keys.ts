import { DEFAULT_QUEUE_PREFIX } from '../../job.js';

export { DEFAULT_QUEUE_PREFIX };

/**
 * Every Redis key logzip writes outside BullMQ's own (those start with the queue prefix), from one
 * namespace. The names are contracts between processes: the admin sets the route flag the emulator
 * reads, the worker publishes the sweep snapshot the admin shows, the emulator pushes to the list
 * the worker drains. Everything here is derived from the namespace, so a deployment that shares its
 * Redis with another can be told apart by passing one value.
 */

/** The namespace of every logzip key (the default keeps the key names of earlier releases). */
export const DEFAULT_KEY_NAMESPACE = 'logzip:';

export interface RedisKeys {
  /** The route flag (`lambda` | `queue`). */
  readonly route: string;
  /** The audit list (LPUSH, newest first). */
  readonly audit: string;
  /** The local on-failure destination: payload JSON strings, newest first (+ `:processing`, `:dead`). */
  readonly lambdaDestination: string;
  /** Where the last sweep's backlog is shared, per BullMQ prefix. */
  sweepSnapshot(queuePrefix?: string): string;
  /** Prefix of the ingest API's idempotency records (+ `<tenant>:<key>`). */
  readonly ingestIdempotencyPrefix: string;
  /** Prefix of the admin's rate-limit counters. */
  readonly rateLimitPrefix: string;
  /** Prefix of the admin's short locks (+ the lock name, e.g. `route-switch`). */
  readonly lockPrefix: string;
  /** The producer's short lock around one log ID's enqueue. */
  enqueueLock(queuePrefix: string, queueName: string, jobId: string): string;
  /** The trigger emulator's memory of what it fired for one bucket and prefix. */
  emulatorFired(bucket: string, prefix: string): string;
}

/**
 * The key names under a namespace (default `logzip:`).
 *
 * @example
 * const keys = redisKeys();
 * await redis.get(keys.route); // 'logzip:route'
 */
export function redisKeys(namespace: string = DEFAULT_KEY_NAMESPACE): RedisKeys {
  const ns = namespace;
  return {
    route: `${ns}route`,
    audit: `${ns}audit`,
    lambdaDestination: `${ns}lambda-destination`,
    sweepSnapshot: (queuePrefix = DEFAULT_QUEUE_PREFIX) =>
      queuePrefix === DEFAULT_QUEUE_PREFIX ? `${ns}sweep:last` : `${ns}sweep:last:${queuePrefix}`,
    ingestIdempotencyPrefix: `${ns}ingest:idempotency:`,
    rateLimitPrefix: `${ns}rate-limit:`,
    lockPrefix: `${ns}lock:`,
    enqueueLock: (queuePrefix, queueName, jobId) => `${ns}enqueue-lock:${queuePrefix}:${queueName}:${jobId}`,
    emulatorFired: (bucket, prefix) => `${ns}emulator:fired:${bucket}:${prefix}`,
  };
}

/** The default namespace's keys. */
export const DEFAULT_KEYS: RedisKeys = redisKeys();
