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
  /** Where the last scheduled canary's outcome is shared, per BullMQ prefix. */
  canarySnapshot(queuePrefix?: string): string;
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
  /** The failure index (`<ns>{index}:…`). */
  readonly index: IndexKeys;
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
    canarySnapshot: (queuePrefix = DEFAULT_QUEUE_PREFIX) =>
      queuePrefix === DEFAULT_QUEUE_PREFIX ? `${ns}canary:last` : `${ns}canary:last:${queuePrefix}`,
    ingestIdempotencyPrefix: `${ns}ingest:idempotency:`,
    rateLimitPrefix: `${ns}rate-limit:`,
    lockPrefix: `${ns}lock:`,
    enqueueLock: (queuePrefix, queueName, jobId) => `${ns}enqueue-lock:${queuePrefix}:${queueName}:${jobId}`,
    emulatorFired: (bucket, prefix) => `${ns}emulator:fired:${bucket}:${prefix}`,
    index: indexKeys(ns),
  };
}

/**
 * The failure index's keys. All of them carry the hash tag `{index}`, so on a Redis Cluster they
 * live in one slot and the scripts and transactions that touch several at once work unchanged.
 *
 * ```
 * <ns>{index}:meta                  hash: ready (ISO time of the last completed rebuild), building (run id)
 * <ns>{index}:f                     hash: log ID → failure summary (compact JSON array)
 * <ns>{index}:z:<state>:<code>:<route>   sorted sets of log IDs by updatedAt (ms); code and route
 *                                 may be `*` (any); any state reads the three states' sets
 * <ns>{index}:lex                   sorted set of every indexed failure log ID (score 0: prefix search)
 * <ns>{index}:codes                 set of the error codes seen (counts by code)
 * <ns>{index}:m                     hash: log ID → current manifest summary
 * <ns>{index}:audit                 sorted set of audit entry ids by time (ms)
 * <ns>{index}:audit:e               hash: audit entry id → the entry (JSON)
 * <ns>{index}:rebuild:lock          the running rebuild's owner (expires)
 * <ns>{index}:rebuild:checkpoint    where an interrupted rebuild resumes (JSON)
 * <ns>{index}:pending               sorted set: log IDs observed and not yet settled, by first-seen time (ms)
 * <ns>{index}:pending:src           hash: log ID → the observed archive (JSON [bucket, key, last-seen ms])
 * <ns>{index}:sweep:baseline        ISO time the last full sweep finished (missing: the periodic sweep lists)
 * <ns>{index}:sweep:checkpoint      where an interrupted full sweep resumes (JSON)
 * <ns>{index}:sweep:lock            the running full sweep's owner (expires)
 * ```
 */
export function indexKeys(namespace: string = DEFAULT_KEY_NAMESPACE) {
  const base = `${namespace}{index}:`;
  return {
    /** The common prefix; scripts derive the sorted-set names from it. */
    base,
    meta: `${base}meta`,
    failures: `${base}f`,
    /** The sorted set of one state and filter; an undefined code or route means "any". */
    byFilter: (state: string, code?: string, route?: string) =>
      `${base}z:${state}:${code ?? '*'}:${route ?? '*'}`,
    lex: `${base}lex`,
    codes: `${base}codes`,
    manifests: `${base}m`,
    audit: `${base}audit`,
    auditEntries: `${base}audit:e`,
    rebuildLock: `${base}rebuild:lock`,
    rebuildCheckpoint: `${base}rebuild:checkpoint`,
    pending: `${base}pending`,
    pendingSources: `${base}pending:src`,
    sweepBaseline: `${base}sweep:baseline`,
    sweepCheckpoint: `${base}sweep:checkpoint`,
    sweepLock: `${base}sweep:lock`,
  } as const;
}

export type IndexKeys = ReturnType<typeof indexKeys>;

/** The default namespace's keys. */
export const DEFAULT_KEYS: RedisKeys = redisKeys();
