import { DEFAULT_QUEUE_PREFIX } from '@logzip/core/bullmq';
import type { Redis } from 'ioredis';

/**
 * Where the last run of the worker's scheduled canary is shared between processes, so every
 * worker's metrics report it whichever worker ran it. One key per queue prefix, beside the sweep's
 * snapshot (core/bullmq).
 */
export function sharedSnapshotKey(task: string, queuePrefix: string = DEFAULT_QUEUE_PREFIX): string {
  return queuePrefix === DEFAULT_QUEUE_PREFIX ? `logzip:${task}:last` : `logzip:${task}:last:${queuePrefix}`;
}

/** The task's last snapshot, or undefined when there is none or it cannot be read. */
export async function readSharedSnapshot<T>(
  redis: Redis,
  task: string,
  queuePrefix?: string,
): Promise<T | undefined> {
  const text = await redis.get(sharedSnapshotKey(task, queuePrefix));
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
