import type { FailureSummary, IndexCounts } from '@logzip/core/state';
import type { BacklogView, OperationsContext } from './context.js';
import { describeFailure } from './failure-text.js';
import { countFailures, listFailures } from './failures.js';
import { getRouteStatus, type RouteStatus } from './route.js';

/** What the dashboard shows: each part degrades on its own when its dependency is down. */
export interface Overview {
  route: RouteStatus;
  queue: { counts: Record<string, number> | null; error: string | null };
  throughput: { sinceMinutes: number; completed: number; failed: number } | null;
  backlog: BacklogView | null;
  failures: { recent: FailureSummary[]; total: number } | null;
  /** Failure counts by state and code (from the index); null while it is unavailable. */
  failureCounts: IndexCounts | null;
  failuresError: string | null;
}

const THROUGHPUT_WINDOW_MIN = 60;

export async function getOverview(ctx: OperationsContext): Promise<Overview> {
  const since = new Date(ctx.clock.now().getTime() - THROUGHPUT_WINDOW_MIN * 60_000);
  const [route, counts, throughput, backlog, failures, failureCounts] = await Promise.all([
    getRouteStatus(ctx),
    ctx.queue.counts().then(
      (value) => ({ counts: value, error: null }),
      (error: unknown) => ({ counts: null, error: describeFailure(error) }),
    ),
    ctx.queue.throughput(since).catch(() => null),
    (ctx.backlog?.() ?? Promise.resolve(undefined)).catch(() => undefined),
    listFailures(ctx, { state: 'failed', limit: 10 }).then(
      (list) => ({ list, error: null }),
      (error: unknown) => ({ list: null, error: describeFailure(error) }),
    ),
    countFailures(ctx).catch(() => null),
  ]);
  return {
    route,
    queue: counts,
    throughput: throughput === null ? null : { sinceMinutes: THROUGHPUT_WINDOW_MIN, ...throughput },
    backlog: backlog ?? null,
    failures: failures.list === null ? null : { recent: failures.list.failures, total: failures.list.total },
    failuresError: failures.error,
    failureCounts,
  };
}
