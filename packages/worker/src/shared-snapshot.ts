import type { Redis } from 'ioredis';

/** A JSON snapshot another process shared under `key`, or undefined when there is none or it cannot be read. */
export async function readSharedSnapshot<T>(redis: Redis, key: string): Promise<T | undefined> {
  const text = await redis.get(key);
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
