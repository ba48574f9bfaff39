import type { Redis } from 'ioredis';
import type { FullSweepCheckpoint, PendingEntry, PendingSet } from '../../ports/pending-set.js';
import { DEFAULT_KEY_NAMESPACE, indexKeys } from '../bullmq/keys.js';
import { ownedRunKeys, runScript, SETTLE } from './scripts.js';

/** `[bucket, key, last-seen ms, traceparent?]`: entries written before traces lack the fourth. */
type StoredSource = [string, string, number, string?];

function parseSource(text: string | null | undefined): StoredSource | undefined {
  if (text === null || text === undefined) return undefined;
  try {
    return JSON.parse(text) as StoredSource;
  } catch {
    return undefined;
  }
}

/**
 * The pending set in Redis (`<ns>{index}:pending` and `:pending:src`, same hash tag as the index,
 * so the settle script reads both on one Cluster slot). Observing costs one MULTI of two commands;
 * settling one script call.
 *
 * @example
 * const pending = createRedisPendingSet({ redis });
 * await pending.observe({ logId: '54321', bucket: 'logs', key: 'incoming/ab/cd/54321.zip' }, new Date());
 */
export function createRedisPendingSet(options: { redis: Redis; namespace?: string }): PendingSet {
  const { redis } = options;
  const keys = indexKeys(options.namespace ?? DEFAULT_KEY_NAMESPACE);
  return {
    async observe(archive, at) {
      const ms = at.getTime();
      const source: StoredSource =
        archive.traceparent === undefined
          ? [archive.bucket, archive.key, ms]
          : [archive.bucket, archive.key, ms, archive.traceparent];
      await redis
        .multi()
        .zadd(keys.pending, 'NX', ms, archive.logId)
        .hset(keys.pendingSources, archive.logId, JSON.stringify(source))
        .exec();
    },
    async settle(logId, startedAt) {
      await runScript(redis, SETTLE, [keys.base], [logId, startedAt.getTime()]);
    },
    async traceparentOf(logId) {
      const traceparent = parseSource(await redis.hget(keys.pendingSources, logId))?.[3];
      return typeof traceparent === 'string' ? traceparent : undefined;
    },
    async remove(logId) {
      await redis.multi().zrem(keys.pending, logId).hdel(keys.pendingSources, logId).exec();
    },
    async due(before, limit) {
      const flat = await redis.zrangebyscore(
        keys.pending,
        '-inf',
        before.getTime(),
        'WITHSCORES',
        'LIMIT',
        0,
        limit,
      );
      const ids: string[] = [];
      const firstSeen: number[] = [];
      for (let i = 0; i < flat.length; i += 2) {
        ids.push(flat[i] as string);
        firstSeen.push(Number(flat[i + 1]));
      }
      if (ids.length === 0) return [];
      const sources = await redis.hmget(keys.pendingSources, ...ids);
      const entries: PendingEntry[] = [];
      ids.forEach((logId, i) => {
        const source = parseSource(sources[i]);
        // An entry without its archive (written half by a crashed client) cannot be checked: the
        // sweep removes it (a full sweep finds the archive if it is still unextracted).
        entries.push({
          logId,
          bucket: source?.[0] ?? '',
          key: source?.[1] ?? '',
          firstSeen: new Date(firstSeen[i] as number),
          lastSeen: new Date(source?.[2] ?? (firstSeen[i] as number)),
        });
      });
      return entries;
    },
    async stats() {
      const [[, count], [, oldest]] = (await redis
        .multi()
        .zcard(keys.pending)
        .zrange(keys.pending, 0, 0, 'WITHSCORES')
        .exec()) as [[null, number], [null, string[]]];
      return { count, ...(oldest[1] === undefined ? {} : { oldest: new Date(Number(oldest[1])) }) };
    },
    async baseline() {
      const text = await redis.get(keys.sweepBaseline);
      return text === null ? undefined : new Date(text);
    },
    async setBaseline(at) {
      await redis.set(keys.sweepBaseline, at.toISOString());
    },
    fullSweep: ownedRunKeys<FullSweepCheckpoint>(redis, keys.sweepLock, keys.sweepCheckpoint),
  };
}
