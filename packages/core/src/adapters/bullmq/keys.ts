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
  /** Prefix of the admin's UI sessions (+ the session id). */
  readonly sessionPrefix: string;
  /** The sorted set of session ids by expiry ("sign out everywhere" walks it). */
  readonly sessionIndex: string;
  /** Prefix of the results of UI actions kept for post/redirect/get (+ the result id). */
  readonly uiResultPrefix: string;
  /** One worker process's heartbeat (JSON, with a TTL), per BullMQ prefix. */
  workerHeartbeat(queuePrefix: string, workerName: string): string;
  /** The SCAN pattern of every heartbeat under one BullMQ prefix. */
  workerHeartbeatPattern(queuePrefix: string): string;
  /** The failure index (`<ns>{index}:…`). */
  readonly index: IndexKeys;
  /** The failure groups, beside the index (`<ns>{index}:g…`). */
  readonly groups: GroupKeys;
  /** The bulk operations (`<ns>ops`, `<ns>{op:<id>}:…`). */
  readonly operations: OperationKeys;
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
    sessionPrefix: `${ns}session:`,
    sessionIndex: `${ns}sessions`,
    uiResultPrefix: `${ns}ui-result:`,
    workerHeartbeat: (queuePrefix, workerName) => `${ns}heartbeat:${queuePrefix}:${workerName}`,
    workerHeartbeatPattern: (queuePrefix) => `${ns}heartbeat:${queuePrefix}:*`,
    index: indexKeys(ns),
    groups: groupKeys(ns),
    operations: operationKeys(ns),
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
 * <ns>{index}:activity:last         hash: `extracted:<route>` / `failed:<route>` → ISO time of the last one
 * <ns>{index}:activity:h:<hour>     hash: the same fields → count in that UTC hour (`2026-12-05T13`, 48 h TTL)
 * <ns>{index}:activity:m:<minute>   hash: the same fields → count in that UTC minute (`2026-12-05T13:07`, 2 h TTL)
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
    activityLast: `${base}activity:last`,
    /** `hour` is an ISO time cut to the hour: `2026-12-05T13`. */
    activityHour: (hour: string) => `${base}activity:h:${hour}`,
    /** `minute` is an ISO time cut to the minute: `2026-12-05T13:07`. */
    activityMinute: (minute: string) => `${base}activity:m:${minute}`,
    pending: `${base}pending`,
    pendingSources: `${base}pending:src`,
    sweepBaseline: `${base}sweep:baseline`,
    sweepCheckpoint: `${base}sweep:checkpoint`,
    sweepLock: `${base}sweep:lock`,
  } as const;
}

export type IndexKeys = ReturnType<typeof indexKeys>;

/**
 * The groups' keys, beside the index's (same `{index}` hash tag, so one slot on a Cluster):
 *
 * ```
 * <ns>{index}:g            hash: fingerprint → {code, first, last, routes, sig} (JSON)
 * <ns>{index}:g:open       sorted set of fingerprints with members, by last seen (ms)
 * <ns>{index}:g:m:<fp>     sorted set of the group's failed log IDs by updatedAt (ms)
 * <ns>{index}:g:of         hash: log ID → "<fingerprint>|<updatedAt ms>" (its current group)
 * ```
 */
export function groupKeys(namespace: string = DEFAULT_KEY_NAMESPACE) {
  const { base } = indexKeys(namespace);
  return {
    base,
    groups: `${base}g`,
    open: `${base}g:open`,
    members: (fingerprint: string) => `${base}g:m:${fingerprint}`,
    memberOf: `${base}g:of`,
  } as const;
}

export type GroupKeys = ReturnType<typeof groupKeys>;

/**
 * Operation keys. One hash tag per operation, so its scripts touch one slot on a Cluster:
 *
 * ```
 * <ns>ops                    sorted set of operation ids by creation (ms)
 * <ns>{op:<id>}:meta         hash: kind, state, total, done, failed, skipped, createdBy, reason,
 *                            selection, options (JSON), createdAt, updatedAt, finishedAt,
 *                            pos (the runner's position), runAt/runBase (rate since the last start)
 * <ns>{op:<id>}:ids          list: the frozen selection, in order
 * <ns>{op:<id>}:results      hash: log ID → its result (JSON), written once
 * <ns>{op:<id>}:order        list: log IDs in the order their results came
 * ```
 */
export function operationKeys(namespace: string = DEFAULT_KEY_NAMESPACE) {
  return {
    list: `${namespace}ops`,
    base: (id: string) => `${namespace}{op:${id}}:`,
  } as const;
}

export type OperationKeys = ReturnType<typeof operationKeys>;

/** Deployment namespaces: 1-48 characters of [0-9A-Za-z_-] and a closing colon (`logzip:`, `staging:`). */
export const KEY_NAMESPACE_RE = /^[0-9A-Za-z_-]{1,48}:$/;

/**
 * The BullMQ prefix of a deployment that does not set LOGZIP_QUEUE_PREFIX: `bull` under the default
 * namespace (the queue of earlier releases), else the namespace without its colon, so a second
 * deployment's queue (`staging:logzip-extract:*`) sits beside its other keys.
 */
export function queuePrefixFor(namespace: string): string {
  return namespace === DEFAULT_KEY_NAMESPACE ? DEFAULT_QUEUE_PREFIX : namespace.replace(/:$/, '');
}

/** Keys only a running logzip deployment writes, by the name after its namespace. */
const DEPLOYMENT_MARKERS = /^([0-9A-Za-z_-]{1,48}:)(?:route|audit|sessions|ops|\{index\}:meta)$/;

/**
 * The namespaces of other logzip deployments among `keys` (names from a SCAN of the database):
 * those with a route flag, an audit list, sessions, operations or a failure index under a
 * namespace other than `namespace`. Sorted, each once.
 *
 * @example
 * otherDeployments(['logzip:route', 'staging:audit'], 'logzip:'); // ['staging:']
 */
export function otherDeployments(keys: Iterable<string>, namespace: string): string[] {
  const found = new Set<string>();
  for (const key of keys) {
    const match = DEPLOYMENT_MARKERS.exec(key);
    if (match !== null && match[1] !== namespace) found.add(match[1] as string);
  }
  return [...found].sort();
}

/** What `pnpm start` prints when the database holds another deployment's keys (otherDeployments). */
export function otherDeploymentsWarning(others: readonly string[], namespace: string): string {
  return (
    `this Redis database already holds the keys of another logzip deployment (namespace ${others.map((n) => `"${n}"`).join(', ')}); ` +
    `this stack uses "${namespace}". Stacks sharing a database must each set their own LOGZIP_KEY_NAMESPACE, ` +
    'or use another database (REDIS_URL=redis://host:6379/N).'
  );
}

/** The default namespace's keys. */
export const DEFAULT_KEYS: RedisKeys = redisKeys();
