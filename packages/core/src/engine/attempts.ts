import { setTimeout as sleep } from 'node:timers/promises';
import type { AlertOutcome, FailureAlerter, FailureRun, NotifyOptions } from '../alerts/types.js';
import type { LogzipError } from '../errors.js';
import { type Clock, systemClock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import { type RecordAttemptInput, recordAttempt, resolveRecord } from '../state/failures.js';
import type { StateStore } from '../state/state-store.js';
import type { AttemptRoute, FailureAttempt, FailureRecord } from '../state/types.js';

/**
 * The attempt ledger: the one place that reads a log ID's failure record, adds what happened and
 * writes it back. The Lambda handler, the worker's processor and its drain of the Lambda's
 * on-failure destination all go through here, and each gets back the record it wrote, so none
 * reads it again to decide what to announce.
 */

export interface FailedAttempt extends Omit<RecordAttemptInput, 'error' | 'at'> {
  /** The attempt's error, or how to tell it from the record as it stands (the drain keeps a code the handler knew). */
  error: LogzipError | ((previous: FailureRecord | undefined) => LogzipError);
  /** Default: the clock's now. */
  at?: Date;
  /** The route gave up on the log ID: the record is `failed` whatever the error's retryability. */
  final?: boolean;
  /** The archive was extracted after this attempt (by a later run): the record is written `resolved`. */
  extractedSince?: boolean;
}

/**
 * Appends one failed attempt to the log ID's record (see recordAttempt for the rules) and returns
 * the record written. Throws when the storage fails: the caller decides whether that is fatal.
 */
export async function recordFailedAttempt(
  state: StateStore,
  attempt: FailedAttempt,
  clock: Clock = systemClock,
): Promise<FailureRecord> {
  const previous = await state.getFailure(attempt.logId);
  const { final, extractedSince, error, at, ...input } = attempt;
  let record = recordAttempt(previous, {
    ...input,
    error: typeof error === 'function' ? error(previous) : error,
    at: at ?? clock.now(),
  });
  if (final === true) record = { ...record, state: 'failed' };
  if (extractedSince === true) record = resolveRecord(record, clock.now());
  await state.putFailure(record);
  return record;
}

/**
 * recordFailedAttempt for a caller that must go on when the storage fails (the attempt's own error
 * is what matters to it): the failure to write is logged, and undefined comes back instead of the
 * record.
 */
export async function recordFailedAttemptOrLog(
  state: StateStore,
  attempt: FailedAttempt,
  log: Logger,
  clock: Clock = systemClock,
): Promise<FailureRecord | undefined> {
  try {
    return await recordFailedAttempt(state, attempt, clock);
  } catch (recordError) {
    const code = typeof attempt.error === 'function' ? undefined : attempt.error.code;
    log.error(
      { err: recordError instanceof Error ? recordError.message : String(recordError), code },
      'could not write the failure record',
    );
    return undefined;
  }
}

const RESOLVE_TRIES = 3;
const RESOLVE_BACKOFF_MS = 200;

/**
 * Marks the log ID's open record `resolved` after a successful run; returns the record written, or
 * undefined when there was none open (or it could not be written). Nothing revisits an archive
 * that has its manifest, so a record left open here would stay open for good: a few tries, since
 * the storage may just have failed the previous attempt. Never throws: the extraction is done and
 * its manifest written, a stale record is shown, not fatal.
 */
export async function resolveFailure(
  state: StateStore,
  logId: string,
  log: Logger,
  clock: Clock = systemClock,
): Promise<FailureRecord | undefined> {
  for (let attempt = 1; attempt <= RESOLVE_TRIES; attempt++) {
    try {
      const previous = await state.getFailure(logId);
      if (previous === undefined || previous.state === 'resolved') return undefined;
      const record = resolveRecord(previous, clock.now());
      await state.putFailure(record);
      log.info({ previousCode: previous.code }, 'failure record resolved');
      return record;
    } catch (error) {
      log.warn(
        { err: error instanceof Error ? error.message : String(error), attempt },
        'could not mark the failure record resolved',
      );
      if (attempt < RESOLVE_TRIES) await sleep(RESOLVE_BACKOFF_MS * attempt);
    }
  }
  return undefined;
}

/** The attempts a route already made for one request (Lambda keeps its awsRequestId across retries). */
export function attemptsOfRequest(
  record: FailureRecord | undefined,
  route: AttemptRoute,
  requestId: string,
): FailureAttempt[] {
  return (record?.attempts ?? []).filter((a) => a.route === route && a.requestId === requestId);
}

/**
 * Whether the record is a final failure of this run: `failed`, and its newest attempt is the run's
 * (not another route's run written since, nor a later job).
 */
export function isFinalFailureOf(record: FailureRecord | undefined, run: FailureRun): boolean {
  if (record?.state !== 'failed') return false;
  const newest = record.attempts.at(-1);
  if (run.requestId !== undefined && newest?.requestId !== run.requestId) return false;
  if (run.jobId !== undefined && newest?.jobId !== run.jobId) return false;
  return true;
}

/**
 * The alert decision: announces the record when it is a final failure of this run and an alerter
 * is configured. Never throws (the alerter does not).
 */
export async function alertIfFinal(
  alerter: FailureAlerter | undefined,
  record: FailureRecord | undefined,
  run: FailureRun,
  options?: NotifyOptions,
): Promise<AlertOutcome | undefined> {
  if (alerter === undefined || !alerter.enabled || record === undefined) return undefined;
  if (!isFinalFailureOf(record, run)) return undefined;
  return alerter.notifyFailure(record, run, options);
}
