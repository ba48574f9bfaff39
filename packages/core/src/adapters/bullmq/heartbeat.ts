import type { Redis } from 'ioredis';
import { DEFAULT_KEYS, type RedisKeys } from './keys.js';

/** The two key names a heartbeat needs (from `redisKeys(namespace)`: each deployment its own). */
export type HeartbeatKeys = Pick<RedisKeys, 'workerHeartbeat' | 'workerHeartbeatPattern'>;

/** What one worker process says about itself every few seconds. */
export interface WorkerHeartbeat {
  /** `host:pid`, the BullMQ worker name. */
  name: string;
  host: string;
  pid: number;
  startedAt: string;
  /** When this beat was written. */
  at: string;
  concurrency: number;
  activeJobs: number;
}

/**
 * The key outlives many missed beats: a frozen worker (SIGSTOP, a hung event loop) keeps its
 * Redis connection open and stays listed with an old beat (shown stale) for this long, then
 * disappears.
 */
export const HEARTBEAT_TTL_MS = 10 * 60_000;

/** Writes one beat under the worker's key (per BullMQ prefix), with the TTL. */
export async function writeHeartbeat(
  redis: Redis,
  queuePrefix: string,
  beat: WorkerHeartbeat,
  ttlMs: number = HEARTBEAT_TTL_MS,
  keys: HeartbeatKeys = DEFAULT_KEYS,
): Promise<void> {
  await redis.set(keys.workerHeartbeat(queuePrefix, beat.name), JSON.stringify(beat), 'PX', ttlMs);
}

/** Removes the worker's beat (a clean shutdown: the worker is gone, not stuck). */
export async function removeHeartbeat(
  redis: Redis,
  queuePrefix: string,
  name: string,
  keys: HeartbeatKeys = DEFAULT_KEYS,
): Promise<void> {
  await redis.del(keys.workerHeartbeat(queuePrefix, name));
}

/** Every worker's last beat under one BullMQ prefix, the most recent first. */
export async function readHeartbeats(
  redis: Redis,
  queuePrefix: string,
  names: HeartbeatKeys = DEFAULT_KEYS,
): Promise<WorkerHeartbeat[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(
      cursor,
      'MATCH',
      names.workerHeartbeatPattern(queuePrefix),
      'COUNT',
      500,
    );
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0' && keys.length < 10_000);
  if (keys.length === 0) return [];
  const beats: WorkerHeartbeat[] = [];
  for (const text of await redis.mget(...keys)) {
    if (text === null) continue;
    try {
      beats.push(JSON.parse(text) as WorkerHeartbeat);
    } catch {
      // A damaged beat says nothing; the worker's next one replaces it.
    }
  }
  return beats.sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
}
