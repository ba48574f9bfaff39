import type { Clock } from '../ports/clock.js';
import { systemClock } from '../ports/clock.js';
import type { FailureGroups } from '../ports/failure-groups.js';
import { fingerprintFailure } from '../state/fingerprint.js';
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
 */
export function createGroupedAlerter(inner: FailureAlerter, options: GroupedAlerterOptions): FailureAlerter {
  const clock = options.clock ?? systemClock;
  return {
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
        });
      } catch {
        // Without Redis nobody can count: announcing every failure beats announcing none.
        return inner.notifyFailure(record, run, notify);
      }
      if (decision.send === 'first') return inner.notifyFailure(record, run, notify);
      if (decision.send === 'none') return { status: 'skipped', reason: 'digested' };
      const link = `${options.publicUrl.replace(/\/+$/, '')}/api/failures/groups/${fingerprint}`;
      const digest = {
        ...record,
        message: `${decision.count} failures of this cause since ${decision.since} (group ${fingerprint}: ${link}). Latest: ${record.message}`,
      };
      return inner.notifyFailure(digest, run, notify);
    },
  };
}
