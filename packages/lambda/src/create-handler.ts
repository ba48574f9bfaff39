import {
  alertIfFinal,
  attemptsOfRequest,
  type Clock,
  type ErrorCode,
  extractAndRecord,
  type FailureRecord,
  type Logger,
  LogzipError,
  noopTracer,
  type ObjectStore,
  parseLogId,
  type QueueProducer,
  type RecordedOutcome,
  recordFailedAttemptOrLog,
  SPAN_ATTRIBUTES,
  type StateStore,
  systemClock,
  TRACEPARENT,
  type Tracer,
  type TraceSpan,
  toLogzipError,
} from '@logzip/core';
import type { FailureAlerter } from '@logzip/core/alerts';
import { observeArchive, observedTraceparent } from '@logzip/core/state';
import { type HandoffReason, planBudget } from './budget.js';
import type { LambdaConfig } from './config.js';
import { type EmfRecord, formatEmfRecords } from './emf.js';
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
  /**
   * Takes the CloudWatch EMF lines of each handled record (runtime.ts writes them to stdout, where
   * CloudWatch Logs turns them into metrics); none when undefined.
   */
  metrics?: (records: EmfRecord[]) => void;
  /** One span per archive (phases inside), continuing the trace in the object's metadata; none by default. */
  tracer?: Tracer;
}

/** The part of Lambda's context the handler uses (the real `Context` fits). */
export interface InvocationContext {
  awsRequestId: string;
  /** The EMF metrics' FunctionName dimension (Lambda's context always has it). */
  functionName?: string;
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

/** HandlerDeps with its defaults filled in, built once by createHandler. */
interface Runtime extends HandlerDeps {
  clock: Clock;
  tracer: Tracer;
  output: ObjectStore;
  handoffTimeoutMs: number;
}

/** One archive of the event being worked on: who, which attempt, and the log line bindings. */
interface ArchiveRun {
  work: ArchiveWork;
  logId: string;
  attempt: number;
  awsRequestId: string;
  log: Logger;
  /** Known size and ETag (from the event, else a HEAD); undefined when the archive is missing. */
  size: number | undefined;
  etag: string | undefined;
  /** This archive's span: the engine's phases go under it, and a hand-off carries it to the queue. */
  span: TraceSpan;
}

/** A record's outcome, the error that makes Lambda retry the event, and the failure record written. */
interface ArchiveOutcome {
  summary: RecordSummary;
  error?: LogzipError;
  record?: FailureRecord | undefined;
}

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

function base(run: ArchiveRun) {
  return { logId: run.logId, bucket: run.work.bucket, key: run.work.key, attempt: run.attempt };
}

/** Writes a failed attempt that did not come from a run (a hand-off that could not happen). */
function recordHandlerFailure(
  rt: Runtime,
  run: ArchiveRun,
  error: LogzipError,
): Promise<FailureRecord | undefined> {
  return recordFailedAttemptOrLog(
    rt.state,
    {
      logId: run.logId,
      source: { bucket: run.work.bucket, key: run.work.key },
      route: 'lambda',
      error,
      attempt: run.attempt,
      maxAttempts: rt.config.lambda.maxAttempts,
      requestId: run.awsRequestId,
      run: run.work.run,
    },
    run.log,
    rt.clock,
  );
}

/** Whether the manifest names exactly this archive (bucket, key, size and, when known, ETag). */
async function isCurrent(rt: Runtime, run: ArchiveRun): Promise<boolean> {
  if (run.size === undefined) return false;
  const manifest = await rt.state.getManifest(run.logId);
  if (manifest === undefined) return false;
  const source = manifest.source;
  return (
    source.bucket === run.work.bucket &&
    source.key === run.work.key &&
    source.size === run.size &&
    (run.etag === undefined || source.etag === run.etag)
  );
}

/** Records a hand-off that cannot happen at all (no queue, or the queue refused it): `failed`. */
async function failHandOff(
  rt: Runtime,
  run: ArchiveRun,
  reason: HandoffReason,
  error: LogzipError,
  logLine: { fields: Record<string, unknown>; message: string },
): Promise<ArchiveOutcome> {
  const record = await recordHandlerFailure(rt, run, error);
  run.log.error({ code: error.code, reason, ...logLine.fields }, logLine.message);
  return {
    summary: { ...base(run), outcome: 'failed', reason, code: error.code, message: error.message },
    record,
  };
}

/**
 * The error a failed enqueue leaves. After a run ran out of time the attempt stays a `timeout` (the
 * same attempt number replaces the engine's entry), so Lambda's retry hands off at once instead of
 * running again.
 */
function handOffError(reason: HandoffReason, detail: string, thrown: unknown): LogzipError {
  const cause = toLogzipError(thrown);
  if (reason === 'deadline_reached' || reason === 'timed_out_before') {
    return new LogzipError('timeout', `${detail}, and the hand-off to the queue failed: ${cause.message}`, {
      cause,
    });
  }
  if (cause.code === 'storage_unavailable') return cause;
  return new LogzipError('storage_unavailable', `could not hand the archive to the queue: ${cause.message}`, {
    cause,
  });
}

/** Puts the archive on the queue, or records `too_large_for_lambda` when there is no queue. */
async function handOff(
  rt: Runtime,
  run: ArchiveRun,
  reason: HandoffReason,
  detail: string,
): Promise<ArchiveOutcome> {
  const { work, log } = run;
  if (rt.producer === undefined) {
    const error = new LogzipError(
      'too_large_for_lambda',
      `${detail}; no queue to hand it to (REDIS_URL is not configured)`,
    );
    return failHandOff(rt, run, reason, error, {
      fields: { detail },
      message: 'archive cannot run in Lambda and there is no queue: failed',
    });
  }
  const requestIds: Record<string, string> = { awsRequestId: run.awsRequestId, ...ids(work) };
  try {
    const result = await withTimeout(
      rt.producer.enqueue({
        logId: run.logId,
        bucket: work.bucket,
        key: work.key,
        reason: 'handoff',
        requestIds,
        // A hand-off carries on the Lambda's run; an upload's is what `handoff` implies already.
        ...(work.run === 'upload' ? {} : { run: work.run }),
        ...(work.encoding === undefined ? {} : { encoding: work.encoding }),
        ...(work.force === undefined ? {} : { force: work.force }),
        ...(run.span.traceparent === undefined ? {} : { traceparent: run.span.traceparent }),
      }),
      rt.handoffTimeoutMs,
      `the queue did not accept the hand-off within ${rt.handoffTimeoutMs} ms`,
    );
    if (result.outcome === 'refused') {
      const error = new LogzipError(
        'too_large_for_lambda',
        `${detail}; the queue refused it: ${result.reason}`,
      );
      return failHandOff(rt, run, reason, error, {
        fields: { detail, refused: result.reason },
        message: 'hand-off refused: failed',
      });
    }
    log.info(
      { reason, detail, jobId: result.jobId, enqueue: result.outcome },
      'archive handed off to the queue',
    );
    return { summary: { ...base(run), outcome: 'handed_off', reason, jobId: result.jobId } };
  } catch (thrown) {
    const error = handOffError(reason, detail, thrown);
    const record = await recordHandlerFailure(rt, run, error);
    log.warn(
      { code: error.code, reason, err: error.message, state: record?.state },
      'hand-off failed, will retry',
    );
    return {
      summary: {
        ...base(run),
        outcome: record?.state === 'failed' ? 'failed' : 'retrying',
        reason,
        code: error.code,
      },
      error,
      record,
    };
  }
}

/** Hands off, unless the archive was extracted already (then there is nothing to do). */
async function handOffUnlessCurrent(
  rt: Runtime,
  run: ArchiveRun,
  reason: HandoffReason,
  detail: string,
): Promise<ArchiveOutcome> {
  if (!run.work.force && (await isCurrent(rt, run))) {
    run.log.info({ status: 'already_extracted', reason }, 'archive already extracted, nothing to hand off');
    const { logId, bucket, key, attempt } = base(run);
    return { summary: { outcome: 'already_extracted', logId, bucket, key, attempt } };
  }
  return handOff(rt, run, reason, detail);
}

/** Why the function does not touch this archive at all, or undefined when it is work. */
function outOfScope(config: LambdaConfig, work: ArchiveWork): string | undefined {
  if (work.bucket !== config.incoming.bucket) {
    return `bucket ${work.bucket} is not the incoming bucket ${config.incoming.bucket}`;
  }
  // The recursion guard: whatever the trigger's filter says, only the incoming prefix is work.
  if (!work.key.startsWith(config.incoming.prefix)) {
    return `key is outside the incoming prefix ${config.incoming.prefix}`;
  }
  if (!work.key.toLowerCase().endsWith('.zip')) return 'not a .zip key';
  return undefined;
}

/**
 * Numbers this attempt from the record (Lambda's retries share the awsRequestId) and learns the
 * archive's size when the event does not carry it. Returns whether an earlier attempt of this
 * event already ran out of time.
 */
async function startRun(
  rt: Runtime,
  work: ArchiveWork,
  logId: string,
  awsRequestId: string,
  log: Logger,
  span: TraceSpan,
): Promise<{ run: ArchiveRun; timedOutBefore: boolean }> {
  const earlier = attemptsOfRequest(await rt.state.getFailure(logId), 'lambda', awsRequestId);
  const attempt = earlier.length + 1;
  log.info(
    {
      attempt,
      maxAttempts: rt.config.lambda.maxAttempts,
      origin: work.origin,
      eventName: work.eventName,
      size: work.size,
    },
    'extraction attempt started',
  );
  let size = work.size;
  let etag = work.etag;
  if (size === undefined) {
    const info = await rt.store.head(work.bucket, work.key);
    // A missing archive is for the engine to record (`source_not_found`).
    if (info !== undefined) {
      size = info.size;
      etag = info.etag;
    }
  }
  return {
    run: { work, logId, attempt, awsRequestId, log, size, etag, span },
    timedOutBefore: earlier.some((a) => a.code === 'timeout'),
  };
}

/** One engine run, stopped `abortAfterMs` from now so the invocation ends before Lambda's deadline. */
async function runExtraction(
  rt: Runtime,
  run: ArchiveRun,
  abortAfterMs: number,
): Promise<{ outcome: RecordedOutcome; aborted: boolean }> {
  const { config } = rt;
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error('the Lambda deadline is near')),
    Math.max(0, abortAfterMs),
  );
  try {
    const outcome = await extractAndRecord(
      {
        source: rt.store,
        output: rt.output,
        state: rt.state,
        logger: run.log,
        clock: rt.clock,
        tracer: rt.tracer,
      },
      {
        logId: run.logId,
        trace: run.span,
        source: { bucket: run.work.bucket, key: run.work.key },
        output: config.output,
        limits: config.limits,
        fallbackEncoding: run.work.encoding ?? config.fallbackEncoding,
        signal: controller.signal,
        ...(run.work.force === undefined ? {} : { force: run.work.force }),
      },
      {
        route: 'lambda',
        attempt: run.attempt,
        maxAttempts: config.lambda.maxAttempts,
        requestId: run.awsRequestId,
        run: run.work.run,
      },
    );
    return { outcome, aborted: controller.signal.aborted };
  } finally {
    clearTimeout(timer);
  }
}

/** What a failed run means for the event: a hand-off near the deadline, a Lambda retry, or `failed`. */
async function settleFailure(
  rt: Runtime,
  run: ArchiveRun,
  error: LogzipError,
  record: FailureRecord | undefined,
  aborted: boolean,
): Promise<ArchiveOutcome> {
  if (aborted && error.code === 'timeout') {
    return handOffUnlessCurrent(rt, run, 'deadline_reached', 'the run was stopped near the Lambda deadline');
  }
  const failed = (outcome: RecordOutcome): RecordSummary => ({
    outcome,
    ...base(run),
    code: error.code,
    message: error.message,
  });
  if (error.retryable) {
    const state = record?.state ?? 'retrying';
    run.log.warn(
      { code: error.code, err: error.message, attempt: run.attempt, state },
      'extraction failed, Lambda will retry',
    );
    return { summary: failed(state === 'failed' ? 'failed' : 'retrying'), error, record };
  }
  run.log.error(
    { code: error.code, entry: error.entry, err: error.message, stack: error.stack, attempt: run.attempt },
    'archive rejected: failed, not retried',
  );
  return { summary: failed('failed'), record };
}

/** One archive of the event: scope checks, the budget, then a run or a hand-off. */
async function processArchive(
  rt: Runtime,
  work: ArchiveWork,
  context: InvocationContext,
  invocationLog: Logger,
  span: TraceSpan,
  /** The trace the span continues: observed with the archive again, so a retry finds it. */
  parent?: string,
): Promise<ArchiveOutcome> {
  const { config } = rt;
  const where = { bucket: work.bucket, key: work.key };
  const skipReason = outOfScope(config, work);
  if (skipReason !== undefined) {
    invocationLog.child({ ...ids(work), ...where }).info({ reason: skipReason }, 'record skipped');
    return { summary: { outcome: 'skipped', ...where, reason: skipReason } };
  }
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
  await observeArchive(
    rt.state,
    { logId, ...where, ...(parent === undefined ? {} : { traceparent: parent }) },
    log,
  );
  const { run, timedOutBefore } = await startRun(rt, work, logId, context.awsRequestId, log, span);
  // An earlier attempt of this event ran out of time: running it again would only do the same.
  if (timedOutBefore) {
    return handOffUnlessCurrent(
      rt,
      run,
      'timed_out_before',
      'an earlier attempt of this event ran out of time',
    );
  }
  let abortAfterMs = context.getRemainingTimeInMillis() - config.lambda.safetyMarginMs;
  if (run.size !== undefined) {
    const decision = planBudget({
      size: run.size,
      maxBytes: config.env.LOGZIP_LAMBDA_MAX_BYTES,
      remainingMs: context.getRemainingTimeInMillis(),
      safetyMarginMs: config.lambda.safetyMarginMs,
      minThroughput: config.lambda.minThroughput,
    });
    if (decision.action === 'handoff') return handOffUnlessCurrent(rt, run, decision.reason, decision.detail);
    abortAfterMs = decision.abortAfterMs;
  }
  const { outcome, aborted } = await runExtraction(rt, run, abortAfterMs);
  if (!outcome.ok) return settleFailure(rt, run, outcome.error, outcome.record, aborted);
  const { result } = outcome;
  return {
    summary: {
      outcome: result.status,
      ...base(run),
      entries: result.entries.length,
      bytes: result.bytes,
      durationMs: result.durationMs,
    },
  };
}

/**
 * One alert for a record this invocation left `failed` (a permanent error, or the event's last
 * attempt), decided on the record it wrote. Awaited, because Lambda freezes the container once the
 * handler returns; bounded by the alerter's timeouts, and it never throws. When the last attempt
 * throws, Lambda also sends the event to the on-failure destination: the worker's drain finds the
 * alert marker of this awsRequestId and stays quiet.
 */
async function alertIfFailed(
  rt: Runtime,
  outcome: ArchiveOutcome,
  context: InvocationContext,
): Promise<void> {
  if (outcome.summary.outcome !== 'failed') return;
  // Half the safety margin stays free: a timeout now would make Lambda retry a settled event.
  const budgetMs = context.getRemainingTimeInMillis() - rt.config.lambda.safetyMarginMs / 2;
  await alertIfFinal(
    rt.alerter,
    outcome.record,
    { source: 'lambda', requestId: context.awsRequestId },
    { budgetMs },
  );
}

/**
 * Writes the EMF lines of the records handled. A failing sink never fails the invocation: metrics
 * are worth less than the extraction they describe.
 */
function emitMetrics(rt: Runtime, results: readonly RecordSummary[], context: InvocationContext): void {
  if (rt.metrics === undefined) return;
  const emf = {
    functionName: context.functionName ?? 'logzip-extract',
    timestamp: rt.clock.now().getTime(),
    awsRequestId: context.awsRequestId,
  };
  try {
    rt.metrics(results.flatMap((summary) => formatEmfRecords(summary, emf)));
  } catch (error) {
    rt.logger.warn({ err: toLogzipError(error).message }, 'EMF metrics could not be written');
  }
}

/**
 * The archive's span, child of the trace ingest stored in the object's metadata, else of the one it
 * observed with the archive in the pending set (folder storage keeps no metadata; an archive
 * announced by notify has none). Only with tracing on: the S3 event does not carry metadata, so
 * this costs a HEAD (and a Redis read without metadata), and a failed read only loses the parent
 * (the engine's own HEAD reports a missing archive).
 */
async function startArchiveSpan(
  rt: Runtime,
  work: ArchiveWork,
  context: InvocationContext,
): Promise<{ span: TraceSpan; parent?: string }> {
  if (!rt.tracer.enabled) return { span: rt.tracer.startSpan('') };
  const { logId } = logIdOf(work, rt.config.logIdPattern);
  const info = await rt.store.head(work.bucket, work.key).catch(() => undefined);
  const parent =
    info?.metadata?.[TRACEPARENT] ??
    (logId === undefined ? undefined : await observedTraceparent(rt.state, logId));
  const span = rt.tracer.startSpan('lambda extract', {
    kind: 'consumer',
    parent,
    attributes: {
      [SPAN_ATTRIBUTES.logId]: logId,
      [SPAN_ATTRIBUTES.route]: 'lambda',
      [SPAN_ATTRIBUTES.awsRequestId]: context.awsRequestId,
      [SPAN_ATTRIBUTES.s3RequestId]: work.s3RequestId,
      [SPAN_ATTRIBUTES.bucket]: work.bucket,
      [SPAN_ATTRIBUTES.key]: work.key,
    },
  });
  return parent === undefined ? { span } : { span, parent };
}

/** What the record's summary says, on its span. */
function settleSpan(span: TraceSpan, summary: RecordSummary): void {
  span.setAttributes({
    [SPAN_ATTRIBUTES.logId]: summary.logId,
    [SPAN_ATTRIBUTES.status]: summary.outcome,
    [SPAN_ATTRIBUTES.entries]: summary.entries,
    [SPAN_ATTRIBUTES.bytes]: summary.bytes,
    [SPAN_ATTRIBUTES.attempt]: summary.attempt,
    'logzip.handoff.reason': summary.outcome === 'handed_off' ? summary.reason : undefined,
  });
  if (summary.code !== undefined) span.fail(new LogzipError(summary.code, summary.message ?? summary.code));
}

/** processArchive in the archive's span, with the attempt's duration when the engine did not time it. */
async function processTimed(
  rt: Runtime,
  work: ArchiveWork,
  context: InvocationContext,
  log: Logger,
): Promise<ArchiveOutcome> {
  const started = performance.now();
  const { span, parent } = await startArchiveSpan(rt, work, context);
  try {
    const outcome = await processArchive(rt, work, context, log, span, parent);
    if (outcome.summary.durationMs === undefined && outcome.summary.outcome !== 'handed_off') {
      outcome.summary.durationMs = Math.round(performance.now() - started);
    }
    settleSpan(span, outcome.summary);
    return outcome;
  } catch (error) {
    span.fail(error);
    throw error;
  } finally {
    span.end();
  }
}

function skippedSummary(item: SkipWork, invocationLog: Logger): RecordSummary {
  invocationLog
    .child({ ...ids(item), bucket: item.bucket, key: item.key })
    .info({ reason: item.reason }, 'record skipped');
  return {
    outcome: 'skipped',
    reason: item.reason,
    ...(item.bucket === undefined ? {} : { bucket: item.bucket }),
    ...(item.key === undefined ? {} : { key: item.key }),
  };
}

/** Storage failing before the engine ran (reading the failure record, HEAD): retryable. */
function failedBeforeExtraction(item: ArchiveWork, thrown: unknown, invocationLog: Logger) {
  const error = toLogzipError(thrown);
  invocationLog
    .child({ ...ids(item), bucket: item.bucket, key: item.key })
    .warn(
      { code: error.code, err: error.message, retryable: error.retryable },
      'record failed before extraction',
    );
  const summary: RecordSummary = {
    outcome: 'retrying',
    bucket: item.bucket,
    key: item.key,
    code: error.code,
    message: error.message,
  };
  return { summary, error };
}

async function handleInvocation(
  rt: Runtime,
  event: unknown,
  context: InvocationContext,
): Promise<InvocationSummary> {
  const work = parseInvocationEvent(event);
  // S3 sends one record per event: then the invocation's own lines carry the record's ids too.
  const only = work.length === 1 ? work[0] : undefined;
  const invocationLog = rt.logger.child({
    awsRequestId: context.awsRequestId,
    ...(only === undefined
      ? {}
      : { ...ids(only), ...logIdOf(only, rt.config.logIdPattern), bucket: only.bucket, key: only.key }),
  });
  invocationLog.info({ records: work.length }, 'invocation started');
  const results: RecordSummary[] = [];
  const errors: LogzipError[] = [];
  for (const item of work) {
    if (item.kind === 'skip') {
      results.push(skippedSummary(item, invocationLog));
      continue;
    }
    try {
      const outcome = await processTimed(rt, item, context, invocationLog);
      results.push(outcome.summary);
      await alertIfFailed(rt, outcome, context);
      if (outcome.error !== undefined) errors.push(outcome.error);
    } catch (thrown) {
      const { summary, error } = failedBeforeExtraction(item, thrown, invocationLog);
      results.push(summary);
      errors.push(error);
    }
  }
  const counts: Record<string, number> = {};
  for (const result of results) counts[result.outcome] = (counts[result.outcome] ?? 0) + 1;
  emitMetrics(rt, results, context);
  if (errors.length > 0) {
    invocationLog.warn(
      { outcomes: counts, retryable: errors.length },
      'invocation failed: Lambda retries the event',
    );
    throw errors[0];
  }
  invocationLog.info({ outcomes: counts }, 'invocation finished');
  return { awsRequestId: context.awsRequestId, results };
}

/**
 * One SQS message of buffered mode: its S3 event's records, each through the same attempt as a
 * direct invocation. The message id stands in for the request id in failure records, so the
 * receives of one message count as the attempts of one event (as Lambda's retries do in direct
 * mode), and the worker's dead-letter drain finds the code the handler recorded.
 */
async function processMessage(
  rt: Runtime,
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
    log.error({ body: message.body.slice(0, 1_000) }, 'message is not JSON: left for the dead-letter queue');
    return 'retry';
  }
  const messageContext: InvocationContext = {
    awsRequestId: message.messageId,
    getRemainingTimeInMillis: () => context.getRemainingTimeInMillis(),
  };
  let retry = false;
  for (const item of parseInvocationEvent(body)) {
    if (item.kind === 'skip') {
      skippedSummary(item, log);
      continue;
    }
    try {
      const outcome = await processTimed(rt, item, messageContext, log);
      results.push(outcome.summary);
      await alertIfFailed(rt, outcome, messageContext);
      if (outcome.error !== undefined) retry = true;
    } catch (thrown) {
      results.push(failedBeforeExtraction(item, thrown, log).summary);
      retry = true;
    }
  }
  return retry ? 'retry' : 'done';
}

/** An SQS batch (buffered mode): bounded concurrency, and only the failed messages return. */
async function handleSqsBatch(
  rt: Runtime,
  event: SqsBatchEvent,
  context: InvocationContext,
): Promise<InvocationSummary> {
  const log = rt.logger.child({ awsRequestId: context.awsRequestId });
  log.info({ messages: event.Records.length }, 'SQS batch started');
  const results: RecordSummary[] = [];
  const { batchItemFailures, outcomes } = await processSqsBatch(event, context, {
    concurrency: rt.config.lambda.batchConcurrency,
    safetyMarginMs: rt.config.lambda.safetyMarginMs,
    logger: log,
    processMessage: (message, messageLog) => processMessage(rt, message, context, messageLog, results),
  });
  emitMetrics(rt, results, context);
  const counts: Record<string, number> = {};
  for (const outcome of Object.values(outcomes)) counts[outcome] = (counts[outcome] ?? 0) + 1;
  log.info({ outcomes: counts, returned: batchItemFailures.length }, 'SQS batch finished');
  return { awsRequestId: context.awsRequestId, results, batchItemFailures };
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
  const rt: Runtime = {
    ...deps,
    clock: deps.clock ?? systemClock,
    tracer: deps.tracer ?? noopTracer,
    output: deps.output ?? deps.store,
    handoffTimeoutMs: deps.handoffTimeoutMs ?? DEFAULT_HANDOFF_TIMEOUT_MS,
  };
  const handle: LogzipHandler = (event, context) =>
    isSqsBatchEvent(event) ? handleSqsBatch(rt, event, context) : handleInvocation(rt, event, context);
  if (!rt.tracer.enabled) return handle;
  // Lambda may freeze the container once the handler settles: the invocation's spans go out first.
  return (event, context) => handle(event, context).finally(() => rt.tracer.flush());
}
