import { randomBytes } from 'node:crypto';
import { LogzipError } from '../errors.js';
import { LOG_ID_RE } from '../job.js';
import type { Clock } from '../ports/clock.js';
import { systemClock } from '../ports/clock.js';
import { isPreconditionFailed, type ObjectStore } from '../ports/object-store.js';
import { upgradeFailureRecord } from './failures.js';
import type { FailureFilter, StateStore } from './state-store.js';
import type { AuditEntry, FailureRecord, Manifest } from './types.js';

export interface StateStoreOptions {
  /** Any ObjectStore: S3 and folders get the same layout. */
  store: ObjectStore;
  bucket: string;
  /** The state prefix (`LOGZIP_STATE_PREFIX`, default `logzip-state/`); a missing trailing slash is added. */
  prefix: string;
  clock?: Clock;
}

const READ_CONCURRENCY = 8;
const DEFAULT_AUDIT_LIMIT = 100;

/**
 * Manifests, failure records and audit entries as JSON objects under one prefix:
 *
 * ```
 * <prefix>manifests/<logId>.json                          the current manifest
 * <prefix>history/<logId>/<finishedAt>-<etag8>.json       earlier manifests (etag8: the source's ETag)
 * <prefix>failures/<logId>.json                           the failure record
 * <prefix>audit/<yyyy-mm-dd>/<at>-<random>.json            one audit entry each
 * <prefix>leases/<logId>.json                             the running extraction's lease
 * ```
 *
 * History names derive from the retired manifest itself, so retiring the same manifest twice (a
 * crash between the copy and the delete) keeps one copy. Lists are newest first. Log IDs are
 * checked against LOG_ID_RE before they become part of a key.
 *
 * @example
 * ```ts
 * const state = createStateStore({ store, bucket: config.output.bucket, prefix: config.statePrefix });
 * const manifest = await state.getManifest('54321');
 * ```
 */
export function createStateStore(options: StateStoreOptions): StateStore {
  return new ObjectStateStore(options);
}

class ObjectStateStore implements StateStore {
  readonly #store: ObjectStore;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #clock: Clock;

  constructor(options: StateStoreOptions) {
    this.#store = options.store;
    this.#bucket = options.bucket;
    this.#prefix =
      options.prefix === '' || options.prefix.endsWith('/') ? options.prefix : `${options.prefix}/`;
    this.#clock = options.clock ?? systemClock;
  }

  async getManifest(logId: string): Promise<Manifest | undefined> {
    return this.#readJson<Manifest>(this.#manifestKey(logId), isManifest);
  }

  async putManifest(manifest: Manifest): Promise<void> {
    const current = await this.getManifest(manifest.logId);
    if (current !== undefined && this.#historyKey(current) !== this.#historyKey(manifest)) {
      await this.#writeJson(this.#historyKey(current), current);
    }
    await this.#writeJson(this.#manifestKey(manifest.logId), manifest);
  }

  async retireManifest(logId: string): Promise<void> {
    const current = await this.getManifest(logId);
    if (current === undefined) return;
    await this.#writeJson(this.#historyKey(current), current);
    await this.#store.deleteMany(this.#bucket, [this.#manifestKey(logId)]);
  }

  async listHistory(logId: string): Promise<Manifest[]> {
    const keys = await this.#keys(this.#historyPrefix(logId));
    const manifests = await this.#readMany<Manifest>(keys.reverse(), isManifest);
    return manifests;
  }

  async getFailure(logId: string): Promise<FailureRecord | undefined> {
    const record = await this.#readJson<FailureRecord>(this.#failureKey(logId), isFailureRecord);
    return record === undefined ? undefined : upgradeFailureRecord(record);
  }

  async putFailure(record: FailureRecord): Promise<void> {
    await this.#writeJson(this.#failureKey(record.logId), record);
  }

  async listFailures(filter: FailureFilter = {}): Promise<FailureRecord[]> {
    const keys = await this.#keys(`${this.#prefix}failures/`, true);
    const records = (await this.#readMany<FailureRecord>(keys, isFailureRecord)).map(upgradeFailureRecord);
    const since = filter.since?.getTime();
    return records
      .filter((r) => filter.state === undefined || r.state === filter.state)
      .filter((r) => filter.code === undefined || r.code === filter.code)
      .filter((r) => filter.route === undefined || r.route === filter.route)
      .filter((r) => since === undefined || Date.parse(r.updatedAt) >= since)
      .sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0));
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    const parsed = new Date(entry.at);
    const at = Number.isNaN(parsed.getTime()) ? this.#clock.now() : parsed;
    const iso = at.toISOString();
    const key = `${this.#prefix}audit/${iso.slice(0, 10)}/${iso}-${randomBytes(4).toString('hex')}.json`;
    await this.#writeJson(key, entry);
  }

  async listAudit(options: { limit?: number } = {}): Promise<AuditEntry[]> {
    const limit = Math.max(0, options.limit ?? DEFAULT_AUDIT_LIMIT);
    if (limit === 0) return [];
    // Keys sort by day, then time: keep the last `limit` while paging through, newest first.
    const newest: string[] = [];
    for await (const object of this.#store.list(this.#bucket, `${this.#prefix}audit/`)) {
      if (!object.key.endsWith('.json')) continue;
      newest.push(object.key);
      if (newest.length > limit) newest.shift();
    }
    return this.#readMany<AuditEntry>(newest.reverse(), isAuditEntry);
  }

  async acquireLease(logId: string, owner: string, ttlMs: number): Promise<boolean> {
    const key = this.#leaseKey(logId);
    // Two tries: the second follows a lease that was released or had expired.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.#writeJson(key, this.#lease(logId, owner, ttlMs), true);
        return true;
      } catch (error) {
        if (!isPreconditionFailed(error)) throw error;
      }
      const held = await this.#readJson<Lease>(key, isLease);
      if (held === undefined) continue;
      if (held.owner === owner) {
        await this.#writeJson(key, this.#lease(logId, owner, ttlMs));
        return true;
      }
      if (Date.parse(held.expiresAt) > this.#clock.now().getTime()) return false;
      // Expired: its run died. Two runs taking over at the same instant could both delete;
      // only one then wins the conditional create above.
      await this.#store.deleteMany(this.#bucket, [key]);
    }
    return false;
  }

  async renewLease(logId: string, owner: string, ttlMs: number): Promise<void> {
    const held = await this.#readJson<Lease>(this.#leaseKey(logId), isLease);
    if (held !== undefined && held.owner !== owner) {
      throw new LogzipError('timeout', `the extraction lease of ${logId} was taken over by ${held.owner}`);
    }
    await this.#writeJson(this.#leaseKey(logId), this.#lease(logId, owner, ttlMs));
  }

  async releaseLease(logId: string, owner: string): Promise<void> {
    const key = this.#leaseKey(logId);
    const held = await this.#readJson<Lease>(key, isLease);
    if (held?.owner === owner) await this.#store.deleteMany(this.#bucket, [key]);
  }

  #lease(logId: string, owner: string, ttlMs: number): Lease {
    const now = this.#clock.now();
    return {
      logId,
      owner,
      acquiredAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
    };
  }

  #leaseKey(logId: string): string {
    return `${this.#prefix}leases/${checkLogId(logId)}.json`;
  }

  async purge(logId: string): Promise<string[]> {
    const keys = await this.#keys(this.#historyPrefix(logId));
    // Alert markers are `alerts/<logId>-<16 hex>.json`; log IDs may contain "-", so match exactly.
    const alertPrefix = `${this.#prefix}alerts/${checkLogId(logId)}-`;
    for (const key of await this.#keys(alertPrefix)) {
      if (/^[0-9a-f]{16}\.json$/.test(key.slice(alertPrefix.length))) keys.push(key);
    }
    for (const key of [this.#manifestKey(logId), this.#failureKey(logId), this.#leaseKey(logId)]) {
      if ((await this.#store.head(this.#bucket, key)) !== undefined) keys.push(key);
    }
    await this.#store.deleteMany(this.#bucket, keys);
    return keys;
  }

  #manifestKey(logId: string): string {
    return `${this.#prefix}manifests/${checkLogId(logId)}.json`;
  }

  #historyPrefix(logId: string): string {
    return `${this.#prefix}history/${checkLogId(logId)}/`;
  }

  #historyKey(manifest: Manifest): string {
    const finished = new Date(manifest.finishedAt);
    const iso = (Number.isNaN(finished.getTime()) ? this.#clock.now() : finished).toISOString();
    const etag8 = (manifest.source.etag.replace(/[^0-9A-Za-z]/g, '').slice(0, 8) || 'noetag').toLowerCase();
    return `${this.#historyPrefix(manifest.logId)}${iso}-${etag8}.json`;
  }

  #failureKey(logId: string): string {
    return `${this.#prefix}failures/${checkLogId(logId)}.json`;
  }

  async #keys(prefix: string, oneLevel = false): Promise<string[]> {
    const keys: string[] = [];
    for await (const object of this.#store.list(this.#bucket, prefix, { delimiter: oneLevel })) {
      if (object.key.endsWith('.json')) keys.push(object.key);
    }
    return keys;
  }

  async #writeJson(key: string, value: unknown, ifNoneMatch = false): Promise<void> {
    await this.#store.put(this.#bucket, key, Buffer.from(`${JSON.stringify(value)}\n`), {
      contentType: 'application/json',
      ...(ifNoneMatch ? { ifNoneMatch: true } : {}),
    });
  }

  /** The parsed object, or undefined when it does not exist. */
  async #readJson<T>(key: string, check: (value: unknown) => boolean): Promise<T | undefined> {
    let body: Buffer;
    try {
      body = await this.#store.get(this.#bucket, key);
    } catch (error) {
      if (error instanceof LogzipError && error.code === 'source_not_found') return undefined;
      throw error;
    }
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch (error) {
      throw damaged(this.#bucket, key, error);
    }
    if (!check(value)) throw damaged(this.#bucket, key);
    return value as T;
  }

  /** Reads keys in order, a few at a time; objects deleted meanwhile are left out. */
  async #readMany<T>(keys: readonly string[], check: (value: unknown) => boolean): Promise<T[]> {
    const results: Array<T | undefined> = new Array(keys.length);
    let next = 0;
    const workers = Array.from({ length: Math.min(READ_CONCURRENCY, keys.length) }, async () => {
      while (next < keys.length) {
        const index = next++;
        results[index] = await this.#readJson<T>(keys[index] as string, check);
      }
    });
    await Promise.all(workers);
    return results.filter((value): value is T => value !== undefined);
  }
}

function checkLogId(logId: string): string {
  if (!LOG_ID_RE.test(logId)) {
    throw new LogzipError(
      'invalid_key',
      `not a log ID: ${JSON.stringify(logId)} (1-64 characters of [0-9A-Za-z_-])`,
    );
  }
  return logId;
}

function damaged(bucket: string, key: string, cause?: unknown): LogzipError {
  return new LogzipError('internal', `state object ${bucket}/${key} is damaged (not the expected JSON)`, {
    retryable: false,
    ...(cause === undefined ? {} : { cause }),
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether a parsed state object has the shape this version writes (the index checks objects with it). */
export function isManifest(value: unknown): boolean {
  return (
    isObject(value) &&
    value['version'] === 1 &&
    typeof value['logId'] === 'string' &&
    isObject(value['source']) &&
    Array.isArray(value['entries'])
  );
}

/** Whether a parsed state object has the shape this version writes (the index checks objects with it). */
export function isFailureRecord(value: unknown): boolean {
  return (
    isObject(value) &&
    value['version'] === 1 &&
    typeof value['logId'] === 'string' &&
    typeof value['state'] === 'string' &&
    Array.isArray(value['attempts'])
  );
}

interface Lease {
  logId: string;
  owner: string;
  acquiredAt: string;
  expiresAt: string;
}

function isLease(value: unknown): boolean {
  return isObject(value) && typeof value['owner'] === 'string' && typeof value['expiresAt'] === 'string';
}

/** Whether a parsed state object has the shape this version writes (the index checks objects with it). */
export function isAuditEntry(value: unknown): boolean {
  return isObject(value) && typeof value['at'] === 'string' && typeof value['action'] === 'string';
}
