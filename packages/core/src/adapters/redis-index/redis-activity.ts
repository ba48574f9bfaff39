import type { Redis } from 'ioredis';
import type { ActivityView, ExtractionActivity } from '../../ports/failure-index.js';
import type { IndexKeys } from './keys.js';

/** Hourly counters are kept two days (the chart shows 24 h); minute counters two hours (the last 60 min). */
const HOUR_TTL_S = 48 * 3600;
const MINUTE_TTL_S = 2 * 3600;
export const ACTIVITY_HOURS = 24;
export const ACTIVITY_WINDOW_MINUTES = 60;

const hourOf = (at: Date) => at.toISOString().slice(0, 13);
const minuteOf = (at: Date) => at.toISOString().slice(0, 16);

/**
 * Counts one finished extraction (`extracted`: its manifest was written) or final failure
 * (`failed`: its record was written failed) per route, in the current hour and minute, and keeps
 * the time of the last one per route. One round trip; the counters expire on their own.
 */
export async function recordActivity(
  redis: Redis,
  keys: IndexKeys,
  event: ExtractionActivity,
): Promise<void> {
  const at = new Date(Number.isNaN(Date.parse(event.at)) ? Date.now() : Date.parse(event.at));
  const field = `${event.kind}:${event.route}`;
  const hour = keys.activityHour(hourOf(at));
  const minute = keys.activityMinute(minuteOf(at));
  await redis
    .multi()
    .hset(keys.activityLast, field, at.toISOString())
    .hincrby(hour, field, 1)
    .expire(hour, HOUR_TTL_S)
    .hincrby(minute, field, 1)
    .expire(minute, MINUTE_TTL_S)
    .exec();
}

type Counts = ActivityView['hours'][number]['extracted'];

function countsOf(hash: Record<string, string>, kind: 'extracted' | 'failed'): Counts {
  return {
    lambda: Number(hash[`${kind}:lambda`] ?? 0),
    queue: Number(hash[`${kind}:queue`] ?? 0),
  };
}

/** The last extraction and failure per route, the last 60 minutes' totals and the last 24 hours' counters (oldest first). */
export async function readActivity(redis: Redis, keys: IndexKeys, now: Date): Promise<ActivityView> {
  const pipeline = redis.pipeline().hgetall(keys.activityLast);
  const hours: string[] = [];
  for (let i = ACTIVITY_HOURS - 1; i >= 0; i--) hours.push(hourOf(new Date(now.getTime() - i * 3_600_000)));
  for (const hour of hours) pipeline.hgetall(keys.activityHour(hour));
  for (let i = 0; i < ACTIVITY_WINDOW_MINUTES; i++)
    pipeline.hgetall(keys.activityMinute(minuteOf(new Date(now.getTime() - i * 60_000))));
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([error]) => error !== null)?.[0];
  if (failed) throw failed;
  const hashes = results.map(([, value]) => (value ?? {}) as Record<string, string>);
  const last = hashes[0] ?? {};
  const lastOf = (kind: string, route: string) => last[`${kind}:${route}`] ?? null;
  const window = { extracted: { lambda: 0, queue: 0 }, failed: { lambda: 0, queue: 0 } };
  for (const hash of hashes.slice(1 + hours.length)) {
    for (const kind of ['extracted', 'failed'] as const) {
      const counts = countsOf(hash, kind);
      window[kind].lambda += counts.lambda;
      window[kind].queue += counts.queue;
    }
  }
  return {
    lastExtracted: { lambda: lastOf('extracted', 'lambda'), queue: lastOf('extracted', 'queue') },
    lastFailed: { lambda: lastOf('failed', 'lambda'), queue: lastOf('failed', 'queue') },
    window: { minutes: ACTIVITY_WINDOW_MINUTES, ...window },
    hours: hours.map((hour, i) => ({
      hour: `${hour}:00:00.000Z`,
      extracted: countsOf(hashes[1 + i] ?? {}, 'extracted'),
      failed: countsOf(hashes[1 + i] ?? {}, 'failed'),
    })),
  };
}
