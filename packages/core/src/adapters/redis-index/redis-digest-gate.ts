import type { Redis } from 'ioredis';
import type { DigestDecision, DigestGate, DueDigest, PendingFailure } from '../../alerts/group-digest.js';
import { DEFAULT_INDEX_NAMESPACE, indexKeys } from './keys.js';
import { runScript } from './scripts.js';

/**
 * KEYS[1]: `<ns>{index}:g:alert:<fingerprint>` (hash: sentAt, pending, latest), KEYS[2]:
 * `<ns>{index}:g:alert-due` (fingerprints with failures waiting, by when their digest is due).
 * ARGV: restart (1 for a new or reopened group), now ms, interval ms, ttl ms, the latest failure
 * (JSON, or ''), the fingerprint. The same rule as decideDigest, in one step. Returns {kind, count, since}.
 */
const ADMIT = `
local k, due, now, interval = KEYS[1], KEYS[2], tonumber(ARGV[2]), tonumber(ARGV[3])
local sent = redis.call('HGET', k, 'sentAt')
if ARGV[1] == '1' or not sent then
  redis.call('HSET', k, 'sentAt', now, 'pending', 0)
  redis.call('HDEL', k, 'latest')
  redis.call('ZREM', due, ARGV[6])
  redis.call('PEXPIRE', k, ARGV[4])
  return {'first', 0, 0}
end
local pending = redis.call('HINCRBY', k, 'pending', 1)
redis.call('PEXPIRE', k, ARGV[4])
if now - tonumber(sent) >= interval then
  redis.call('HSET', k, 'sentAt', now, 'pending', 0)
  redis.call('HDEL', k, 'latest')
  redis.call('ZREM', due, ARGV[6])
  return {'digest', pending, sent}
end
if ARGV[5] ~= '' then redis.call('HSET', k, 'latest', ARGV[5]) end
redis.call('ZADD', due, tonumber(sent) + interval, ARGV[6])
return {'none', pending, sent}
`;

/**
 * KEYS[1]: the due set. ARGV: now ms, limit, the alert key prefix (`<ns>{index}:g:alert:`). Claims
 * the due fingerprints with failures waiting: resets each (sentAt now, pending 0) and returns
 * {fingerprint, pending, sentAt, latest} for each, so two processes never send one digest twice.
 */
const TAKE_DUE = `
local due, now = KEYS[1], tonumber(ARGV[1])
local out = {}
for _, fp in ipairs(redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))) do
  redis.call('ZREM', due, fp)
  local k = ARGV[3] .. fp
  local pending = tonumber(redis.call('HGET', k, 'pending') or '0')
  local latest = redis.call('HGET', k, 'latest')
  local sent = redis.call('HGET', k, 'sentAt')
  if pending > 0 and latest and sent then
    redis.call('HSET', k, 'sentAt', now, 'pending', 0)
    redis.call('HDEL', k, 'latest')
    table.insert(out, {fp, pending, sent, latest})
  end
end
return out
`;

interface StoredFailure {
  record: PendingFailure['record'];
  run: Omit<PendingFailure['run'], 'jobCreatedAt'> & { jobCreatedAt?: number };
}

function storeFailure(latest: PendingFailure | undefined): string {
  if (latest === undefined) return '';
  const { jobCreatedAt, ...run } = latest.run;
  const stored: StoredFailure = {
    record: latest.record,
    run: { ...run, ...(jobCreatedAt === undefined ? {} : { jobCreatedAt: jobCreatedAt.getTime() }) },
  };
  return JSON.stringify(stored);
}

function readFailure(text: string): PendingFailure {
  const stored = JSON.parse(text) as StoredFailure;
  const { jobCreatedAt, ...run } = stored.run;
  return {
    record: stored.record,
    run: { ...run, ...(jobCreatedAt === undefined ? {} : { jobCreatedAt: new Date(jobCreatedAt) }) },
  };
}

/** A digest gate in Redis beside the groups; a quiet group's state expires after a day. */
export function createRedisDigestGate(options: { redis: Redis; namespace?: string }): DigestGate {
  const { base } = indexKeys(options.namespace ?? DEFAULT_INDEX_NAMESPACE);
  const alertPrefix = `${base}g:alert:`;
  const dueKey = `${base}g:alert-due`;
  return {
    async admit({ fingerprint, change, now, intervalMs, latest }): Promise<DigestDecision> {
      const restart = change === 'new' || change === 'reopened' ? 1 : 0;
      const ttl = Math.max(intervalMs * 2, 86_400_000);
      const [kind, count, since] = (await runScript(
        options.redis,
        ADMIT,
        [`${alertPrefix}${fingerprint}`, dueKey],
        [restart, now.getTime(), intervalMs, ttl, storeFailure(latest), fingerprint],
      )) as [string, number, string | number];
      if (kind === 'first') return { send: 'first' };
      if (kind === 'digest')
        return { send: 'digest', count: Number(count), since: new Date(Number(since)).toISOString() };
      return { send: 'none' };
    },
    async takeDue({ now, limit }): Promise<DueDigest[]> {
      const rows = (await runScript(
        options.redis,
        TAKE_DUE,
        [dueKey],
        [now.getTime(), limit, alertPrefix],
      )) as Array<[string, number, string, string]>;
      const due: DueDigest[] = [];
      for (const [fingerprint, count, sentAt, latest] of rows) {
        try {
          due.push({
            fingerprint,
            count: Number(count),
            since: new Date(Number(sentAt)).toISOString(),
            ...readFailure(latest),
          });
        } catch {
          // A damaged entry cannot be announced; its count is gone with it.
        }
      }
      return due;
    },
  };
}
