import { FAILURE_STATES, type FailureRecord, type FailureState } from '@logzip/core';
import { decodeCursor, type FailureSummary, type IndexCounts, type IndexReadiness } from '@logzip/core/state';
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
  /** The index's summaries; the whole record (stack, entry, every attempt) is in `status`. */
  failures: FailureSummary[];
  /** Every record that matches the filter, from the index (not only this page). */
  total: number;
  /** Present only when more records follow: pass it back as `cursor`. */
  nextCursor?: string;
}

export const DEFAULT_FAILURE_LIMIT = 50;
export const MAX_FAILURE_LIMIT = 500;

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
 * One page of failures, newest first, filtered by state (default `failed`), code, route, time and
 * log-ID prefix: summaries and the total, from the index alone (a page costs the same at a
 * thousand records or a million; no state object is read).
 */
/** What the failure views need: the index alone (the CLI's direct path opens nothing else). */
export type FailureViews = Pick<OperationsContext, 'index'>;

export async function listFailures(ctx: FailureViews, query: FailureQuery = {}): Promise<FailureList> {
  const limit = checkQuery(query);
  const state = query.state ?? 'failed';
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
  return {
    failures: page.items,
    total: page.total,
    ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
  };
}

/**
 * Every failed log ID matching code, route and since, page by page from the index (bulk
 * selections, not views): no failure record is read, so a selection of 100,000 costs 200 pages.
 */
export async function selectFailedLogIds(
  ctx: FailureViews,
  query: Pick<FailureQuery, 'code' | 'route' | 'since'>,
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
export async function countFailures(ctx: FailureViews): Promise<IndexCounts> {
  const counts = await ctx.index.counts();
  if (counts === undefined) throw indexRebuildingError();
  return counts;
}

/**
 * The whole records of one page (the UI shows their stacks), a few reads at a time. Reading goes
 * through the state store, so an index entry found out of step is healed here.
 */
export async function readFailureRecords(
  ctx: OperationsContext,
  logIds: readonly string[],
): Promise<Map<string, FailureRecord>> {
  const records = new Map<string, FailureRecord>();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(8, logIds.length) }, async () => {
      while (next < logIds.length) {
        const logId = logIds[next++] as string;
        const record = await ctx.state.getFailure(logId);
        if (record !== undefined) records.set(logId, record);
      }
    }),
  );
  return records;
}

/** Whether the index can answer views, and the rebuild under way (`GET /api/index`). */
export async function getIndexStatus(ctx: FailureViews): Promise<IndexReadiness> {
  return ctx.index.readiness();
}
