import { type LogzipError, toLogzipError } from '../errors.js';
import { systemClock } from '../ports/clock.js';
import { type Logger, silentLogger } from '../ports/logger.js';
import type { AttemptRoute, FailureRecord, RunKind } from '../state/types.js';
import { recordFailedAttemptOrLog, resolveFailure } from './attempts.js';
import { extractArchive } from './extract.js';
import type { ExtractDeps, ExtractOptions, ExtractResult } from './types.js';

export interface AttemptContext {
  route: AttemptRoute;
  /** 1-based number of this attempt within its run. */
  attempt: number;
  /** The run it belongs to (default `upload`). */
  run?: RunKind;
  /** Tells apart runs that share a job id (runIdOfJob). */
  runId?: string;
  /** Attempts the route will make in all; a retryable failure before the last one is `retrying`. */
  maxAttempts: number;
  requestId?: string;
  jobId?: string;
}

export type RecordedOutcome =
  | { ok: true; result: ExtractResult }
  | { ok: false; error: LogzipError; record: FailureRecord | undefined };

/**
 * Runs one extraction attempt and keeps the log ID's failure record truthful: every failed
 * attempt is appended (`retrying` while retries remain, else `failed`), a success marks an open
 * record `resolved`. Both routes and the CLI go through here so the record means the same thing
 * everywhere. Never throws for extraction errors: the caller decides how its platform retries.
 */
export async function extractAndRecord(
  deps: ExtractDeps,
  options: ExtractOptions,
  context: AttemptContext,
): Promise<RecordedOutcome> {
  const clock = deps.clock ?? systemClock;
  const log = (deps.logger ?? silentLogger).child({ logId: options.logId });
  let result: ExtractResult;
  try {
    result = await extractArchive(deps, { ...options, route: context.route, requestId: context.requestId });
  } catch (thrown) {
    const error = toLogzipError(thrown);
    const record = await recordOrLog(deps, options, context, error, log);
    log.warn(
      {
        code: error.code,
        retryable: error.retryable,
        entry: error.entry,
        state: record?.state,
        attempt: context.attempt,
      },
      'extraction attempt failed',
    );
    return { ok: false, error, record };
  }
  await resolveFailure(deps.state, options.logId, log, clock);
  return { ok: true, result };
}

/**
 * Only a record that was written is returned: callers fall back to writing it themselves (the
 * worker's `failed` event) when this one could not be stored.
 */
function recordOrLog(
  deps: ExtractDeps,
  options: ExtractOptions,
  context: AttemptContext,
  error: LogzipError,
  log: Logger,
): Promise<FailureRecord | undefined> {
  return recordFailedAttemptOrLog(
    deps.state,
    {
      logId: options.logId,
      source: options.source,
      route: context.route,
      error,
      attempt: context.attempt,
      maxAttempts: context.maxAttempts,
      requestId: context.requestId,
      jobId: context.jobId,
      run: context.run,
      runId: context.runId,
    },
    log,
    deps.clock ?? systemClock,
  );
}
