import { randomBytes } from 'node:crypto';
import { DEFAULT_KEYS, type RedisKeys } from '@logzip/core/bullmq';
import type { Redis } from 'ioredis';

/** One signed-in browser: who, until when, and which admin token it signed in with (a fingerprint). */
export interface SessionRecord {
  operator: string;
  expiresAt: number;
  tokenFingerprint: string;
}

/**
 * The UI sessions, kept on the server so that logout, a new admin token and "sign out everywhere"
 * end them: the cookie holds only a random id. Shared by every admin instance through Redis.
 */
export interface SessionStore {
  create(record: SessionRecord): Promise<string>;
  /** The record of a live session; undefined when it was revoked or has expired. */
  read(id: string): Promise<SessionRecord | undefined>;
  revoke(id: string): Promise<void>;
  /** Ends every session; returns how many were live. */
  revokeAll(): Promise<number>;
}

function newSessionId(): string {
  return randomBytes(24).toString('base64url');
}

function parseRecord(text: string | null): SessionRecord | undefined {
  if (text === null) return undefined;
  try {
    const value = JSON.parse(text) as Partial<SessionRecord>;
    if (
      typeof value.operator !== 'string' ||
      typeof value.expiresAt !== 'number' ||
      typeof value.tokenFingerprint !== 'string'
    )
      return undefined;
    return value as SessionRecord;
  } catch {
    return undefined;
  }
}

/**
 * Sessions in Redis: one key per session with the session's own expiry, plus an index for
 * revoking them all.
 *
 * @example
 * const sessions = createRedisSessionStore(redis, () => Date.now());
 * const id = await sessions.create({ operator: 'alice', expiresAt: Date.now() + 3600_000, tokenFingerprint });
 */
export function createRedisSessionStore(
  redis: Redis,
  now: () => number,
  keys: Pick<RedisKeys, 'sessionPrefix' | 'sessionIndex'> = DEFAULT_KEYS,
): SessionStore {
  const SESSION_KEY_PREFIX = keys.sessionPrefix;
  const SESSION_INDEX_KEY = keys.sessionIndex;
  return {
    async create(record) {
      const id = newSessionId();
      const ttlMs = Math.max(1, record.expiresAt - now());
      await redis
        .multi()
        .set(`${SESSION_KEY_PREFIX}${id}`, JSON.stringify(record), 'PX', ttlMs)
        .zadd(SESSION_INDEX_KEY, record.expiresAt, id)
        .zremrangebyscore(SESSION_INDEX_KEY, '-inf', now())
        .exec();
      return id;
    },
    async read(id) {
      const record = parseRecord(await redis.get(`${SESSION_KEY_PREFIX}${id}`));
      return record !== undefined && record.expiresAt > now() ? record : undefined;
    },
    async revoke(id) {
      await redis.multi().del(`${SESSION_KEY_PREFIX}${id}`).zrem(SESSION_INDEX_KEY, id).exec();
    },
    async revokeAll() {
      const ids = await redis.zrange(SESSION_INDEX_KEY, 0, -1);
      if (ids.length === 0) return 0;
      const results = await redis
        .multi()
        .del(...ids.map((id) => `${SESSION_KEY_PREFIX}${id}`))
        .zrem(SESSION_INDEX_KEY, ...ids)
        .exec();
      const deleted = results?.[0]?.[1];
      return typeof deleted === 'number' ? deleted : 0;
    },
  };
}

/** The same in this process's memory: for an admin built without Redis (unit tests, one box). */
export function createMemorySessionStore(now: () => number): SessionStore {
  const records = new Map<string, SessionRecord>();
  return {
    async create(record) {
      const id = newSessionId();
      records.set(id, record);
      return id;
    },
    async read(id) {
      const record = records.get(id);
      return record !== undefined && record.expiresAt > now() ? record : undefined;
    },
    async revoke(id) {
      records.delete(id);
    },
    async revokeAll() {
      const live = [...records.values()].filter((record) => record.expiresAt > now()).length;
      records.clear();
      return live;
    },
  };
}
