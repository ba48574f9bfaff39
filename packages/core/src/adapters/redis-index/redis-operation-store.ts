import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type {
  Operation,
  OperationItemResult,
  OperationKind,
  OperationOptions,
  OperationSelection,
  OperationState,
  OperationStore,
} from '../../ports/operations.js';
import { DEFAULT_INDEX_NAMESPACE, operationKeys } from './keys.js';
import { runScript } from './scripts.js';

/** ARGV: log ID, counter (done|failed|skipped), result JSON, updatedAt. 1 when recorded, 0 when it had one. */
const RECORD = `
local b = KEYS[1]
if redis.call('HSETNX', b..'results', ARGV[1], ARGV[3]) == 0 then return 0 end
redis.call('RPUSH', b..'order', ARGV[1])
redis.call('HINCRBY', b..'meta', ARGV[2], 1)
redis.call('HSET', b..'meta', 'updatedAt', ARGV[4])
return 1
`;

/** ARGV: to, at ISO, at ms, from... Returns 1 when the state moved. */
const TRANSITION = `
local b = KEYS[1]
local s = redis.call('HGET', b..'meta', 'state')
if not s then return 0 end
for i = 4, #ARGV do
  if ARGV[i] == s then
    redis.call('HSET', b..'meta', 'state', ARGV[1], 'updatedAt', ARGV[2])
    if ARGV[1] == 'running' then
      local m = redis.call('HMGET', b..'meta', 'done', 'failed', 'skipped')
      redis.call('HSET', b..'meta', 'runAt', ARGV[3], 'runBase', tonumber(m[1]) + tonumber(m[2]) + tonumber(m[3]))
    elseif ARGV[1] == 'finished' or ARGV[1] == 'aborted' then
      redis.call('HSET', b..'meta', 'finishedAt', ARGV[2])
    end
    return 1
  end
end
return 0
`;

const PUSH_CHUNK = 1_000;

export interface RedisOperationStoreOptions {
  redis: Redis;
  /** `LOGZIP_INDEX_PREFIX`, default `logzip:`. */
  namespace?: string;
  /** For the rate; default the system clock. */
  now?: () => Date;
}

function toOperation(id: string, m: Record<string, string>, nowMs: number): Operation | undefined {
  if (m['state'] === undefined) return undefined;
  const total = Number(m['total']);
  const done = Number(m['done'] ?? 0);
  const failed = Number(m['failed'] ?? 0);
  const skipped = Number(m['skipped'] ?? 0);
  const left = Math.max(0, total - done - failed - skipped);
  const state = m['state'] as OperationState;
  const runAt = Number(m['runAt'] ?? 0);
  const seconds = (nowMs - runAt) / 1000;
  const since = done + failed + skipped - Number(m['runBase'] ?? 0);
  const rate = state === 'running' && runAt > 0 && seconds > 0 ? Math.round((since / seconds) * 10) / 10 : 0;
  return {
    id,
    kind: m['kind'] as OperationKind,
    state,
    total,
    done,
    failed,
    skipped,
    left,
    rate,
    ...(rate > 0 ? { etaSeconds: Math.ceil(left / rate) } : {}),
    createdBy: m['createdBy'] ?? '',
    reason: m['reason'] ?? '',
    selection: JSON.parse(m['selection'] ?? '{}') as OperationSelection,
    options: JSON.parse(m['options'] ?? '{"ratePerSecond":0}') as OperationOptions,
    createdAt: m['createdAt'] ?? '',
    updatedAt: m['updatedAt'] ?? '',
    ...(m['finishedAt'] === undefined ? {} : { finishedAt: m['finishedAt'] }),
  };
}

/**
 * Operations in Redis (keys: operationKeys). A result is written once per log ID (HSETNX) with its
 * counter in the same script, so a runner that dies after an action and runs it again never
 * counts it twice; the list of log IDs is frozen at creation.
 *
 * @example
 * const ops = createRedisOperationStore({ redis });
 * const op = await ops.create({ kind: 'reenqueue', createdBy: 'dana', reason: 'S3 outage', selection: { group }, options: { ratePerSecond: 200 } }, ids, new Date());
 */
export function createRedisOperationStore(options: RedisOperationStoreOptions): OperationStore {
  const { redis } = options;
  const keys = operationKeys(options.namespace ?? DEFAULT_INDEX_NAMESPACE);
  const now = options.now ?? (() => new Date());

  async function get(id: string): Promise<Operation | undefined> {
    if (!/^[0-9a-zA-Z_-]{1,64}$/.test(id)) return undefined;
    return toOperation(id, await redis.hgetall(`${keys.base(id)}meta`), now().getTime());
  }

  return {
    async create(operation, logIds, at) {
      const id = `op_${at.getTime().toString(36)}_${randomUUID().slice(0, 8)}`;
      const base = keys.base(id);
      for (let i = 0; i < logIds.length; i += PUSH_CHUNK) {
        await redis.rpush(`${base}ids`, ...logIds.slice(i, i + PUSH_CHUNK));
      }
      const iso = at.toISOString();
      await redis
        .multi()
        .hset(`${base}meta`, {
          kind: operation.kind,
          state: 'running',
          total: logIds.length,
          done: 0,
          failed: 0,
          skipped: 0,
          createdBy: operation.createdBy,
          reason: operation.reason,
          selection: JSON.stringify(operation.selection),
          options: JSON.stringify(operation.options),
          createdAt: iso,
          updatedAt: iso,
          pos: 0,
          runAt: at.getTime(),
          runBase: 0,
        })
        .zadd(keys.list, at.getTime(), id)
        .exec();
      return (await get(id)) as Operation;
    },
    get,
    async list(limit) {
      const ids = await redis.zrevrange(keys.list, 0, limit - 1);
      const found = await Promise.all(ids.map((id) => get(id)));
      return found.filter((op): op is Operation => op !== undefined);
    },
    async transition(id, from, to, at) {
      const moved = await runScript(
        redis,
        TRANSITION,
        [keys.base(id)],
        [to, at.toISOString(), at.getTime(), ...from],
      );
      return Number(moved) === 1 ? get(id) : undefined;
    },
    async nextBatch(id, size) {
      const base = keys.base(id);
      let position = Number((await redis.hget(`${base}meta`, 'pos')) ?? 0);
      // Skips what a runner before a restart already finished (results written, position not yet).
      for (;;) {
        const ids = await redis.lrange(`${base}ids`, position, position + size - 1);
        if (ids.length === 0) return { logIds: [], position };
        const known = await redis.hmget(`${base}results`, ...ids);
        position += ids.length;
        const open = ids.filter((_, i) => known[i] === null);
        if (open.length > 0) return { logIds: open, position };
      }
    },
    async advance(id, position) {
      await redis.hset(`${keys.base(id)}meta`, 'pos', position);
    },
    async record(id, result) {
      const recorded = await runScript(
        redis,
        RECORD,
        [keys.base(id)],
        [result.logId, result.outcome, JSON.stringify(result), result.at],
      );
      return Number(recorded) === 1;
    },
    async results(id, query) {
      const base = keys.base(id);
      const ids = await redis.lrange(`${base}order`, query.offset, query.offset + query.limit - 1);
      if (ids.length === 0) return [];
      const values = await redis.hmget(`${base}results`, ...ids);
      return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as OperationItemResult);
    },
  };
}
