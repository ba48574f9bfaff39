import {
  decodeCursor,
  encodeCursor,
  FAILURE_STATES,
  type FailureRecord,
  type FailureState,
  type IndexCounts,
  type IndexReadiness,
} from '@logzip/core';
import { AdminError, indexRebuildingError } from '../errors.js';
import type { OperationsContext } from './context.js';

export interface FailureQuery {
  /** `failed` by default (what lists, alerts and --all-failed take); `all` for every record. */
  state?: FailureState | 'all';
  code?: string;
  route?: string;
  /** Only records updated at or after this time. */
  since?: Date;
  /** Log IDs that start with this text. */
  logIdPrefix?: string;
  limit?: number;
  /** The previous page's `nextCursor`. */
  cursor?: string;
}

export interface FailureList {
  failures: FailureRecord[];
  /** Every record that matches the filter, from the index (not only this page). */
  total: number;
  /** Present only when more records follow: pass it back as `cursor`. */
  nextCursor?: string;
}

export const DEFAULT_FAILURE_LIMIT = 50;
export const MAX_FAILURE_LIMIT = 500;
const READ_CONCURRENCY = 16;

export function parseFailureState(value: string | undefined): FailureState | 'all' | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'all' || (FAILURE_STATES as readonly string[]).includes(value))
    return value as FailureState | 'all';
  throw new AdminError('invalid_request', `state must be one of ${[...FAILURE_STATES, 'all'].join(', ')}`);
}

function checkQuery(query: FailureQuery): number {
  const limit = query.limit ?? DEFAULT_FAILURE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FAILURE_LIMIT) {
    throw new AdminError('invalid_request', `limit must be between 1 and ${MAX_FAILURE_LIMIT}`);
  }
  if (query.cursor !== undefined && decodeCursor(query.cursor) === undefined) {
    throw new AdminError('invalid_request', 'cursor is not one this service gave out');
  }
  if (query.logIdPrefix !== undefined && !/^[0-9A-Za-z_-]{0,64}$/.test(query.logIdPrefix)) {
    throw new AdminError('invalid_request', 'a log ID prefix is up to 64 characters of [0-9A-Za-z_-]');
  }
  return limit;
}

/**
 * One page of failure records, newest first, filtered by state (default `failed`), code, route,
 * time and log-ID prefix. The index picks the page and counts the total; the page's records are
 * then read from the state objects (the truth), which heals an index entry that is out of step.
 */
export async function listFailures(ctx: OperationsContext, query: FailureQuery = {}): Promise<FailureList> {
  const limit = checkQuery(query);
  const state = query.state ?? 'failed';
  if (ctx.index === undefined) return scanFailures(ctx, { ...query, state }, limit);
  const page = await ctx.index.pageFailures({
    ...(state === 'all' ? {} : { state }),
    ...(query.code === undefined ? {} : { code: query.code }),
    ...(query.route === undefined ? {} : { route: query.route }),
    ...(query.since === undefined ? {} : { since: query.since }),
    ...(query.logIdPrefix === undefined || query.logIdPrefix === ''
      ? {}
      : { logIdPrefix: query.logIdPrefix }),
    ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
    limit,
  });
  if (page === undefined) throw indexRebuildingError();
  const records = await readRecords(
    ctx,
    page.items.map((s) => s.logId),
  );
  // A record that changed since it was indexed (and was healed on read) may not match any more.
  const failures = records.filter((r) => matches(r, { ...query, state }));
  return {
    failures,
    total: page.total,
    ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
  };
}

/** Every failed log ID matching code and since, page by page (bulk selections, not views). */
export async function selectFailedLogIds(
  ctx: OperationsContext,
  query: Pick<FailureQuery, 'code' | 'since'>,
): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await listFailures(ctx, {
      ...query,
      state: 'failed',
      limit: MAX_FAILURE_LIMIT,
      ...(cursor === undefined ? {} : { cursor }),
    });
    for (const record of page.failures) ids.push(record.logId);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return ids;
}

/** Failure counts by state and by code, for the dashboard. */
export async function countFailures(ctx: OperationsContext): Promise<IndexCounts> {
  if (ctx.index === undefined) {
    const byState = { retrying: 0, failed: 0, resolved: 0 };
    const byCode: IndexCounts['byCode'] = {};
    for (const r of await ctx.state.listFailures()) {
      byState[r.state] += 1;
      byCode[r.code] ??= { retrying: 0, failed: 0, resolved: 0 };
      (byCode[r.code] as Record<FailureState, number>)[r.state] += 1;
    }
    return { byState, byCode };
  }
  const counts = await ctx.index.counts();
  if (counts === undefined) throw indexRebuildingError();
  return counts;
}

function matches(r: FailureRecord, query: FailureQuery): boolean {
  return (
    (query.state === undefined || query.state === 'all' || r.state === query.state) &&
    (query.code === undefined || r.code === query.code) &&
    (query.route === undefined || r.route === query.route) &&
    (query.since === undefined || Date.parse(r.updatedAt) >= query.since.getTime()) &&
    (query.logIdPrefix === undefined || r.logId.startsWith(query.logIdPrefix))
  );
}

async function readRecords(ctx: OperationsContext, logIds: readonly string[]): Promise<FailureRecord[]> {
  const records: Array<FailureRecord | undefined> = new Array(logIds.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(READ_CONCURRENCY, logIds.length) }, async () => {
      while (next < logIds.length) {
        const at = next++;
        records[at] = await ctx.state.getFailure(logIds[at] as string);
      }
    }),
  );
  return records.filter((r): r is FailureRecord => r !== undefined);
}

/** Without an index (a context built without Redis): every record is read. Small setups and tests only. */
async function scanFailures(
  ctx: OperationsContext,
  query: FailureQuery,
  limit: number,
): Promise<FailureList> {
  const all = (await ctx.state.listFailures()).filter((r) => matches(r, query));
  all.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || b.logId.localeCompare(a.logId));
  const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const offset = cursor !== undefined && 'offset' in cursor ? cursor.offset : 0;
  const next = offset + limit;
  return {
    failures: all.slice(offset, next),
    total: all.length,
    ...(next < all.length ? { nextCursor: encodeCursor({ offset: next }) } : {}),
  };
}

/** Whether the index can answer views, and the rebuild under way (`GET /api/index`). */
export async function getIndexStatus(
  ctx: OperationsContext,
): Promise<IndexReadiness | { ready: true; kind: 'none' }> {
  if (ctx.index === undefined) return { ready: true, kind: 'none' };
  return ctx.index.readiness();
}
