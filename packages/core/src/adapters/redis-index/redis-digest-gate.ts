import type { Redis } from 'ioredis';
import type { DigestDecision, DigestGate } from '../../alerts/group-digest.js';
import { DEFAULT_INDEX_NAMESPACE, indexKeys } from './keys.js';
import { runScript } from './scripts.js';

/**
 * KEYS[1]: `<ns>{index}:g:alert:<fingerprint>` (hash: sentAt, pending). ARGV: restart (1 for a new
 * or reopened group), now ms, interval ms, ttl ms. The same rule as decideDigest, in one step.
 * Returns {kind, count, since}.
 */
const ADMIT = `
local k, now, interval = KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local sent = redis.call('HGET', k, 'sentAt')
if ARGV[1] == '1' or not sent then
  redis.call('HSET', k, 'sentAt', now, 'pending', 0)
  redis.call('PEXPIRE', k, ARGV[4])
  return {'first', 0, 0}
end
local pending = redis.call('HINCRBY', k, 'pending', 1)
redis.call('PEXPIRE', k, ARGV[4])
if now - tonumber(sent) >= interval then
  redis.call('HSET', k, 'sentAt', now, 'pending', 0)
  return {'digest', pending, sent}
end
return {'none', pending, sent}
`;

/** A digest gate in Redis beside the groups; a quiet group's state expires after a day. */
export function createRedisDigestGate(options: { redis: Redis; namespace?: string }): DigestGate {
  const { base } = indexKeys(options.namespace ?? DEFAULT_INDEX_NAMESPACE);
  return {
    async admit({ fingerprint, change, now, intervalMs }): Promise<DigestDecision> {
      const restart = change === 'new' || change === 'reopened' ? 1 : 0;
      const ttl = Math.max(intervalMs * 2, 86_400_000);
      const [kind, count, since] = (await runScript(
        options.redis,
        ADMIT,
        [`${base}g:alert:${fingerprint}`],
        [restart, now.getTime(), intervalMs, ttl],
      )) as [string, number, string | number];
      if (kind === 'first') return { send: 'first' };
      if (kind === 'digest')
        return { send: 'digest', count: Number(count), since: new Date(Number(since)).toISOString() };
      return { send: 'none' };
    },
  };
}
