import type { ActivityView } from '@logzip/core/state';
import { DEFAULT_HEALTH_THRESHOLDS } from '../config.js';
import type { OperationsContext } from './context.js';
import { describeFailure } from './failure-text.js';

/** When the health strip turns a fact red. */
export interface HealthThresholds {
  /** A worker whose last heartbeat is older than this is stale (LOGZIP_HEALTH_HEARTBEAT_STALE). */
  heartbeatStaleMs: number;
  /** A job waiting longer than this for a worker is stale (LOGZIP_HEALTH_WAITING_STALE). */
  waitingStaleMs: number;
  /** A last sweep older than this is stale (three sweep intervals, LOGZIP_SWEEP_INTERVAL). */
  sweepStaleMs: number;
}

export interface WorkerHealth {
  name: string;
  host: string;
  pid: number;
  lastBeat: string;
  ageMs: number;
  activeJobs: number;
  concurrency: number;
  stale: boolean;
}

/** Ages are milliseconds at `at`; `stale` is what the strip shows red. */
export interface HealthReport {
  at: string;
  /** No fact is stale (and every one could be read). */
  ok: boolean;
  /** One line per red fact, in the order the strip shows them. */
  problems: string[];
  thresholds: HealthThresholds;
  /** null: the heartbeats could not be read. */
  workers: WorkerHealth[] | null;
  /** null: the queue could not be read. */
  oldestWaiting: { jobId: string | null; since: string | null; ageMs: number | null; stale: boolean } | null;
  lastSweep: { at: string | null; ageMs: number | null; stale: boolean };
  /** The last successful extraction per route (null: none recorded, or no activity counters). */
  lastExtraction: { lambda: string | null; queue: string | null } | null;
  /** Per-route activity (the dashboard's throughput and chart); null without the Redis index. */
  activity: ActivityView | null;
}

const ageOf = (iso: string | null | undefined, now: number) =>
  iso === null || iso === undefined || Number.isNaN(Date.parse(iso)) ? null : now - Date.parse(iso);

function seconds(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}

/**
 * The facts that tell a stuck system from a quiet one: the workers' heartbeats (a frozen worker
 * keeps its Redis connection, so only its beat shows it), how long the oldest job has waited, the
 * last sweep, the last extraction per route. Each part degrades on its own.
 */
export async function getHealth(ctx: OperationsContext): Promise<HealthReport> {
  const thresholds = ctx.settings.health ?? DEFAULT_HEALTH_THRESHOLDS;
  const nowDate = ctx.clock.now();
  const now = nowDate.getTime();
  const [beats, oldest, backlog, activity] = await Promise.all([
    ctx.heartbeats === undefined ? Promise.resolve(null) : ctx.heartbeats().catch(() => null),
    ctx.queue.oldestWaiting().then(
      (job) => ({ job }),
      (error: unknown) => ({ error: describeFailure(error) }),
    ),
    (ctx.backlog?.() ?? Promise.resolve(undefined)).catch(() => undefined),
    (ctx.index.activity?.(nowDate) ?? Promise.resolve(null)).catch(() => null),
  ]);
  const problems: string[] = [];

  const workers =
    beats === null
      ? null
      : beats.map((beat) => {
          const ageMs = Math.max(0, ageOf(beat.at, now) ?? Number.POSITIVE_INFINITY);
          return {
            name: beat.name,
            host: beat.host,
            pid: beat.pid,
            lastBeat: beat.at,
            ageMs,
            activeJobs: beat.activeJobs,
            concurrency: beat.concurrency,
            stale: ageMs > thresholds.heartbeatStaleMs,
          };
        });
  if (workers === null) problems.push('the workers cannot be seen (no heartbeats readable)');
  else if (workers.length === 0) problems.push('no worker is connected (no heartbeat)');
  else {
    for (const w of workers.filter((w) => w.stale))
      problems.push(`worker ${w.name}: last heartbeat ${seconds(w.ageMs)} ago (frozen or overloaded?)`);
  }

  let oldestWaiting: HealthReport['oldestWaiting'] = null;
  if ('error' in oldest) problems.push(`the queue cannot be read: ${oldest.error}`);
  else {
    const ageMs = oldest.job === undefined ? null : Math.max(0, ageOf(oldest.job.createdAt, now) ?? 0);
    const stale = ageMs !== null && ageMs > thresholds.waitingStaleMs;
    oldestWaiting = {
      jobId: oldest.job?.id ?? null,
      since: oldest.job?.createdAt ?? null,
      ageMs,
      stale,
    };
    if (stale && ageMs !== null)
      problems.push(`the oldest waiting job has waited ${seconds(ageMs)}: no worker takes jobs`);
  }

  const sweepAge = ageOf(backlog?.at, now);
  const lastSweep = {
    at: backlog?.at ?? null,
    ageMs: sweepAge,
    stale: sweepAge === null || sweepAge > thresholds.sweepStaleMs,
  };
  if (lastSweep.stale)
    problems.push(sweepAge === null ? 'no sweep has run yet' : `the last sweep ran ${seconds(sweepAge)} ago`);

  return {
    at: nowDate.toISOString(),
    ok: problems.length === 0,
    problems,
    thresholds,
    workers,
    oldestWaiting,
    lastSweep,
    lastExtraction: activity === null ? null : activity.lastExtracted,
    activity,
  };
}
