import { createHash } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';

/**
 * The index's Lua scripts. KEYS[1] is always the index's base (`<ns>{index}:`), passed as a key so
 * an ioredis `keyPrefix` applies to it and a Redis Cluster routes the call by its hash tag; the
 * scripts build the other names from it (all in the same slot).
 */

// The sorted sets a failure belongs to: its state with its code and route, each or both "any".
// Any state is the union of the three states' sets (read at page time): a quarter less memory.
const FILTER_KEYS = `
local function filterKeys(b, s, c, r)
  return { b..'z:'..s..':'..c..':'..r, b..'z:'..s..':'..c..':*', b..'z:'..s..':*:'..r, b..'z:'..s..':*:*' }
end
local function unindex(b, id)
  local old = redis.call('HGET', b..'f', id)
  if not old then return false end
  local o = cjson.decode(old)
  for _, k in ipairs(filterKeys(b, o[1], o[2], o[3])) do redis.call('ZREM', k, id) end
  redis.call('HDEL', b..'f', id)
  redis.call('ZREM', b..'lex', id)
  return o
end
`;

/**
 * ARGV: logId, summary JSON, state, code, route, updatedAt ms, retention cutoff ms.
 * An older summary never replaces a newer one (a rebuild racing a live write); a resolved record
 * older than the cutoff leaves the index. Returns 1 when indexed.
 */
export const PUT_FAILURE = `${FILTER_KEYS}
local b, id, u = KEYS[1], ARGV[1], tonumber(ARGV[6])
local old = redis.call('HGET', b..'f', id)
if old and tonumber(cjson.decode(old)[4]) > u then return 0 end
unindex(b, id)
if ARGV[3] == 'resolved' and u < tonumber(ARGV[7]) then return 0 end
for _, k in ipairs(filterKeys(b, ARGV[3], ARGV[4], ARGV[5])) do redis.call('ZADD', k, u, id) end
redis.call('ZADD', b..'lex', 0, id)
redis.call('SADD', b..'codes', ARGV[4])
redis.call('HSET', b..'f', id, ARGV[2])
return 1
`;

/** ARGV: logId. */
export const REMOVE_FAILURE = `${FILTER_KEYS}
if unindex(KEYS[1], ARGV[1]) then return 1 end
return 0
`;

/**
 * KEYS[2]: the hash of values, KEYS[3..]: the sorted sets to page through together (one per state
 * for "any state"). ARGV: since (ms or -inf), limit, cursor score, cursor member (''). Returns nil
 * when the index is not ready, else {total, ids, scores, values}: up to limit + 1 items, newest
 * first (equal times by member, descending), continuing strictly after the cursor.
 */
export const PAGE = `
local b = KEYS[1]
if not redis.call('HGET', b..'meta', 'ready') then return false end
local since, limit, cs, cm = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local items, total = {}, 0
for k = 3, #KEYS do
  local key = KEYS[k]
  if since == '-inf' then total = total + redis.call('ZCARD', key) else total = total + redis.call('ZCOUNT', key, since, '+inf') end
  local got
  if cm == '' then
    got = redis.call('ZREVRANGEBYSCORE', key, '+inf', since, 'WITHSCORES', 'LIMIT', 0, limit + 1)
  else
    -- the cursor's own time: the members after it (usually none), then everything older
    if since == '-inf' or tonumber(cs) >= tonumber(since) then
      local same = redis.call('ZRANGEBYSCORE', key, cs, cs, 'WITHSCORES')
      for i = 1, #same, 2 do
        if same[i] < cm then items[#items + 1] = {same[i], tonumber(same[i + 1])} end
      end
    end
    got = redis.call('ZREVRANGEBYSCORE', key, '('..cs, since, 'WITHSCORES', 'LIMIT', 0, limit + 1)
  end
  for i = 1, #got, 2 do items[#items + 1] = {got[i], tonumber(got[i + 1])} end
end
table.sort(items, function(x, y) if x[2] ~= y[2] then return x[2] > y[2] end return x[1] > y[1] end)
local ids, scores = {}, {}
for i = 1, math.min(#items, limit + 1) do
  ids[i] = items[i][1]
  scores[i] = tostring(items[i][2])
end
local values = {}
if #ids > 0 then values = redis.call('HMGET', KEYS[2], unpack(ids)) end
return {total, ids, scores, values}
`;

/** ARGV: log ID prefix, cap. Returns nil when not ready, else {ids, values} of up to `cap` matches. */
export const PREFIX = `
local b = KEYS[1]
if not redis.call('HGET', b..'meta', 'ready') then return false end
local ids = redis.call('ZRANGEBYLEX', b..'lex', '['..ARGV[1], '['..ARGV[1]..'\\255', 'LIMIT', 0, tonumber(ARGV[2]))
local values = {}
for i = 1, #ids, 500 do
  local chunk = {}
  for j = i, math.min(i + 499, #ids) do chunk[#chunk + 1] = ids[j] end
  local got = redis.call('HMGET', b..'f', unpack(chunk))
  for j = 1, #chunk do values[#values + 1] = got[j] end
end
return {ids, values}
`;

/** ARGV: cutoff ms, max per call. Drops resolved failures and audit entries older than the cutoff. */
export const TRIM = `${FILTER_KEYS}
local b, cutoff, max = KEYS[1], ARGV[1], tonumber(ARGV[2])
local failures = redis.call('ZRANGEBYSCORE', b..'z:resolved:*:*', '-inf', '('..cutoff, 'LIMIT', 0, max)
for _, id in ipairs(failures) do unindex(b, id) end
local audit = redis.call('ZRANGEBYSCORE', b..'audit', '-inf', '('..cutoff, 'LIMIT', 0, max)
for _, id in ipairs(audit) do
  redis.call('ZREM', b..'audit', id)
  redis.call('HDEL', b..'audit:e', id)
end
return {#failures, #audit}
`;

/** ARGV: run id, time. Marks the index ready if that run is still the one building. */
export const FINISH = `
local b = KEYS[1]
if redis.call('HGET', b..'meta', 'building') ~= ARGV[1] then return 0 end
redis.call('HSET', b..'meta', 'ready', ARGV[2])
redis.call('HDEL', b..'meta', 'building')
return 1
`;

/** KEYS[1]: the lock. ARGV: owner, ttl ms. */
export const RENEW_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/** KEYS[1]: the lock. ARGV: owner. */
export const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

const shas = new Map<string, string>();

function shaOf(script: string): string {
  let sha = shas.get(script);
  if (sha === undefined) {
    sha = createHash('sha1').update(script).digest('hex');
    shas.set(script, sha);
  }
  return sha;
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** Runs a script by its SHA, loading it when the server does not have it (first use, a restart). */
export async function runScript(
  redis: Redis,
  script: string,
  keys: readonly string[],
  args: ReadonlyArray<string | number>,
): Promise<unknown> {
  try {
    return await redis.evalsha(shaOf(script), keys.length, ...keys, ...args);
  } catch (error) {
    if (!isNoScript(error)) throw error;
    return redis.eval(script, keys.length, ...keys, ...args);
  }
}

/** Queues a script call on a pipeline; call ensureScripts first so the SHA is known to the server. */
export function queueScript(
  pipeline: ChainableCommander,
  script: string,
  keys: readonly string[],
  args: ReadonlyArray<string | number>,
): void {
  pipeline.evalsha(shaOf(script), keys.length, ...keys, ...args);
}

/** Loads scripts into the server's cache (pipelines cannot fall back from NOSCRIPT one call at a time). */
export async function ensureScripts(redis: Redis, scripts: readonly string[]): Promise<void> {
  for (const script of scripts) await redis.script('LOAD', script);
}

export { isNoScript };

/**
 * KEYS[1]: the base. ARGV: log ID, the settling run's start (ms). Takes the log ID out of the
 * pending set unless an archive was observed after the run started (a re-upload it did not see).
 */
export const SETTLE = `
local b, id = KEYS[1], ARGV[1]
local v = redis.call('HGET', b..'pending:src', id)
if v and tonumber(cjson.decode(v)[3]) > tonumber(ARGV[2]) then return 0 end
redis.call('ZREM', b..'pending', id)
redis.call('HDEL', b..'pending:src', id)
return 1
`;

/**
 * A lock that one owner holds for a while (renewed as it works), with the checkpoint of the run it
 * guards beside it: what a resumable long run (the index rebuild, the full sweep) keeps in Redis.
 */
export function ownedRunKeys<C>(redis: Redis, lockKey: string, checkpointKey: string) {
  return {
    async acquire(owner: string, ttlMs: number): Promise<boolean> {
      return (await redis.set(lockKey, owner, 'PX', ttlMs, 'NX')) === 'OK';
    },
    async renew(owner: string, ttlMs: number): Promise<boolean> {
      return Number(await runScript(redis, RENEW_LOCK, [lockKey], [owner, ttlMs])) === 1;
    },
    async release(owner: string): Promise<void> {
      await runScript(redis, RELEASE_LOCK, [lockKey], [owner]);
    },
    async readCheckpoint(): Promise<C | undefined> {
      const text = await redis.get(checkpointKey);
      return text === null ? undefined : (JSON.parse(text) as C);
    },
    async writeCheckpoint(checkpoint: C): Promise<void> {
      await redis.set(checkpointKey, JSON.stringify(checkpoint));
    },
    async clearCheckpoint(): Promise<void> {
      await redis.del(checkpointKey);
    },
  };
}
