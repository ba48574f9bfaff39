import type { Redis } from 'ioredis';
import {
  type FailureGroup,
  type FailureGroups,
  GROUP_SAMPLE_SIZE,
  type GroupChange,
} from '../../ports/failure-groups.js';
import { decodeCursor, encodeCursor } from '../../state/index-cursor.js';
import { DEFAULT_INDEX_NAMESPACE, groupKeys } from './keys.js';
import { runScript } from './scripts.js';

const LEAVE = `
local function leave(b, id)
  local prev = redis.call('HGET', b..'g:of', id)
  if not prev then return end
  local sep = string.find(prev, '|', 1, true)
  local fp = string.sub(prev, 1, sep - 1)
  redis.call('ZREM', b..'g:m:'..fp, id)
  if redis.call('ZCARD', b..'g:m:'..fp) == 0 then redis.call('ZREM', b..'g:open', fp) end
  redis.call('HDEL', b..'g:of', id)
end
`;

/**
 * ARGV: logId, fingerprint, code, route, state, updatedAt ms, createdAt ms, signature.
 * Returns new | reopened | open (joined a group), left (not failed: out of any group), stale (an
 * older record than the one indexed).
 */
const PUT_MEMBER = `${LEAVE}
local b, id, fp, u, k = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[6]), tonumber(ARGV[7])
local prev = redis.call('HGET', b..'g:of', id)
local same = false
if prev then
  local sep = string.find(prev, '|', 1, true)
  if tonumber(string.sub(prev, sep + 1)) > u then return 'stale' end
  same = string.sub(prev, 1, sep - 1) == fp
end
if ARGV[5] ~= 'failed' then leave(b, id) return 'left' end
if not same then leave(b, id) end
local members = b..'g:m:'..fp
local change = 'open'
if not same and redis.call('ZCARD', members) == 0 then change = 'reopened' end
local meta = redis.call('HGET', b..'g', fp)
local m
if meta then m = cjson.decode(meta) else
  m = { code = ARGV[3], first = k, last = u, routes = {}, sig = ARGV[8] }
  change = 'new'
end
if k < m.first then m.first = k end
if u > m.last then m.last = u end
local known = false
for _, r in ipairs(m.routes) do if r == ARGV[4] then known = true end end
if not known then m.routes[#m.routes + 1] = ARGV[4] end
redis.call('HSET', b..'g', fp, cjson.encode(m))
redis.call('ZADD', members, u, id)
redis.call('HSET', b..'g:of', id, fp..'|'..u)
redis.call('ZADD', b..'g:open', m.last, fp)
return change
`;

const REMOVE_MEMBER = `${LEAVE}
leave(KEYS[1], ARGV[1])
return 1
`;

interface StoredGroup {
  code: string;
  first: number;
  last: number;
  routes: string[] | Record<string, never>;
  sig: string;
}

const HOUR_MS = 3_600_000;

export interface RedisFailureGroupsOptions {
  redis: Redis;
  /** `LOGZIP_INDEX_PREFIX`, default `logzip:`. */
  namespace?: string;
  /** For the trend's hours; default the system clock. */
  now?: () => Date;
}

function offsetOf(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const decoded = decodeCursor(cursor);
  return decoded !== undefined && 'offset' in decoded ? decoded.offset : 0;
}

/**
 * Failure groups in Redis (keys: groupKeys). A put is one script (membership, group and its order
 * change together); a page of groups is one pipeline: O(page × 24) for the trends.
 *
 * @example
 * const groups = createRedisFailureGroups({ redis });
 * const { items } = await groups.list({ limit: 20 });
 */
export function createRedisFailureGroups(options: RedisFailureGroupsOptions): FailureGroups {
  const { redis } = options;
  const keys = groupKeys(options.namespace ?? DEFAULT_INDEX_NAMESPACE);
  const now = options.now ?? (() => new Date());

  async function describe(fingerprints: string[]): Promise<FailureGroup[]> {
    if (fingerprints.length === 0) return [];
    const hourNow = Math.floor(now().getTime() / HOUR_MS);
    const pipeline = redis.pipeline();
    pipeline.hmget(keys.groups, ...fingerprints);
    for (const fp of fingerprints) {
      pipeline.zcard(keys.members(fp));
      pipeline.zrevrange(keys.members(fp), 0, GROUP_SAMPLE_SIZE - 1);
      for (let h = hourNow - 23; h <= hourNow; h++) {
        pipeline.zcount(keys.members(fp), h * HOUR_MS, `(${(h + 1) * HOUR_MS}`);
      }
    }
    const replies = (await pipeline.exec()) ?? [];
    const value = <T>(i: number): T => {
      const [error, result] = replies[i] ?? [new Error('no reply'), undefined];
      if (error) throw error;
      return result as T;
    };
    const metas = value<Array<string | null>>(0);
    const groups: FailureGroup[] = [];
    let at = 1;
    fingerprints.forEach((fingerprint, i) => {
      const count = value<number>(at);
      const sample = value<string[]>(at + 1);
      const trend = Array.from({ length: 24 }, (_, h) => Number(value<number>(at + 2 + h)));
      at += 26;
      const text = metas[i];
      if (text === null || text === undefined || count === 0) return;
      const meta = JSON.parse(text) as StoredGroup;
      groups.push({
        fingerprint,
        code: meta.code,
        count,
        firstSeen: new Date(meta.first).toISOString(),
        lastSeen: new Date(meta.last).toISOString(),
        routes: Array.isArray(meta.routes) ? meta.routes : [],
        sample,
        signature: meta.sig,
        trend,
      });
    });
    return groups;
  }

  return {
    async put(member) {
      return (await runScript(
        redis,
        PUT_MEMBER,
        [keys.base],
        [
          member.logId,
          member.fingerprint,
          member.code,
          member.route,
          member.state,
          Date.parse(member.updatedAt),
          Date.parse(member.createdAt),
          member.signature,
        ],
      )) as GroupChange;
    },
    async remove(logId) {
      await runScript(redis, REMOVE_MEMBER, [keys.base], [logId]);
    },
    async list(query) {
      // A code filter reads the open groups' codes: groups are few (causes, not failures).
      const start = offsetOf(query.cursor);
      let fingerprints: string[];
      let total: number;
      if (query.code === undefined) {
        fingerprints = await redis.zrevrange(keys.open, start, start + query.limit - 1);
        total = await redis.zcard(keys.open);
      } else {
        const all = await redis.zrevrange(keys.open, 0, -1);
        const metas = all.length === 0 ? [] : await redis.hmget(keys.groups, ...all);
        const matching = all.filter((_, i) => {
          const text = metas[i];
          return text != null && (JSON.parse(text) as StoredGroup).code === query.code;
        });
        total = matching.length;
        fingerprints = matching.slice(start, start + query.limit);
      }
      const items = await describe(fingerprints);
      const next = start + fingerprints.length;
      return { items, total, ...(next < total ? { nextCursor: encodeCursor({ offset: next }) } : {}) };
    },
    async get(fingerprint) {
      return (await describe([fingerprint]))[0];
    },
    async members(fingerprint, query) {
      const start = offsetOf(query.cursor);
      const [items, total] = await Promise.all([
        redis.zrevrange(keys.members(fingerprint), start, start + query.limit - 1),
        redis.zcard(keys.members(fingerprint)),
      ]);
      const next = start + items.length;
      return { items, total, ...(next < total ? { nextCursor: encodeCursor({ offset: next }) } : {}) };
    },
    async *scanMembers(fingerprint, pageSize = 1_000) {
      // ZSCAN, not ranks: members that leave meanwhile (resolved) do not shift the rest out of view.
      let cursor = '0';
      do {
        const [next, flat] = await redis.zscan(keys.members(fingerprint), cursor, 'COUNT', pageSize);
        cursor = next;
        const ids: string[] = [];
        for (let i = 0; i < flat.length; i += 2) ids.push(flat[i] as string);
        if (ids.length > 0) yield ids;
      } while (cursor !== '0');
    },
  };
}
