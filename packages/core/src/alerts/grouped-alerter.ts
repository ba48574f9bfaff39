import type { Clock } from '../ports/clock.js';
import { systemClock } from '../ports/clock.js';
import type { FailureGroups } from '../ports/failure-groups.js';
import { fingerprintFailure } from '../state/fingerprint.js';
import type { FailureRecord } from '../state/types.js';
import type { DigestGate } from './group-digest.js';
import type { FailureAlerter } from './types.js';

export interface GroupedAlerterOptions {
  gate: DigestGate;
  /** Tells a group's first failed member (new or reopened group: alert at once). */
  groups: Pick<FailureGroups, 'get'>;
  /** At most one digest per group per interval (`LOGZIP_ALERT_DIGEST_INTERVAL`). */
  intervalMs: number;
  /** `LOGZIP_PUBLIC_URL`: the digest links to the group. */
  publicUrl: string;
  clock?: Clock;
}

/**
 * Alerts by failure group instead of by failure: the first failure of a new (or reopened) group
 * goes out at once with its stack, as before; later failures of the open group are counted, and at
 * most once per interval a digest goes out: the latest failure, with how many failed since the
 * last message and a link to the group. An incident of 10,000 failures of one cause over ten
 * minutes is then a handful of messages. With an interval of 0 every failure alerts (the old way).
 * `flushDue`, on a timer (startDigestFlush), sends a due digest when no later failure comes to.
 */
export interface GroupedAlerter extends FailureAlerter {
  /**
   * Sends the digests that are due although no new failure arrived (the last failures of an
   * incident would otherwise wait for the next one); returns how many went out. Never throws.
   */
  flushDue(): Promise<number>;
}

/** How many due digests one flush claims at most (the rest go out on the next tick). */
const FLUSH_BATCH = 100;

export function createGroupedAlerter(inner: FailureAlerter, options: GroupedAlerterOptions): GroupedAlerter {
  const clock = options.clock ?? systemClock;
  const digestOf = (record: FailureRecord, fingerprint: string, count: number, since: string) => {
    const link = `${options.publicUrl.replace(/\/+$/, '')}/api/failures/groups/${fingerprint}`;
    return {
      ...record,
      message: `${count} failures of this cause since ${since} (group ${fingerprint}: ${link}). Latest: ${record.message}`,
    };
  };
  return {
    async flushDue() {
      if (!inner.enabled || options.intervalMs === 0 || options.gate.takeDue === undefined) return 0;
      let due: Awaited<ReturnType<NonNullable<DigestGate['takeDue']>>>;
      try {
        due = await options.gate.takeDue({ now: clock.now(), limit: FLUSH_BATCH });
      } catch {
        // Redis away: the digests stay due for the next tick.
        return 0;
      }
      for (const d of due)
        await inner.notifyFailure(digestOf(d.record, d.fingerprint, d.count, d.since), d.run);
      return due.length;
    },
    get enabled() {
      return inner.enabled;
    },
    async notifyFailure(record, run, notify) {
      if (!inner.enabled || options.intervalMs === 0 || record.state !== 'failed') {
        return inner.notifyFailure(record, run, notify);
      }
      const { fingerprint } = fingerprintFailure(record);
      let decision: Awaited<ReturnType<DigestGate['admit']>>;
      try {
        const group = await options.groups.get(fingerprint);
        decision = await options.gate.admit({
          fingerprint,
          change: group === undefined || group.count <= 1 ? 'reopened' : 'open',
          now: clock.now(),
          intervalMs: options.intervalMs,
          latest: { record, run },
        });
      } catch {
        // Without Redis nobody can count: announcing every failure beats announcing none.
        return inner.notifyFailure(record, run, notify);
      }
      if (decision.send === 'first') return inner.notifyFailure(record, run, notify);
      if (decision.send === 'none') return { status: 'skipped', reason: 'digested' };
      return inner.notifyFailure(digestOf(record, fingerprint, decision.count, decision.since), run, notify);
    },
  };
}

/**
 * Calls `flushDue` every so often (a quarter of the interval, between 100 ms and 30 s), so the
 * failures counted at the end of an incident go out about one interval after the last message.
 */
export function startDigestFlush(alerter: GroupedAlerter, intervalMs: number): { stop(): Promise<void> } {
  if (intervalMs <= 0) return { stop: async () => {} };
  const tick = Math.min(Math.max(Math.round(intervalMs / 4), 100), 30_000);
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    running ??= alerter.flushDue().finally(() => {
      running = undefined;
    });
  }, tick);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
