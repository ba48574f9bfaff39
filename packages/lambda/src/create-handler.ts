import {
  type Clock,
  type ErrorCode,
  extractAndRecord,
  type FailureAlerter,
  type FailureRecord,
  type Logger,
  LogzipError,
  type ObjectStore,
  parseLogId,
  type QueueProducer,
  recordAttempt,
  type StateStore,
  systemClock,
  toLogzipError,
} from '@logzip/core';
import { type HandoffReason, planBudget } from './budget.js';
import type { LambdaConfig } from './config.js';
import { type ArchiveWork, parseInvocationEvent, type SkipWork } from './event.js';
import { isSqsBatchEvent, processSqsBatch, type SqsBatchEvent, type SqsMessage } from './sqs-batch.js';

/** What the handler needs; the module scope builds it once per container, tests inject their own. */
export interface HandlerDeps {
  config: LambdaConfig;
  /** Reads archives and writes extracted files (one S3 client). */
  store: ObjectStore;
  /** Where extracted files go, when not `store`. */
  output?: ObjectStore;
  state: StateStore;
  /** The queue that takes archives too large or slow for a Lambda run; undefined without REDIS_URL. */
  producer?: QueueProducer;
  logger: Logger;
  clock?: Clock;
  /** How long one hand-off to the queue may take before it counts as failed (default 10 s). */
  handoffTimeoutMs?: number;
  /** Announces archives that failed for good (createAlerterFromConfig); none when alerts are not configured. */
  alerter?: FailureAlerter;
}

/** The part of Lambda's context the handler uses (the real `Context` fits). */
export interface InvocationContext {
  awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

export type RecordOutcome =
  | 'extracted'
  | 'already_extracted'
  | 'handed_off'
  | 'failed'
  | 'retrying'
  | 'rejected'
  | 'skipped';

/** What happened to one record of the event. */
export interface RecordSummary {
  outcome: RecordOutcome;
  logId?: string;
  bucket?: string;
  key?: string;
  /** Why a record was skipped or handed off. */
  reason?: string;
  code?: ErrorCode;
  message?: string;
  attempt?: number;
  jobId?: string;
  entries?: number;
  bytes?: number;
  durationMs?: number;
}

export interface InvocationSummary {
  awsRequestId: string;
  results: RecordSummary[];
  /** An SQS batch's partial response (buffered mode): the messages that return to the queue. */
  batchItemFailures?: Array<{ itemIdentifier: string }>;
}

export type LogzipHandler = (event: unknown, context: InvocationContext) => Promise<InvocationSummary>;

const DEFAULT_HANDOFF_TIMEOUT_MS = 10_000;

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LogzipError('storage_unavailable', message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function ids(work: ArchiveWork | SkipWork): Record<string, string> {
  const bound: Record<string, string> = {};
  if (work.s3RequestId !== undefined) bound['s3RequestId'] = work.s3RequestId;
  if (work.s3Id2 !== undefined) bound['s3Id2'] = work.s3Id2;
  return bound;
}

/** The log ID a work item names, for log lines only (a key without one is dealt with later). */
function logIdOf(work: ArchiveWork | SkipWork, pattern?: RegExp): { logId?: string } {
  if (work.kind === 'skip') return {};
  if (work.logId !== undefined) return { logId: work.logId };
  if (pattern === undefined) return {};
  try {
    return { logId: parseLogId(work.key, pattern) };
  } catch {
    return {};
  }
}

/**
 * Builds the Lambda handler: S3 `ObjectCreated` records (or a re-run payload) in, one extraction
 * attempt per archive through the core engine, a summary per record out.
 *
 * Retry semantics follow Lambda's asynchronous invocation: a retryable failure is thrown so
 * Lambda retries the event (its `awsRequestId` stays the same, which is how attempts are
 * counted); a permanent one is recorded `failed` and the invocation returns normally. Archives
 * that cannot finish in this invocation go to the queue instead of timing out.
 *
 * @example
 * export const handler = createHandler({ config, store, state, producer, logger });
 */
export function createHandler(deps: HandlerDeps): LogzipHandler {
  const { config } = deps;
  const clock = deps.clock ?? systemClock;
  const output = deps.output ?? deps.store;
  const handoffTimeoutMs = deps.handoffTimeoutMs ?? DEFAULT_HANDOFF_TIMEOUT_MS;

  /** Writes a failed attempt that did not come from a run (a hand-off that could not happen). */
  async function recordFailure(
    work: ArchiveWork,
    logId: string,
    error: LogzipError,
    attempt: number,
    awsRequestId: string,
    log: Logger,
  ): Promise<FailureRecord | undefined> {
    try {
      const previous = await deps.state.getFailure(logId);
      const record = recordAttempt(previous, {
        logId,
        source: { bucket: work.bucket, key: work.key },
        route: 'lambda',
        error,
        attempt,
        maxAttempts: config.lambda.maxAttempts,
        at: clock.now(),
        requestId: awsRequestId,
      });
      await deps.state.putFailure(record);
      return record;
    } catch (recordError) {
      log.error(
        { err: toLogzipError(recordError).message, code: error.code },
        'could not write the failure record',
      );
      return undefined;
    }
  }

  async function isCurrent(work: ArchiveWork, logId: string, size: number, etag: string | undefined) {
    const manifest = await deps.state.getManifest(logId);
    if (manifest === undefined) return false;
    const source = manifest.source;
    return (
      source.bucket === work.bucket &&
      source.key === work.key &&
      source.size === size &&
      (etag === undefined || source.etag === etag)
    );
  }

  /** Puts the archive on the queue, or records `too_large_for_lambda` when there is no queue. */
  async function handOff(
    work: ArchiveWork,
    logId: string,
    reason: HandoffReason,
    detail: string,
    attempt: number,
    awsRequestId: string,
    log: Logger,
  ): Promise<{ summary: RecordSummary; error?: LogzipError }> {
    const base = { logId, bucket: work.bucket, key: work.key, attempt };
    if (deps.producer === undefined) {
      const error = new LogzipError(
        'too_large_for_lambda',
        `${detail}; no queue to hand it to (REDIS_URL is not configured)`,
      );
      await recordFailure(work, logId, error, attempt, awsRequestId, log);
      log.error(
        { code: error.code, reason, detail },
        'archive cannot run in Lambda and there is no queue: failed',
      );
      return { summary: { ...base, outcome: 'failed', reason, code: error.code, message: error.message } };
    }
    const requestIds: Record<string, string> = { awsRequestId };
    if (work.s3RequestId !== undefined) requestIds['s3RequestId'] = work.s3RequestId;
    if (work.s3Id2 !== undefined) requestIds['s3Id2'] = work.s3Id2;
    try {
      const result = await withTimeout(
        deps.producer.enqueue({
          logId,
          bucket: work.bucket,
          key: work.key,
          reason: 'handoff',
          requestIds,
          ...(work.force === undefined ? {} : { force: work.force }),
        }),
        handoffTimeoutMs,
        `the queue did not accept the hand-off within ${handoffTimeoutMs} ms`,
      );
      if (result.outcome === 'refused') {
        const error = new LogzipError(
          'too_large_for_lambda',
          `${detail}; the queue refused it: ${result.reason}`,
        );
        await recordFailure(work, logId, error, attempt, awsRequestId, log);
        log.error({ code: error.code, reason, detail, refused: result.reason }, 'hand-off refused: failed');
        return { summary: { ...base, outcome: 'failed', reason, code: error.code, message: error.message } };
      }
      log.info(
        { reason, detail, jobId: result.jobId, enqueue: result.outcome },
        'archive handed off to the queue',
      );
      return { summary: { ...base, outcome: 'handed_off', reason, jobId: result.jobId } };
    } catch (thrown) {
      const cause = toLogzipError(thrown);
      // After a run ran out of time the attempt stays a `timeout` (the same attempt number
      // replaces the engine's entry), so Lambda's retry hands off at once instead of running again.
      const outOfTime = reason === 'deadline_reached' || reason === 'timed_out_before';
      const error = outOfTime
        ? new LogzipError('timeout', `${detail}, and the hand-off to the queue failed: ${cause.message}`, {
            cause,
          })
        : cause.code === 'storage_unavailable'
          ? cause
          : new LogzipError(
              'storage_unavailable',
              `could not hand the archive to the queue: ${cause.message}`,
              {
                cause,
              },
            );
      const record = await recordFailure(work, logId, error, attempt, awsRequestId, log);
      log.warn(
        { code: error.code, reason, err: error.message, state: record?.state },
        'hand-off failed, will retry',
      );
      return {
        summary: {
          ...base,
          outcome: record?.state === 'failed' ? 'failed' : 'retrying',
          reason,
          code: error.code,
        },
        error,
      };
    }
  }

  async function processArchive(
    work: ArchiveWork,
    context: InvocationContext,
    invocationLog: Logger,
  ): Promise<{ summary: RecordSummary; error?: LogzipError }> {
    const where = { bucket: work.bucket, key: work.key };
    const skip = (reason: string): { summary: RecordSummary } => {
      invocationLog.child({ ...ids(work), ...where }).info({ reason }, 'record skipped');
      return { summary: { outcome: 'skipped', ...where, reason } };
    };
    if (work.bucket !== config.incoming.bucket) {
      return skip(`bucket ${work.bucket} is not the incoming bucket ${config.incoming.bucket}`);
    }
    // The recursion guard: whatever the trigger's filter says, only the incoming prefix is work.
    if (!work.key.startsWith(config.incoming.prefix)) {
      return skip(`key is outside the incoming prefix ${config.incoming.prefix}`);
    }
    if (!work.key.toLowerCase().endsWith('.zip')) return skip('not a .zip key');

    let logId: string;
    try {
      logId = work.logId ?? parseLogId(work.key, config.logIdPattern);
    } catch (thrown) {
      const error = toLogzipError(thrown);
      // No log ID, so no failure record to hold it: the error line is the record.
      invocationLog
        .child({ ...ids(work), ...where })
        .error({ code: error.code, err: error.message }, 'archive rejected');
      return { summary: { outcome: 'rejected', ...where, code: error.code, message: error.message } };
    }
    const log = invocationLog.child({ ...ids(work), logId, ...where });
    const { awsRequestId } = context;

    const previous = await deps.state.getFailure(logId);
    const earlier = (previous?.attempts ?? []).filter(
      (a) => a.route === 'lambda' && a.requestId === awsRequestId,
    );
    const attempt = earlier.length + 1;
    log.info(
      {
        attempt,
        maxAttempts: config.lambda.maxAttempts,
        origin: work.origin,
        eventName: work.eventName,
        size: work.size,
      },
      'extraction attempt started',
    );

    let size = work.size;
    let etag = work.etag;
    if (size === undefined) {
      const info = await deps.store.head(work.bucket, work.key);
      // A missing archive is for the engine to record (`source_not_found`).
      if (info !== undefined) {
        size = info.size;
        etag = info.etag;
      }
    }

    const handOffUnlessCurrent = async (reason: HandoffReason, detail: string) => {
      if (!work.force && size !== undefined && (await isCurrent(work, logId, size, etag))) {
        log.info({ status: 'already_extracted', reason }, 'archive already extracted, nothing to hand off');
        return { summary: { outcome: 'already_extracted' as const, logId, ...where, attempt } };
      }
      return handOff(work, logId, reason, detail, attempt, awsRequestId, log);
    };

    // An earlier attempt of this event ran out of time: running it again would only do the same.
    if (earlier.some((a) => a.code === 'timeout')) {
      return handOffUnlessCurrent('timed_out_before', 'an earlier attempt of this event ran out of time');
    }

    let abortAfterMs = context.getRemainingTimeInMillis() - config.lambda.safetyMarginMs;
    if (size !== undefined) {
      const decision = planBudget({
        size,
        maxBytes: config.env.LOGZIP_LAMBDA_MAX_BYTES,
        remainingMs: context.getRemainingTimeInMillis(),
        safetyMarginMs: config.lambda.safetyMarginMs,
        minThroughput: config.lambda.minThroughput,
      });
      if (decision.action === 'handoff') return handOffUnlessCurrent(decision.reason, decision.detail);
      abortAfterMs = decision.abortAfterMs;
    }

    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new Error('the Lambda deadline is near')),
      Math.max(0, abortAfterMs),
    );
    let outcome: Awaited<ReturnType<typeof extractAndRecord>>;
    try {
      outcome = await extractAndRecord(
        { source: deps.store, output, state: deps.state, logger: log, clock },
        {
          logId,
          source: where,
          output: config.output,
          limits: config.limits,
          fallbackEncoding: config.fallbackEncoding,
          signal: controller.signal,
          ...(work.force === undefined ? {} : { force: work.force }),
        },
        { route: 'lambda', attempt, maxAttempts: config.lambda.maxAttempts, requestId: awsRequestId },
      );
    } finally {
      clearTimeout(timer);
    }

    if (outcome.ok) {
      const { result } = outcome;
      return {
        summary: {
          outcome: result.status,
          logId,
          ...where,
          attempt,
          entries: result.entries.length,
          bytes: result.bytes,
          durationMs: result.durationMs,
        },
      };
    }
    const { error, record } = outcome;
    if (controller.signal.aborted && error.code === 'timeout') {
      return handOffUnlessCurrent('deadline_reached', 'the run was stopped near the Lambda deadline');
    }
    if (error.retryable) {
      const state = record?.state ?? 'retrying';
      log.warn(
        { code: error.code, err: error.message, attempt, state },
        'extraction failed, Lambda will retry',
      );
      return {
        summary: {
          outcome: state === 'failed' ? 'failed' : 'retrying',
          logId,
          ...where,
          attempt,
          code: error.code,
          message: error.message,
        },
        error,
      };
    }
    log.error(
      { code: error.code, entry: error.entry, err: error.message, stack: error.stack, attempt },
      'archive rejected: failed, not retried',
    );
    return {
      summary: { outcome: 'failed', logId, ...where, attempt, code: error.code, message: error.message },
    };
  }

  /**
   * One alert for a record this invocation left `failed` (a permanent error, or the event's last
   * attempt). Awaited, because Lambda freezes the container once the handler returns; bounded by
   * the alerter's timeouts, and it never throws. When the last attempt throws, Lambda also sends
   * the event to the on-failure destination: the worker's drain finds the alert marker of this
   * awsRequestId and stays quiet.
   */
  async function alertIfFailed(
    summary: RecordSummary,
    context: InvocationContext,
    log: Logger,
  ): Promise<void> {
    const alerter = deps.alerter;
    if (alerter === undefined || !alerter.enabled) return;
    if (summary.outcome !== 'failed' || summary.logId === undefined) return;
    try {
      const record = await deps.state.getFailure(summary.logId);
      // The newest attempt must be this invocation's (not another route's run written since).
      const { awsRequestId } = context;
      if (record?.state !== 'failed' || record.attempts.at(-1)?.requestId !== awsRequestId) return;
      // Half the safety margin stays free: a timeout now would make Lambda retry a settled event.
      const budgetMs = context.getRemainingTimeInMillis() - config.lambda.safetyMarginMs / 2;
      await alerter.notifyFailure(record, { source: 'lambda', requestId: awsRequestId }, { budgetMs });
    } catch (error) {
      log.warn(
        { logId: summary.logId, err: toLogzipError(error).message },
        'could not read the failure record to alert on it',
      );
    }
  }

  /**
   * One SQS message of buffered mode: its S3 event's records, each through the same attempt as a
   * direct invocation. The message id stands in for the request id in failure records, so the
   * receives of one message count as the attempts of one event (as Lambda's retries do in direct
   * mode), and the worker's dead-letter drain finds the code the handler recorded.
   */
  async function processMessage(
    message: SqsMessage,
    context: InvocationContext,
    log: Logger,
    results: RecordSummary[],
  ): Promise<'done' | 'retry'> {
    let body: unknown;
    try {
      body = JSON.parse(message.body);
    } catch {
      // Not an S3 event: after maxReceiveCount it reaches the dead-letter queue and its alarm.
      log.error(
        { body: message.body.slice(0, 1_000) },
        'message is not JSON: left for the dead-letter queue',
      );
      return 'retry';
    }
    const messageContext: InvocationContext = {
      awsRequestId: message.messageId,
      getRemainingTimeInMillis: () => context.getRemainingTimeInMillis(),
    };
    let retry = false;
    for (const item of parseInvocationEvent(body)) {
      if (item.kind === 'skip') {
        log
          .child({ ...ids(item), bucket: item.bucket, key: item.key })
          .info({ reason: item.reason }, 'record skipped');
        continue;
      }
      try {
        const { summary, error } = await processArchive(item, messageContext, log);
        results.push(summary);
        await alertIfFailed(summary, messageContext, log);
        if (error !== undefined) retry = true;
      } catch (thrown) {
        const error = toLogzipError(thrown);
        log
          .child({ ...ids(item), bucket: item.bucket, key: item.key })
          .warn(
            { code: error.code, err: error.message },
            'record failed before extraction: the message returns',
          );
        results.push({
          outcome: 'retrying',
          bucket: item.bucket,
          key: item.key,
          code: error.code,
          message: error.message,
        });
        retry = true;
      }
    }
    return retry ? 'retry' : 'done';
  }

  async function handleSqsBatch(
    event: SqsBatchEvent,
    context: InvocationContext,
  ): Promise<InvocationSummary> {
    const log = deps.logger.child({ awsRequestId: context.awsRequestId });
    log.info({ messages: event.Records.length }, 'SQS batch started');
    const results: RecordSummary[] = [];
    const { batchItemFailures, outcomes } = await processSqsBatch(event, context, {
      concurrency: config.lambda.batchConcurrency,
      safetyMarginMs: config.lambda.safetyMarginMs,
      logger: log,
      processMessage: (message, messageLog) => processMessage(message, context, messageLog, results),
    });
    const counts: Record<string, number> = {};
    for (const outcome of Object.values(outcomes)) counts[outcome] = (counts[outcome] ?? 0) + 1;
    log.info({ outcomes: counts, returned: batchItemFailures.length }, 'SQS batch finished');
    return { awsRequestId: context.awsRequestId, results, batchItemFailures };
  }

  return async function handler(event, context) {
    if (isSqsBatchEvent(event)) return handleSqsBatch(event, context);
    const work = parseInvocationEvent(event);
    // S3 sends one record per event: then the invocation's own lines carry the record's ids too.
    const only = work.length === 1 ? work[0] : undefined;
    const invocationLog = deps.logger.child({
      awsRequestId: context.awsRequestId,
      ...(only === undefined
        ? {}
        : { ...ids(only), ...logIdOf(only, config.logIdPattern), bucket: only.bucket, key: only.key }),
    });
    invocationLog.info({ records: work.length }, 'invocation started');
    const results: RecordSummary[] = [];
    const errors: LogzipError[] = [];
    for (const item of work) {
      if (item.kind === 'skip') {
        invocationLog
          .child({ ...ids(item), bucket: item.bucket, key: item.key })
          .info({ reason: item.reason }, 'record skipped');
        results.push({
          outcome: 'skipped',
          reason: item.reason,
          ...(item.bucket === undefined ? {} : { bucket: item.bucket }),
          ...(item.key === undefined ? {} : { key: item.key }),
        });
        continue;
      }
      try {
        const { summary, error } = await processArchive(item, context, invocationLog);
        results.push(summary);
        await alertIfFailed(summary, context, invocationLog);
        if (error !== undefined) errors.push(error);
      } catch (thrown) {
        // Storage failing before the engine ran (reading the failure record, HEAD): retryable.
        const error = toLogzipError(thrown);
        invocationLog
          .child({ ...ids(item), bucket: item.bucket, key: item.key })
          .warn(
            { code: error.code, err: error.message, retryable: error.retryable },
            'record failed before extraction',
          );
        results.push({
          outcome: 'retrying',
          bucket: item.bucket,
          key: item.key,
          code: error.code,
          message: error.message,
        });
        errors.push(error);
      }
    }
    const counts: Record<string, number> = {};
    for (const result of results) counts[result.outcome] = (counts[result.outcome] ?? 0) + 1;
    if (errors.length > 0) {
      invocationLog.warn(
        { outcomes: counts, retryable: errors.length },
        'invocation failed: Lambda retries the event',
      );
      throw errors[0];
    }
    invocationLog.info({ outcomes: counts }, 'invocation finished');
    return { awsRequestId: context.awsRequestId, results };
  };
}
