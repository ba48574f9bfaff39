/** The default namespace of logzip's Redis keys. */
export const DEFAULT_INDEX_NAMESPACE = 'logzip:';

/**
 * Every Redis key of the index, from one namespace (`LOGZIP_INDEX_PREFIX`, default `logzip:`).
 * All of them carry the hash tag `{index}`, so on a Redis Cluster they live in one slot and the
 * scripts and transactions that touch several of them at once work unchanged.
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
 * ```
 */
export function indexKeys(namespace: string = DEFAULT_INDEX_NAMESPACE) {
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
  } as const;
}

export type IndexKeys = ReturnType<typeof indexKeys>;
