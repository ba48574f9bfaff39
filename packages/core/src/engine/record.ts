import { setTimeout as sleep } from 'node:timers/promises';
import { type LogzipError, toLogzipError } from '../errors.js';
import { systemClock } from '../ports/clock.js';
import { silentLogger } from '../ports/logger.js';
import { recordAttempt, resolveRecord } from '../state/failures.js';
import type { AttemptRoute, FailureRecord } from '../state/types.js';
import { extractArchive } from './extract.js';
import type { ExtractDeps, ExtractOptions, ExtractResult } from './types.js';

const RESOLVE_TRIES = 3;
const RESOLVE_BACKOFF_MS = 200;

export interface AttemptContext {
  route: AttemptRoute;
  /** 1-based number of this attempt. */
  attempt: number;
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
  try {
    const result = await extractArchive(deps, {
      ...options,
      route: context.route,
      requestId: context.requestId,
    });
    // Nothing revisits an archive that has its manifest, so a record left open here would stay
    // open for good: a few tries, since the storage may just have failed the previous attempt.
    for (let attempt = 1; attempt <= RESOLVE_TRIES; attempt++) {
      try {
        const previous = await deps.state.getFailure(options.logId);
        if (previous !== undefined && previous.state !== 'resolved') {
          await deps.state.putFailure(resolveRecord(previous, clock.now()));
          log.info({ previousCode: previous.code }, 'failure record resolved');
        }
        break;
      } catch (error) {
        // The extraction is done and its manifest written; a stale record is shown, not fatal.
        log.warn(
          { err: toLogzipError(error).message, attempt },
          'could not mark the failure record resolved',
        );
        if (attempt < RESOLVE_TRIES) await sleep(RESOLVE_BACKOFF_MS * attempt);
      }
    }
    return { ok: true, result };
  } catch (thrown) {
    const error = toLogzipError(thrown);
    // Only a record that was written is returned: callers fall back to writing it themselves
    // (the worker's `failed` event) when this one could not be stored.
    let record: FailureRecord | undefined;
    try {
      const previous = await deps.state.getFailure(options.logId);
      const next = recordAttempt(previous, {
        logId: options.logId,
        source: options.source,
        route: context.route,
        error,
        attempt: context.attempt,
        maxAttempts: context.maxAttempts,
        at: clock.now(),
        ...(context.requestId === undefined ? {} : { requestId: context.requestId }),
        ...(context.jobId === undefined ? {} : { jobId: context.jobId }),
      });
      await deps.state.putFailure(next);
      record = next;
    } catch (recordError) {
      log.error(
        { err: toLogzipError(recordError).message, code: error.code },
        'could not write the failure record',
      );
    }
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
}
