import type { LogzipError } from '../errors.js';
import type { AttemptRoute, FailureAttempt, FailureRecord, RunKind } from './types.js';

/** Attempts kept per record: the newest ones (a log ID retried for months stays small). */
export const MAX_ATTEMPTS_KEPT = 50;
/** A stack (with its causes) is cut to this many characters. */
export const MAX_STACK_CHARS = 16 * 1024;

export interface RecordAttemptInput {
  logId: string;
  source: { bucket: string; key: string };
  route: AttemptRoute;
  error: LogzipError;
  /** 1-based number of this attempt within its run (its number across runs is the ledger's). */
  attempt: number;
  /** The run it belongs to (default `upload`). */
  run?: RunKind | undefined;
  /** Tells apart runs that share a job id: `<jobId>@<job created ms>` (runIdOfJob). */
  runId?: string | undefined;
  /** Attempts the route makes in all (Lambda: 3; BullMQ: the job's `attempts`). */
  maxAttempts: number;
  /** Lambda awsRequestId (the same across the retries of one event). */
  requestId?: string | undefined;
  /** BullMQ job id. */
  jobId?: string | undefined;
  at: Date;
}

/**
 * The failure record after one more failed attempt. Pure: the caller reads the previous record and
 * writes the result.
 *
 * - `state` is `retrying` while the error is retryable and attempts remain (`attempt < maxAttempts`),
 *   else `failed`. A new failure reopens a `resolved` record (its attempts are kept, `resolvedAt` goes).
 * - The attempt is appended with the next number across runs (`attempt`; its number within its run
 *   is `runAttempt`, its run `run`), so a re-enqueue or a sweep adds to the history instead of
 *   starting it over. The same attempt reported twice (same route, request/job/run id and number
 *   within the run, e.g. by the handler and by the on-failure queue drain) replaces the earlier
 *   copy and keeps its number. At most MAX_ATTEMPTS_KEPT attempts are kept, the newest.
 * - The record's code, message, entry and stack are the latest error's; the stack includes its
 *   `cause` chain, so a wrapped SDK error shows where it came from.
 *
 * @example
 * ```ts
 * const record = recordAttempt(await state.getFailure(logId), {
 *   logId, source: { bucket, key }, route: 'lambda', error, attempt: 1, maxAttempts: 3,
 *   requestId: context.awsRequestId, at: new Date(),
 * });
 * await state.putFailure(record);
 * ```
 */
export function recordAttempt(previous: FailureRecord | undefined, input: RecordAttemptInput): FailureRecord {
  const at = input.at.toISOString();
  const attempt: FailureAttempt = {
    at,
    route: input.route,
    ...(input.requestId === undefined ? {} : { requestId: input.requestId }),
    ...(input.jobId === undefined ? {} : { jobId: input.jobId }),
    attempt: 0,
    run: input.run ?? 'upload',
    runAttempt: input.attempt,
    ...(input.runId === undefined ? {} : { runId: input.runId }),
    code: input.error.code,
    message: input.error.message,
  };
  const before = previous === undefined ? [] : upgradeFailureRecord(previous).attempts;
  const copy = before.find((a) => sameAttempt(a, attempt));
  const earlier = before.filter((a) => a !== copy);
  attempt.attempt = copy?.attempt ?? Math.max(0, ...before.map((a) => a.attempt)) + 1;
  const attempts = [...earlier, attempt].slice(-MAX_ATTEMPTS_KEPT);
  const stack = describeStack(input.error);
  return {
    version: 1,
    logId: input.logId,
    state: input.error.retryable && input.attempt < input.maxAttempts ? 'retrying' : 'failed',
    source: { bucket: input.source.bucket, key: input.source.key },
    route: input.route,
    code: input.error.code,
    message: input.error.message,
    ...(stack === undefined ? {} : { stack }),
    ...(input.error.entry === undefined ? {} : { entry: input.error.entry }),
    attempts,
    createdAt: previous?.createdAt ?? at,
    updatedAt: at,
  };
}

/**
 * The record after a successful run: `resolved`, with `resolvedAt`. Everything else (the last error,
 * every attempt) is kept for the history.
 */
export function resolveRecord(previous: FailureRecord, at: Date): FailureRecord {
  const when = at.toISOString();
  return { ...previous, state: 'resolved', updatedAt: when, resolvedAt: when };
}

/**
 * One attempt reported twice: only when it carries an id, so anonymous attempts are never merged,
 * and only within one run (a re-enqueued job reuses its job id and starts again at 1).
 */
function sameAttempt(a: FailureAttempt, b: FailureAttempt): boolean {
  if (a.requestId === undefined && a.jobId === undefined) return false;
  return (
    a.route === b.route &&
    a.runAttempt === b.runAttempt &&
    a.requestId === b.requestId &&
    a.jobId === b.jobId &&
    a.runId === b.runId
  );
}

/** The run id of a BullMQ job's attempts: its id alone repeats across re-enqueues, its creation time does not. */
export function runIdOfJob(jobId: string | undefined, createdAtMs: number | undefined): string | undefined {
  if (jobId === undefined || createdAtMs === undefined) return undefined;
  return `${jobId}@${createdAtMs}`;
}

/**
 * A record as this version writes it. Records written before runs were kept number attempts within
 * their run only (`attempt`) and name no run: each such attempt reads as an `upload` attempt with
 * that number within its run, numbered across runs by its place in the list. Pure; a record that
 * needs nothing comes back as it is.
 */
export function upgradeFailureRecord(record: FailureRecord): FailureRecord {
  if (record.attempts.every((a) => a.run !== undefined && typeof a.runAttempt === 'number')) return record;
  let last = 0;
  const attempts = record.attempts.map((a) => {
    if (a.run !== undefined && typeof a.runAttempt === 'number') {
      last = Math.max(last, a.attempt);
      return a;
    }
    last += 1;
    return { ...a, attempt: last, run: 'upload' as const, runAttempt: a.attempt };
  });
  return { ...record, attempts };
}

/** The error's stack followed by its causes' ("Caused by: ..."), cut to MAX_STACK_CHARS. */
function describeStack(error: Error): string | undefined {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  let current: unknown = error;
  let previousText: string | undefined;
  while (current instanceof Error && !seen.has(current) && seen.size < 5) {
    seen.add(current);
    const text = current.stack ?? `${current.name}: ${current.message}`;
    // toLogzipError copies the wrapped error's stack: do not print it twice.
    if (text !== previousText) parts.push(parts.length === 0 ? text : `Caused by: ${text}`);
    previousText = text;
    current = current.cause;
  }
  if (parts.length === 0) return undefined;
  const full = parts.join('\n');
  return full.length > MAX_STACK_CHARS ? `${full.slice(0, MAX_STACK_CHARS)}\n... (cut)` : full;
}
