import type { Redis } from 'ioredis';
import type { SweepSnapshot } from '../../engine/sweep.js';
import { DEFAULT_KEYS, type RedisKeys } from './keys.js';

/**
 * The last sweep's backlog, shared through Redis: the sweeping process writes it, every worker's
 * metrics and the admin's overview read it. One snapshot per BullMQ prefix.
 */
export async function readSweepSnapshot(
  redis: Redis,
  queuePrefix?: string,
  keys: Pick<RedisKeys, 'sweepSnapshot'> = DEFAULT_KEYS,
): Promise<SweepSnapshot | undefined> {
  const text = await redis.get(keys.sweepSnapshot(queuePrefix));
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as SweepSnapshot;
  } catch {
    return undefined;
  }
}

/** The `publish` callback of a sweep: writes its snapshot where readSweepSnapshot finds it. */
export function sweepSnapshotPublisher(
  redis: Redis,
  queuePrefix?: string,
  keys: Pick<RedisKeys, 'sweepSnapshot'> = DEFAULT_KEYS,
): (snapshot: SweepSnapshot) => Promise<void> {
  return async (snapshot) => {
    await redis.set(keys.sweepSnapshot(queuePrefix), JSON.stringify(snapshot));
  };
}
