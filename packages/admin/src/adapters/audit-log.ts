import type { AuditEntry, Clock, Logger, StateStore } from '@logzip/core';
import { DEFAULT_KEYS } from '@logzip/core/bullmq';
import { decodeCursor, encodeCursor, type FailureIndex } from '@logzip/core/state';
import type { Redis } from 'ioredis';
import { AdminError, indexRebuildingError } from '../errors.js';
import type { AuditLog } from '../operations/context.js';

/** The Redis list of audit entries (JSON, newest first). */
export const AUDIT_KEY = DEFAULT_KEYS.audit;
/** Entries kept in Redis; the state store keeps every one. */
export const AUDIT_MAX = 10_000;

export interface AuditLogOptions {
  redis: Redis;
  state: StateStore;
  clock: Clock;
  logger: Logger;
  key?: string;
  /** Pages come from the index when there is one (the state store writes entries through to it). */
  index?: FailureIndex;
}

function identity(entry: AuditEntry): string {
  return `${entry.at}|${entry.operator}|${entry.action}|${entry.outcome}`;
}

function isAuditEntry(value: unknown): value is AuditEntry {
  const v = value as AuditEntry;
  return typeof v === 'object' && v !== null && typeof v.at === 'string' && typeof v.action === 'string';
}

/**
 * The audit log, written twice: to the Redis list `logzip:audit` (LPUSH, trimmed to 10,000) for a
 * fast view, and to the state store so it survives a Redis without persistence. Reading merges
 * both, newest first. A failed write on one side is logged and does not undo the action.
 */
export function createAuditLog(options: AuditLogOptions): AuditLog {
  const key = options.key ?? AUDIT_KEY;
  const { redis, state, clock, logger } = options;
  return {
    async record(input) {
      const entry: AuditEntry = { at: clock.now().toISOString(), ...input };
      const [toRedis, toState] = await Promise.allSettled([
        redis
          .multi()
          .lpush(key, JSON.stringify(entry))
          .ltrim(key, 0, AUDIT_MAX - 1)
          .exec(),
        state.appendAudit(entry),
      ]);
      for (const [where, result] of [
        ['redis', toRedis],
        ['state', toState],
      ] as const) {
        if (result.status === 'rejected') {
          const err = result.reason instanceof Error ? result.reason.message : String(result.reason);
          logger.error({ audit: entry, where, err }, 'could not write the audit entry');
        }
      }
      logger.info({ audit: entry }, `audit: ${entry.operator} ${entry.action} ${entry.outcome}`);
      return entry;
    },

    async page({ limit, cursor }) {
      if (cursor !== undefined && decodeCursor(cursor) === undefined) {
        throw new AdminError('invalid_request', 'cursor is not one this service gave out');
      }
      if (options.index !== undefined) {
        const page = await options.index.pageAudit({ limit, ...(cursor === undefined ? {} : { cursor }) });
        if (page === undefined) throw indexRebuildingError();
        return {
          entries: page.items,
          total: page.total,
          ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
        };
      }
      // Without an index: the newest AUDIT_MAX entries, paged by offset.
      const decoded = cursor === undefined ? undefined : decodeCursor(cursor);
      const offset = decoded !== undefined && 'offset' in decoded ? decoded.offset : 0;
      const all = await this.list({ limit: AUDIT_MAX });
      const next = offset + limit;
      return {
        entries: all.slice(offset, next),
        total: all.length,
        ...(next < all.length ? { nextCursor: encodeCursor({ offset: next }) } : {}),
      };
    },

    async list(listOptions = {}) {
      const limit = Math.max(1, Math.min(listOptions.limit ?? 100, AUDIT_MAX));
      const [fromRedis, fromState] = await Promise.allSettled([
        redis.lrange(key, 0, limit - 1),
        state.listAudit({ limit }),
      ]);
      if (fromRedis.status === 'rejected' && fromState.status === 'rejected') throw fromState.reason;
      const merged = new Map<string, AuditEntry>();
      if (fromRedis.status === 'fulfilled') {
        for (const line of fromRedis.value) {
          try {
            const entry: unknown = JSON.parse(line);
            if (isAuditEntry(entry)) merged.set(identity(entry), entry);
          } catch {
            // a foreign or damaged line is not an audit entry
          }
        }
      }
      if (fromState.status === 'fulfilled') {
        for (const entry of fromState.value)
          if (!merged.has(identity(entry))) merged.set(identity(entry), entry);
      }
      return [...merged.values()].sort((a, b) => b.at.localeCompare(a.at)).slice(0, limit);
    },
  };
}
