import type { GroupChange } from '../ports/failure-groups.js';
import type { FailureRecord } from '../state/types.js';
import type { FailureRun } from './types.js';

/** What to send for one failure of a group. */
export type DigestDecision =
  /** The group's first failure (new, or reopened after it emptied): alert at once, with the stack. */
  | { send: 'first' }
  /** The interval since the last message has passed: one digest with how many failed since then. */
  | { send: 'digest'; count: number; since: string }
  /** Counted into the next digest. */
  | { send: 'none' };

/**
 * Per group, when it last alerted and how many failures wait for the next digest. Implementations
 * decide atomically, so two workers never both send the first alert or one digest twice.
 */
export interface DigestGate {
  admit(input: {
    fingerprint: string;
    change: GroupChange;
    now: Date;
    intervalMs: number;
    /** The failure being counted, kept as the group's latest for a digest the timer sends. */
    latest?: PendingFailure;
  }): Promise<DigestDecision>;
  /**
   * Claims the digests that are due (their interval passed with failures waiting) even though no
   * new failure arrived: each once across processes, with the count and the latest failure.
   */
  takeDue?(input: { now: Date; limit: number }): Promise<DueDigest[]>;
}

/** The latest failure counted into a group's next digest. */
export interface PendingFailure {
  record: FailureRecord;
  run: FailureRun;
}

/** A digest the timer sends: how many failed since `since`, and the latest of them. */
export interface DueDigest extends PendingFailure {
  fingerprint: string;
  count: number;
  since: string;
}

/**
 * The decision itself (pure), for one group's stored state. A group that is new or reopened
 * starts over; otherwise the failure is counted, and once `intervalMs` has passed since the last
 * message the count goes out as one digest. An incident of N failures over T therefore sends at
 * most 1 + T / interval messages, whatever N is.
 */
export function decideDigest(
  stored: { sentAt: number; pending: number } | undefined,
  input: { change: GroupChange; nowMs: number; intervalMs: number },
): { decision: DigestDecision; next: { sentAt: number; pending: number } } {
  if (stored === undefined || input.change === 'new' || input.change === 'reopened') {
    return { decision: { send: 'first' }, next: { sentAt: input.nowMs, pending: 0 } };
  }
  const pending = stored.pending + 1;
  if (input.nowMs - stored.sentAt >= input.intervalMs) {
    return {
      decision: { send: 'digest', count: pending, since: new Date(stored.sentAt).toISOString() },
      next: { sentAt: input.nowMs, pending: 0 },
    };
  }
  return { decision: { send: 'none' }, next: { sentAt: stored.sentAt, pending } };
}
