import { createHash, randomUUID } from 'node:crypto';
import { DEFAULT_KEYS } from '@logzip/core/bullmq';
import type { Redis } from 'ioredis';

/** The answer a completed upload gave, replayed to a retry with the same Idempotency-Key. */
export interface StoredAnswer {
  logId: string;
  status: number;
  body: Record<string, unknown>;
  /** The request that got this answer (size and SHA-256 of its body): a retry must send the same. */
  request?: { size: number; sha256: string };
}

/** Held while one request uploads under an Idempotency-Key; every other request with it waits. */
export interface IdempotencyLease {
  /** Stores the answer (for `answerTtlMs`) in place of the lease. */
  complete(answer: StoredAnswer): Promise<void>;
  /** Gives the key up without an answer (the upload failed): the next retry uploads again. */
  release(): Promise<void>;
}

export type IdempotencyBegin =
  | { kind: 'acquired'; lease: IdempotencyLease }
  | { kind: 'replay'; answer: StoredAnswer }
  | { kind: 'in_progress'; logId: string };

/**
 * One record per (token, Idempotency-Key): a lease while the first request runs, then its answer.
 * `begin` is atomic (SET NX), so two concurrent requests with one key never both store.
 */
export interface IdempotencyStore {
  begin(scope: string, idempotencyKey: string, logId: string): Promise<IdempotencyBegin>;
}

export interface IdempotencyTimes {
  /** How long an answer is replayed (default 24 h). */
  answerTtlMs?: number;
  /**
   * How long a lease outlives its holder: renewed every third of it while the upload runs, so a
   * crashed service frees the key after at most this long (default 5 min).
   */
  leaseTtlMs?: number;
}

const DEFAULT_ANSWER_TTL_MS = 24 * 3600_000;
const DEFAULT_LEASE_TTL_MS = 5 * 60_000;
export const IDEMPOTENCY_KEY_PREFIX = DEFAULT_KEYS.ingestIdempotencyPrefix;

interface LeaseRecord {
  state: 'in_progress';
  owner: string;
  logId: string;
}

interface DoneRecord {
  state: 'done';
  answer: StoredAnswer;
}

type IdempotencyRecord = LeaseRecord | DoneRecord;

/** `Idempotency-Key` values: 1-255 visible ASCII characters (UUIDs, ULIDs, hashes...). */
export const IDEMPOTENCY_KEY_RE = /^[\x21-\x7e]{1,255}$/;

/** A short fingerprint of a secret, for Redis keys and rate-limit buckets (never the secret itself). */
export function fingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 24);
}

function recordKey(scope: string, idempotencyKey: string, prefix = IDEMPOTENCY_KEY_PREFIX): string {
  return `${prefix}${scope}:${createHash('sha256').update(idempotencyKey).digest('hex')}`;
}

function parseRecord(text: string | null): IdempotencyRecord | undefined {
  if (text === null) return undefined;
  try {
    const value = JSON.parse(text) as IdempotencyRecord;
    return value.state === 'done' || value.state === 'in_progress' ? value : undefined;
  } catch {
    return undefined;
  }
}

const REPLACE_IF_OWNED = `if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 else return 0 end`;
const DELETE_IF_OWNED = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW_IF_OWNED = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/**
 * Idempotency records in Redis, shared by every admin instance. The lease is renewed while its
 * upload runs; completing or releasing it only touches a record the holder still owns.
 *
 * @example
 * const store = createRedisIdempotencyStore(redis);
 * const begun = await store.begin(fingerprint(token), 'a4f1…', '54321');
 * if (begun.kind === 'acquired') await begun.lease.complete({ logId: '54321', status: 202, body });
 */
export function createRedisIdempotencyStore(
  redis: Redis,
  times: IdempotencyTimes = {},
  prefix = IDEMPOTENCY_KEY_PREFIX,
): IdempotencyStore {
  const answerTtlMs = times.answerTtlMs ?? DEFAULT_ANSWER_TTL_MS;
  const leaseTtlMs = times.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  return {
    async begin(scope, idempotencyKey, logId) {
      const key = recordKey(scope, idempotencyKey, prefix);
      const lease = JSON.stringify({
        state: 'in_progress',
        owner: randomUUID(),
        logId,
      } satisfies LeaseRecord);
      for (let attempt = 0; attempt < 3; attempt++) {
        if ((await redis.set(key, lease, 'PX', leaseTtlMs, 'NX')) === 'OK') {
          const renew = setInterval(
            () => void redis.eval(RENEW_IF_OWNED, 1, key, lease, String(leaseTtlMs)).catch(() => {}),
            Math.max(1_000, Math.floor(leaseTtlMs / 3)),
          );
          renew.unref();
          return {
            kind: 'acquired',
            lease: {
              async complete(answer) {
                clearInterval(renew);
                const done = JSON.stringify({ state: 'done', answer } satisfies DoneRecord);
                await redis.eval(REPLACE_IF_OWNED, 1, key, lease, done, String(answerTtlMs));
              },
              async release() {
                clearInterval(renew);
                await redis.eval(DELETE_IF_OWNED, 1, key, lease);
              },
            },
          };
        }
        const existing = parseRecord(await redis.get(key));
        if (existing?.state === 'done') return { kind: 'replay', answer: existing.answer };
        if (existing?.state === 'in_progress') return { kind: 'in_progress', logId: existing.logId };
        // Gone between SET NX and GET (released or expired), or unreadable: try again.
        if (existing === undefined) await redis.del(key).catch(() => 0);
      }
      return { kind: 'in_progress', logId };
    },
  };
}

/**
 * The same records in this process's memory: for a single instance without Redis (tests, a
 * one-box setup). Answers are lost on restart.
 */
export function createMemoryIdempotencyStore(times: IdempotencyTimes = {}): IdempotencyStore {
  const answerTtlMs = times.answerTtlMs ?? DEFAULT_ANSWER_TTL_MS;
  const records = new Map<string, { record: IdempotencyRecord; expiresAt: number }>();
  return {
    async begin(scope, idempotencyKey, logId) {
      const key = recordKey(scope, idempotencyKey);
      const now = Date.now();
      const found = records.get(key);
      if (found !== undefined && found.expiresAt > now) {
        if (found.record.state === 'done') return { kind: 'replay', answer: found.record.answer };
        return { kind: 'in_progress', logId: found.record.logId };
      }
      const owner = randomUUID();
      records.set(key, {
        record: { state: 'in_progress', owner, logId },
        expiresAt: Number.POSITIVE_INFINITY,
      });
      const owned = () => {
        const current = records.get(key)?.record;
        return current?.state === 'in_progress' && current.owner === owner;
      };
      return {
        kind: 'acquired',
        lease: {
          async complete(answer) {
            if (owned())
              records.set(key, { record: { state: 'done', answer }, expiresAt: Date.now() + answerTtlMs });
          },
          async release() {
            if (owned()) records.delete(key);
          },
        },
      };
    },
  };
}
