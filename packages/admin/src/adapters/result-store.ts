import { randomBytes } from 'node:crypto';
import { DEFAULT_KEYS } from '@logzip/core/bullmq';
import type { Redis } from 'ioredis';

/**
 * Results of UI actions kept for a short while, so that the action's POST can redirect to a page
 * that shows them (post/redirect/get): reloading that page reads the result again and never
 * repeats the action. A result is readable only by the session that made it.
 */
export interface ResultStore {
  put(owner: string, value: unknown): Promise<string>;
  /** The stored value; undefined when it expired or belongs to another session. */
  get(owner: string, id: string): Promise<unknown>;
}

export const RESULT_TTL_MS = 30 * 60_000;

interface Stored {
  owner: string;
  value: unknown;
}

function newId(): string {
  return randomBytes(16).toString('base64url');
}

export function createRedisResultStore(
  redis: Redis,
  ttlMs = RESULT_TTL_MS,
  prefix = DEFAULT_KEYS.uiResultPrefix,
): ResultStore {
  return {
    async put(owner, value) {
      const id = newId();
      await redis.set(`${prefix}${id}`, JSON.stringify({ owner, value } satisfies Stored), 'PX', ttlMs);
      return id;
    },
    async get(owner, id) {
      const text = await redis.get(`${prefix}${id}`);
      if (text === null) return undefined;
      try {
        const stored = JSON.parse(text) as Stored;
        return stored.owner === owner ? stored.value : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

export function createMemoryResultStore(now: () => number, ttlMs = RESULT_TTL_MS): ResultStore {
  const results = new Map<string, Stored & { expiresAt: number }>();
  return {
    async put(owner, value) {
      for (const [key, stored] of results) if (stored.expiresAt <= now()) results.delete(key);
      const id = newId();
      results.set(id, { owner, value, expiresAt: now() + ttlMs });
      return id;
    },
    async get(owner, id) {
      const stored = results.get(id);
      if (stored === undefined || stored.expiresAt <= now() || stored.owner !== owner) return undefined;
      return stored.value;
    },
  };
}
