import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { LogzipConfig } from '../../config.js';
import type {
  FailureIndex,
  FailurePageQuery,
  FailureSummary,
  IndexBatch,
  IndexCounts,
  IndexPage,
  ManifestSummary,
  RebuildCheckpoint,
} from '../../ports/failure-index.js';
import { decodeCursor, encodeCursor } from '../../state/index-cursor.js';
import { type AuditEntry, FAILURE_STATES, type FailureState } from '../../state/types.js';
import { DEFAULT_INDEX_NAMESPACE, indexKeys } from './keys.js';
import { readActivity, recordActivity } from './redis-activity.js';
import { createRedisPendingSet } from './redis-pending-set.js';
import {
  ensureScripts,
  FINISH,
  isNoScript,
  ownedRunKeys,
  PAGE,
  PREFIX,
  PUT_FAILURE,
  queueScript,
  REMOVE_FAILURE,
  runScript,
  TRIM,
} from './scripts.js';

export interface RedisFailureIndexOptions {
  /** An ioredis client; the index never closes it. */
  redis: Redis;
  /** Key namespace (`LOGZIP_INDEX_PREFIX`), default `logzip:`. */
  namespace?: string;
  /** Resolved failures and audit entries older than this many days leave the index (0 = keep all). */
  retentionDays?: number;
  /** For retention; default the system clock. */
  now?: () => Date;
}

/** A prefix search reads at most this many matching log IDs (the page and its total come from them). */
export const PREFIX_SEARCH_CAP = 10_000;
/** An audit entry larger than this keeps its action and outcome but not its details in the index. */
export const AUDIT_ENTRY_MAX_CHARS = 4_096;
const TRIM_BATCH = 1_000;
const DAY_MS = 86_400_000;

type StoredFailure = [string, string, string, number, number, number, string, string, number];
type StoredManifest = [string, string, number, number, number, string];

function encodeFailure(s: FailureSummary): string {
  const value: StoredFailure = [
    s.state,
    s.code,
    s.route,
    Date.parse(s.updatedAt),
    Date.parse(s.createdAt),
    s.attemptCount,
    s.message,
    s.sourceKey,
    s.resolvedAt === undefined ? 0 : Date.parse(s.resolvedAt),
  ];
  return JSON.stringify(value);
}

function decodeFailure(logId: string, text: string): FailureSummary | undefined {
  try {
    const [state, code, route, u, k, attemptCount, message, sourceKey, v] = JSON.parse(text) as StoredFailure;
    return {
      logId,
      state: state as FailureState,
      code,
      route,
      message,
      sourceKey,
      attemptCount,
      createdAt: new Date(k).toISOString(),
      updatedAt: new Date(u).toISOString(),
      ...(v === 0 ? {} : { resolvedAt: new Date(v).toISOString() }),
    };
  } catch {
    return undefined;
  }
}

function encodeManifest(m: ManifestSummary): string {
  const value: StoredManifest = [
    m.sourceKey,
    m.etag,
    m.files,
    m.bytes,
    Date.parse(m.finishedAt),
    m.route ?? '',
  ];
  return JSON.stringify(value);
}

function decodeManifest(logId: string, text: string): ManifestSummary | undefined {
  try {
    const [sourceKey, etag, files, bytes, finished, route] = JSON.parse(text) as StoredManifest;
    return {
      logId,
      sourceKey,
      etag,
      files,
      bytes,
      finishedAt: new Date(finished).toISOString(),
      ...(route === '' ? {} : { route }),
    };
  } catch {
    return undefined;
  }
}

/** The same entry always gets the same id, whether it came from a live write or a rebuild. */
export function auditEntryId(entry: AuditEntry): string {
  return createHash('sha1').update(JSON.stringify(entry)).digest('hex').slice(0, 20);
}

function compactAudit(entry: AuditEntry): string {
  const text = JSON.stringify(entry);
  if (text.length <= AUDIT_ENTRY_MAX_CHARS) return text;
  return JSON.stringify({ ...entry, details: { truncated: true, chars: text.length } });
}

/** Codes and routes become parts of key names: keep them to the characters logzip uses. */
function keyPart(value: string): string {
  return value.replace(/[^0-9A-Za-z_-]/g, '_').slice(0, 64) || '_';
}

/**
 * The failure index in Redis (key names: indexKeys). Writes are Lua scripts, so a summary and its
 * sorted-set memberships change together; pages are one script call each (O(log N + page)).
 *
 * @example
 * const index = createRedisFailureIndex({ redis, retentionDays: 30 });
 * const page = await index.pageFailures({ state: 'failed', limit: 50 });
 */
export function createRedisFailureIndex(options: RedisFailureIndexOptions): FailureIndex {
  const { redis } = options;
  const keys = indexKeys(options.namespace ?? DEFAULT_INDEX_NAMESPACE);
  const retentionMs = (options.retentionDays ?? 0) * DAY_MS;
  const now = options.now ?? (() => new Date());
  const cutoff = () => (retentionMs === 0 ? 0 : now().getTime() - retentionMs);

  const putArgs = (s: FailureSummary) => [
    s.logId,
    encodeFailure(s),
    s.state,
    keyPart(s.code),
    keyPart(s.route),
    Date.parse(s.updatedAt),
    cutoff(),
  ];

  async function page<T>(
    zsets: readonly string[],
    hash: string,
    query: { limit: number; cursor?: string; since?: Date },
    decode: (id: string, value: string) => T | undefined,
  ): Promise<IndexPage<T> | undefined> {
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const after = cursor !== undefined && 'after' in cursor ? cursor.after : undefined;
    const reply = (await runScript(
      redis,
      PAGE,
      [keys.base, hash, ...zsets],
      [
        query.since === undefined ? '-inf' : query.since.getTime(),
        query.limit,
        after?.score ?? 0,
        after?.member ?? '',
      ],
    )) as [number, string[], string[], Array<string | null>] | null;
    if (reply === null) return undefined;
    const [total, ids, scores, values] = reply;
    const items: T[] = [];
    const count = Math.min(ids.length, query.limit);
    for (let i = 0; i < count; i++) {
      const value = values[i];
      const item = value === null || value === undefined ? undefined : decode(ids[i] as string, value);
      if (item !== undefined) items.push(item);
    }
    const last = count - 1;
    return {
      items,
      total,
      ...(ids.length > query.limit && last >= 0
        ? {
            nextCursor: encodeCursor({ after: { score: Number(scores[last]), member: ids[last] as string } }),
          }
        : {}),
    };
  }

  async function pagePrefix(query: FailurePageQuery): Promise<IndexPage<FailureSummary> | undefined> {
    const reply = (await runScript(
      redis,
      PREFIX,
      [keys.base],
      [query.logIdPrefix ?? '', PREFIX_SEARCH_CAP],
    )) as [string[], Array<string | null>] | null;
    if (reply === null) return undefined;
    const [ids, values] = reply;
    const since = query.since?.getTime();
    const matches: FailureSummary[] = [];
    for (let i = 0; i < ids.length; i++) {
      const value = values[i];
      const s = value === null || value === undefined ? undefined : decodeFailure(ids[i] as string, value);
      if (s === undefined) continue;
      if (query.state !== undefined && s.state !== query.state) continue;
      if (query.code !== undefined && s.code !== query.code) continue;
      if (query.route !== undefined && s.route !== query.route) continue;
      if (since !== undefined && Date.parse(s.updatedAt) < since) continue;
      matches.push(s);
    }
    matches.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || b.logId.localeCompare(a.logId));
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const offset = cursor !== undefined && 'offset' in cursor ? cursor.offset : 0;
    const items = matches.slice(offset, offset + query.limit);
    const next = offset + query.limit;
    return {
      items,
      total: matches.length,
      ...(next < matches.length ? { nextCursor: encodeCursor({ offset: next }) } : {}),
    };
  }

  return {
    pending: createRedisPendingSet({ redis, namespace: options.namespace ?? DEFAULT_INDEX_NAMESPACE }),

    async readiness() {
      const [[, meta], [, owner], [, checkpoint]] = (await redis
        .multi()
        .hgetall(keys.meta)
        .get(keys.rebuildLock)
        .get(keys.rebuildCheckpoint)
        .exec()) as [[null, Record<string, string>], [null, string | null], [null, string | null]];
      const ready = meta['ready'];
      return {
        ready: ready !== undefined,
        ...(ready === undefined ? {} : { builtAt: ready }),
        ...(owner === null
          ? {}
          : {
              rebuilding: {
                owner,
                ...(checkpoint === null ? {} : { checkpoint: JSON.parse(checkpoint) as RebuildCheckpoint }),
              },
            }),
      };
    },

    async putFailure(summary) {
      await runScript(redis, PUT_FAILURE, [keys.base], putArgs(summary));
      // A record written `failed` is a run that gave up: the dashboard counts it per route and hour.
      if (summary.state === 'failed')
        await recordActivity(redis, keys, { kind: 'failed', route: summary.route, at: summary.updatedAt });
    },

    async removeFailure(logId) {
      await runScript(redis, REMOVE_FAILURE, [keys.base], [logId]);
    },

    async putManifest(summary) {
      await redis.hset(keys.manifests, summary.logId, encodeManifest(summary));
      // A live manifest write is an extraction that finished (the rebuild writes through putBatch).
      await recordActivity(redis, keys, {
        kind: 'extracted',
        route: summary.route ?? 'unknown',
        at: summary.finishedAt,
      });
    },

    activity: (now) => readActivity(redis, keys, now),

    async removeManifest(logId) {
      await redis.hdel(keys.manifests, logId);
    },

    async addAudit(entry) {
      const at = Date.parse(entry.at);
      if (Number.isNaN(at) || (retentionMs > 0 && at < cutoff())) return;
      const id = auditEntryId(entry);
      await redis.multi().zadd(keys.audit, at, id).hset(keys.auditEntries, id, compactAudit(entry)).exec();
    },

    async putBatch(batch: IndexBatch) {
      const send = async () => {
        const pipeline = redis.pipeline();
        for (const s of batch.failures ?? []) queueScript(pipeline, PUT_FAILURE, [keys.base], putArgs(s));
        for (const m of batch.manifests ?? []) pipeline.hset(keys.manifests, m.logId, encodeManifest(m));
        const oldest = cutoff();
        for (const entry of batch.audit ?? []) {
          const at = Date.parse(entry.at);
          if (Number.isNaN(at) || at < oldest) continue;
          const id = auditEntryId(entry);
          pipeline.zadd(keys.audit, at, id).hset(keys.auditEntries, id, compactAudit(entry));
        }
        const results = (await pipeline.exec()) ?? [];
        const failed = results.find(([error]) => error !== null)?.[0];
        if (failed) throw failed;
      };
      try {
        await send();
      } catch (error) {
        // The server lost its script cache (a restart): load it and send the batch again.
        if (!isNoScript(error)) throw error;
        await ensureScripts(redis, [PUT_FAILURE]);
        await send();
      }
    },

    async lookup(logId) {
      const [[, failure], [, manifest]] = (await redis
        .multi()
        .hget(keys.failures, logId)
        .hget(keys.manifests, logId)
        .exec()) as [[null, string | null], [null, string | null]];
      const f = failure === null ? undefined : decodeFailure(logId, failure);
      const m = manifest === null ? undefined : decodeManifest(logId, manifest);
      return { ...(f === undefined ? {} : { failure: f }), ...(m === undefined ? {} : { manifest: m }) };
    },

    async lookupMany(logIds) {
      const found = new Map<string, { failure?: FailureSummary; manifest?: ManifestSummary }>();
      if (logIds.length === 0) return found;
      const [[, failures], [, manifests]] = (await redis
        .multi()
        .hmget(keys.failures, ...logIds)
        .hmget(keys.manifests, ...logIds)
        .exec()) as [[null, Array<string | null>], [null, Array<string | null>]];
      logIds.forEach((logId, i) => {
        const f = failures[i];
        const m = manifests[i];
        const failure = f === null || f === undefined ? undefined : decodeFailure(logId, f);
        const manifest = m === null || m === undefined ? undefined : decodeManifest(logId, m);
        found.set(logId, {
          ...(failure === undefined ? {} : { failure }),
          ...(manifest === undefined ? {} : { manifest }),
        });
      });
      return found;
    },

    async pageFailures(query) {
      if (query.logIdPrefix !== undefined && query.logIdPrefix !== '') return pagePrefix(query);
      const code = query.code === undefined ? undefined : keyPart(query.code);
      const route = query.route === undefined ? undefined : keyPart(query.route);
      const states = query.state === undefined ? FAILURE_STATES : [query.state];
      return page(
        states.map((state) => keys.byFilter(state, code, route)),
        keys.failures,
        query,
        decodeFailure,
      );
    },

    async pageAudit(query) {
      return page([keys.audit], keys.auditEntries, query, (_id, value) => {
        try {
          return JSON.parse(value) as AuditEntry;
        } catch {
          return undefined;
        }
      });
    },

    async counts() {
      const [[, ready], [, codes]] = (await redis
        .multi()
        .hget(keys.meta, 'ready')
        .smembers(keys.codes)
        .exec()) as [[null, string | null], [null, string[]]];
      if (ready === null) return undefined;
      codes.sort();
      const pipeline = redis.pipeline();
      for (const state of FAILURE_STATES) pipeline.zcard(keys.byFilter(state));
      for (const code of codes)
        for (const state of FAILURE_STATES) pipeline.zcard(keys.byFilter(state, code));
      const results = ((await pipeline.exec()) ?? []).map(([, n]) => Number(n));
      const byState = Object.fromEntries(FAILURE_STATES.map((s, i) => [s, results[i] ?? 0])) as Record<
        FailureState,
        number
      >;
      const byCode: IndexCounts['byCode'] = {};
      codes.forEach((code, i) => {
        const at = FAILURE_STATES.length * (1 + i);
        const row = Object.fromEntries(FAILURE_STATES.map((s, i) => [s, results[at + i] ?? 0])) as Record<
          FailureState,
          number
        >;
        if (FAILURE_STATES.some((s) => row[s] > 0)) byCode[code] = row;
      });
      return { byState, byCode };
    },

    async trim(olderThan) {
      const removed = { failures: 0, audit: 0 };
      for (;;) {
        const [failures, audit] = (await runScript(
          redis,
          TRIM,
          [keys.base],
          [olderThan.getTime(), TRIM_BATCH],
        )) as [number, number];
        removed.failures += failures;
        removed.audit += audit;
        if (failures < TRIM_BATCH && audit < TRIM_BATCH) return removed;
      }
    },

    async *scanFailureIds() {
      let cursor = '0';
      do {
        const [next, fields] = await redis.hscan(keys.failures, cursor, 'COUNT', 1000);
        cursor = next;
        const ids = fields.filter((_, i) => i % 2 === 0);
        if (ids.length > 0) yield ids;
      } while (cursor !== '0');
    },

    rebuild: {
      ...ownedRunKeys<RebuildCheckpoint>(redis, keys.rebuildLock, keys.rebuildCheckpoint),
      async begin(runId) {
        await redis.hset(keys.meta, 'building', runId);
      },
      async finish(runId, at) {
        const done = Number(await runScript(redis, FINISH, [keys.base], [runId, at.toISOString()])) === 1;
        if (done) await redis.del(keys.rebuildCheckpoint);
        return done;
      },
    },
  };
}

/** The index as the configuration describes it (LOGZIP_INDEX_PREFIX or LOGZIP_KEY_NAMESPACE, LOGZIP_INDEX_RETENTION_DAYS). */
export function createFailureIndexFromConfig(
  config: Pick<LogzipConfig, 'env' | 'indexNamespace'>,
  redis: Redis,
): FailureIndex {
  return createRedisFailureIndex({
    redis,
    namespace: config.indexNamespace,
    retentionDays: config.env.LOGZIP_INDEX_RETENTION_DAYS,
  });
}
