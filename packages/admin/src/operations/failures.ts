import { FAILURE_STATES, type FailureRecord, type FailureState } from '@logzip/core';
import { AdminError } from '../errors.js';
import type { OperationsContext } from './context.js';

export interface FailureQuery {
  /** `failed` by default (what lists, alerts and --all-failed take); `all` for every record. */
  state?: FailureState | 'all';
  code?: string;
  route?: string;
  /** Only records updated at or after this time. */
  since?: Date;
  limit?: number;
}

export interface FailureList {
  failures: FailureRecord[];
  /** Matching records before the limit was applied. */
  total: number;
}

export const DEFAULT_FAILURE_LIMIT = 500;

export function parseFailureState(value: string | undefined): FailureState | 'all' | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'all' || (FAILURE_STATES as readonly string[]).includes(value))
    return value as FailureState | 'all';
  throw new AdminError('invalid_request', `state must be one of ${[...FAILURE_STATES, 'all'].join(', ')}`);
}

/** Failure records, newest first, filtered by state (default `failed`), code, route and time. */
export async function listFailures(ctx: OperationsContext, query: FailureQuery = {}): Promise<FailureList> {
  const state = query.state ?? 'failed';
  const records = await ctx.state.listFailures({
    ...(state === 'all' ? {} : { state }),
    ...(query.code === undefined ? {} : { code: query.code }),
    ...(query.route === undefined ? {} : { route: query.route }),
    ...(query.since === undefined ? {} : { since: query.since }),
  });
  const sorted = [...records].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  return { failures: sorted.slice(0, query.limit ?? DEFAULT_FAILURE_LIMIT), total: sorted.length };
}
