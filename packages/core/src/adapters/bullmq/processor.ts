import { type Job, WaitingError } from 'bullmq';
import type { FailureAlerter } from '../../alerts/types.js';
import type { Limits } from '../../config.js';
import { alertIfFinal, recordFailedAttempt } from '../../engine/attempts.js';
import { extractAndRecord } from '../../engine/record.js';
import { LogzipError, toLogzipError } from '../../errors.js';
import { type ExtractJob, extractJobSchema, runOfJob } from '../../job.js';
import { type Clock, systemClock } from '../../ports/clock.js';
import type { Logger } from '../../ports/logger.js';
import type { ObjectInfo, ObjectStore } from '../../ports/object-store.js';
import { noopTracer, SPAN_ATTRIBUTES, TRACEPARENT, type Tracer, type TraceSpan } from '../../ports/tracer.js';
import { runIdOfJob } from '../../state/failures.js';
import { observeArchive, observedTraceparent } from '../../state/indexed-state-store.js';
import type { StateStore } from '../../state/state-store.js';
import type { FailureRecord } from '../../state/types.js';

/** The counters the processor feeds (the worker's Prometheus metrics fit). */
export interface ProcessorMetrics {
  jobsCompleted: { inc(labels: { status: string }): void };
  jobsFailed: { inc(labels: { code: string; final: string }): void };
  jobsHandedBack: { inc(): void };
  jobDuration: { observe(labels: { outcome: string }, seconds: number): void };
  bytesExtracted: { inc(value: number): void };
  entriesExtracted: { inc(value: number): void };
}

/** What a completed job keeps in Redis: a summary, never the entry list. */
export interface JobResult {
  status: 'extracted' | 'already_extracted';
  entries: number;
  bytes: number;
  durationMs: number;
  manifestFinishedAt: string;
  /** The ETag of the version the manifest names: `onCompleted` compares the source with it. */
  etag: string;
}

export interface ProcessorDeps {
  source: ObjectStore;
  output: ObjectStore;
  state: StateStore;
  outputLocation: { bucket: string; prefix: string };
  limits: Limits;
  fallbackEncoding: string;
  logger: Logger;
  metrics?: ProcessorMetrics;
  clock?: Clock;
  /** Parallel object writes inside one extraction. */
  writeConcurrency?: number;
  /**
   * The engine's per-log-ID lease: its lifetime without renewal, and how long a run waits for
   * another run's lease. The worker ties both to its lock duration so that when a job stalls (its
   * worker died), the dead run's lease has expired by the time another worker runs the job again.
   */
  leaseTtlMs?: number;
  leaseWaitMs?: number;
  /** Announces jobs that failed for good (createAlerterFromConfig); none when alerts are not configured. */
  alerter?: FailureAlerter;
  /** One span per attempt (phases inside), continuing the trace the job carries; none by default. */
  tracer?: Tracer;
  /**
   * Queues a job for a newer upload found once a job has finished (the producer's `enqueue`);
   * without it, such an upload waits for the sweep. See `followNewerUpload`.
   */
  requeue?: (job: ExtractJob) => Promise<unknown>;
}

const PROGRESS_INTERVAL_MS = 2_000;

/**
 * What the processor throws to BullMQ for a failed attempt (a LogzipError): the code leads the message (BullMQ keeps
 * it as failedReason), and it carries the LogzipError and the failure record the attempt wrote to
 * the worker's `failed` event, which BullMQ hands the same object.
 */
export class JobAttemptError extends LogzipError {
  /**
   * Nothing is left for the `failed` event to record: the record was written (`record`), or the
   * job names no archive to record it under.
   */
  readonly settled: boolean;

  constructor(
    readonly failure: LogzipError,
    readonly record: FailureRecord | undefined,
    options: { settled?: boolean; text?: string } = {},
  ) {
    const text = options.text ?? `${failure.code}: ${failure.message}`;
    super(failure.code, text, {
      retryable: failure.retryable,
      cause: failure,
      ...(failure.entry === undefined ? {} : { entry: failure.entry }),
    });
    // BullMQ recognises a permanent failure by this name too: no retry for a non-retryable error.
    this.name = failure.retryable ? 'Error' : 'UnrecoverableError';
    this.settled = options.settled ?? record !== undefined;
    // BullMQ keeps the stack as well; the code leads it so `failed` jobs say what happened.
    this.stack = `${this.name}: ${text}\n${(failure.stack ?? '').split('\n').slice(1).join('\n')}`;
  }
}

/**
 * The error a failure outside the engine stands for: the attempt's own when the processor threw it,
 * else `internal`, worded for the stall BullMQ reports when the workers running the job died.
 */
function unprocessedError(job: Job, error: Error): LogzipError {
  if (error instanceof JobAttemptError) return error.failure;
  if (error instanceof LogzipError) return error;
  const stalled = /stalled more than allowable limit/.test(error.message);
  const failure = new LogzipError(
    'internal',
    stalled
      ? `the job stalled ${job.stalledCounter ?? 'too many'} time(s), more than LOGZIP_WORKER_MAX_STALLED allows: ` +
          'the workers running it died or lost their lock (out of memory? killed?)'
      : `the job failed before its extraction could run: ${error.message}`,
    { cause: error },
  );
  failure.stack = `${failure.name}: ${failure.message}\n${error.stack ?? ''}`;
  return failure;
}

/** The attempt's run id: logzip reuses one job id per log ID, its creation time tells the runs apart. */
function runIdField(job: Job): { runId?: string } {
  const runId = runIdOfJob(job.id, job.timestamp);
  return runId === undefined ? {} : { runId };
}

/**
 * The extraction job processor and the `failed` event handler, sharing the bookkeeping that keeps
 * failure records complete: the processor records every attempt it runs (through
 * extractAndRecord), and `onFailed` records the failures that never reached it (a job stalled
 * more often than allowed, started too often), so every failed job leaves a record.
 */
export function createExtractProcessor(deps: ProcessorDeps) {
  const clock = deps.clock ?? systemClock;
  const tracer = deps.tracer ?? noopTracer;

  /**
   * The trace the attempt continues: the job's (ingest, a Lambda hand-off), else the one in the
   * archive's metadata (a sweep or a re-enqueue found it), else the one observed with it in the
   * pending set (folder storage, an archive announced by notify). That costs a HEAD and a Redis
   * read, so only with tracing on.
   */
  async function parentOf(data: ExtractJob): Promise<string | undefined> {
    if (!tracer.enabled) return undefined;
    return (
      data.traceparent ??
      (await deps.source.head(data.bucket, data.key).catch(() => undefined))?.metadata?.[TRACEPARENT] ??
      (await observedTraceparent(deps.state, data.logId))
    );
  }

  function startJobSpan(
    data: ExtractJob,
    jobId: string,
    attempt: number,
    parent: string | undefined,
  ): TraceSpan {
    if (!tracer.enabled) return tracer.startSpan('');
    return tracer.startSpan('queue extract', {
      kind: 'consumer',
      parent,
      attributes: {
        [SPAN_ATTRIBUTES.logId]: data.logId,
        [SPAN_ATTRIBUTES.route]: 'queue',
        [SPAN_ATTRIBUTES.jobId]: jobId,
        [SPAN_ATTRIBUTES.attempt]: attempt,
        [SPAN_ATTRIBUTES.s3RequestId]: data.requestIds?.['s3RequestId'],
        [SPAN_ATTRIBUTES.bucket]: data.bucket,
        [SPAN_ATTRIBUTES.key]: data.key,
        'logzip.job.reason': data.reason,
      },
    });
  }
  const active = new Map<string, { controller: AbortController; handBack: boolean }>();

  async function process(job: Job, token?: string): Promise<JobResult> {
    const jobId = job.id ?? 'unknown';
    const parsed = extractJobSchema.safeParse(job.data);
    if (!parsed.success) {
      const reason = parsed.error.issues.map((i) => `${i.path.join('.') || 'job'}: ${i.message}`).join('; ');
      deps.logger.error(
        { jobId, reason, data: JSON.stringify(job.data).slice(0, 1_000) },
        'invalid job payload',
      );
      // Every logzip producer validates the job before enqueueing it: only a bug or a foreign
      // producer gets here, which is what `internal` stands for. No log ID, so no record to write.
      const text = `invalid job payload: ${reason}`;
      const failure = new LogzipError('internal', text, { retryable: false });
      throw new JobAttemptError(failure, undefined, { settled: true, text });
    }
    const data: ExtractJob = parsed.data;
    const jobBindings = {
      jobId,
      reason: data.reason,
      ...(data.requestIds === undefined ? {} : { requestIds: data.requestIds }),
    };
    // The engine binds logId itself; this process's own lines get it here.
    const engineLog = deps.logger.child(jobBindings);
    const log = engineLog.child({ logId: data.logId });
    const attempt = job.attemptsMade + 1;
    const maxAttempts = job.opts.attempts ?? 1;
    log.info(
      {
        key: data.key,
        bucket: data.bucket,
        attempt,
        maxAttempts,
        force: data.force === true,
        ...(data.encoding === undefined ? {} : { encoding: data.encoding }),
      },
      'job started',
    );
    const parent = await parentOf(data);
    // The trace goes with the observation: this one replaces ingest's, and a retry still finds it.
    await observeArchive(
      deps.state,
      {
        logId: data.logId,
        bucket: data.bucket,
        key: data.key,
        ...(parent === undefined ? {} : { traceparent: parent }),
      },
      log,
    );

    const controller = new AbortController();
    const slot = { controller, handBack: false };
    active.set(jobId, slot);
    const started = performance.now();
    let lastProgress = 0;
    const span = startJobSpan(data, jobId, attempt, parent);
    try {
      const outcome = await extractAndRecord(
        { source: deps.source, output: deps.output, state: deps.state, logger: engineLog, clock, tracer },
        {
          logId: data.logId,
          trace: span,
          source: { bucket: data.bucket, key: data.key },
          output: deps.outputLocation,
          limits: deps.limits,
          fallbackEncoding: data.encoding ?? deps.fallbackEncoding,
          signal: controller.signal,
          ...(data.force === undefined ? {} : { force: data.force }),
          ...(deps.writeConcurrency === undefined ? {} : { concurrency: deps.writeConcurrency }),
          ...(deps.leaseTtlMs === undefined ? {} : { leaseTtlMs: deps.leaseTtlMs }),
          ...(deps.leaseWaitMs === undefined ? {} : { leaseWaitMs: deps.leaseWaitMs }),
          onProgress: (progress) => {
            const now = Date.now();
            if (now - lastProgress < PROGRESS_INTERVAL_MS) return;
            lastProgress = now;
            job.updateProgress({ ...progress }).catch(() => {});
          },
        },
        {
          route: 'queue',
          attempt,
          maxAttempts,
          jobId,
          run: runOfJob(data),
          ...runIdField(job),
        },
      );
      const seconds = (performance.now() - started) / 1000;
      if (outcome.ok) {
        const { result } = outcome;
        span.setAttributes({
          [SPAN_ATTRIBUTES.status]: result.status,
          [SPAN_ATTRIBUTES.entries]: result.entries.length,
          [SPAN_ATTRIBUTES.bytes]: result.bytes,
        });
        deps.metrics?.jobsCompleted.inc({ status: result.status });
        deps.metrics?.jobDuration.observe({ outcome: result.status }, seconds);
        if (result.status === 'extracted') {
          deps.metrics?.bytesExtracted.inc(result.bytes);
          deps.metrics?.entriesExtracted.inc(result.entries.length);
        }
        log.info(
          {
            status: result.status,
            entries: result.entries.length,
            bytes: result.bytes,
            durationMs: result.durationMs,
          },
          'job completed',
        );
        return {
          status: result.status,
          entries: result.entries.length,
          bytes: result.bytes,
          durationMs: result.durationMs,
          manifestFinishedAt: result.manifest.finishedAt,
          etag: result.source.etag,
        };
      }
      if (slot.handBack && token !== undefined) {
        // Shutdown deadline: the run was stopped cleanly (no manifest, folder cleared); another
        // worker takes the job at once, without it counting as an attempt or a stall.
        await job.moveToWait(token);
        deps.metrics?.jobsHandedBack.inc();
        log.warn({ attempt }, 'job handed back to the queue at shutdown');
        throw new WaitingError();
      }
      const { error } = outcome;
      span.fail(error);
      deps.metrics?.jobDuration.observe({ outcome: 'failed' }, seconds);
      // A record that could not be written is left for the failed event to try again.
      throw new JobAttemptError(error, outcome.record);
    } finally {
      span.end();
      active.delete(jobId);
    }
  }

  /** Records a failure that never reached the engine's ledger write; returns the record written. */
  async function recordUnprocessed(job: Job, error: Error): Promise<FailureRecord | undefined> {
    const parsed = extractJobSchema.safeParse(job.data);
    if (!parsed.success) return undefined;
    const data = parsed.data;
    return recordFailedAttempt(
      deps.state,
      {
        logId: data.logId,
        source: { bucket: data.bucket, key: data.key },
        route: 'queue',
        error: unprocessedError(job, error),
        // BullMQ has counted this attempt already when it emits `failed`.
        attempt: Math.max(1, job.attemptsMade),
        maxAttempts: job.opts.attempts ?? 1,
        jobId: job.id,
        run: runOfJob(data),
        ...runIdField(job),
        final: job.finishedOn !== undefined,
      },
      clock,
    );
  }

  /**
   * One alert for a job that failed for good (a permanent error, or its last attempt), decided on
   * the record this job wrote. The alerter's marker, named after the job id and creation time,
   * keeps a `failed` event handled twice from alerting twice.
   */
  async function alertFinal(job: Job, record: FailureRecord | undefined): Promise<void> {
    await alertIfFinal(deps.alerter, record, {
      source: 'queue',
      jobId: job.id,
      jobCreatedAt: new Date(job.timestamp),
    });
  }

  /** Metrics for every failed attempt, records for those the processor could not write. */
  async function recordFailure(job: Job | undefined, error: Error): Promise<void> {
    const final = job === undefined || job.finishedOn !== undefined;
    const attemptError = error instanceof JobAttemptError ? error : undefined;
    const logId = (job?.data as { logId?: unknown } | undefined)?.logId;
    const log = deps.logger.child({ jobId: job?.id, ...(typeof logId === 'string' ? { logId } : {}) });
    if (attemptError?.settled) {
      const code = attemptError.code;
      deps.metrics?.jobsFailed.inc({ code, final: String(final) });
      (final ? log.error.bind(log) : log.warn.bind(log))(
        { code, attempt: job?.attemptsMade, final, err: error.message },
        final ? 'job failed' : 'job attempt failed, BullMQ retries it',
      );
      if (final && job !== undefined) await alertFinal(job, attemptError.record);
      return;
    }
    if (job === undefined) {
      deps.metrics?.jobsFailed.inc({ code: 'internal', final: 'true' });
      log.error({ err: error.message }, 'a job failed and was removed before its failure could be recorded');
      return;
    }
    const recordCode = attemptError?.code ?? (error instanceof LogzipError ? error.code : 'internal');
    deps.metrics?.jobsFailed.inc({ code: recordCode, final: String(final) });
    let record: FailureRecord | undefined;
    try {
      record = await recordUnprocessed(job, error);
      log.error(
        { code: recordCode, err: error.message, final },
        'job failed outside the extraction; failure recorded',
      );
    } catch (recordError) {
      log.error(
        { err: error.message, recordErr: toLogzipError(recordError).message },
        'job failed and its failure record could not be written',
      );
    }
    if (final) await alertFinal(job, record);
  }

  /**
   * One job per log ID: an upload of a new version that lands while the job is still running,
   * after its last read of the source (just before the manifest), is answered `already_queued` and
   * would wait for the sweep. BullMQ has finished the job when its events run, so any later upload
   * gets a job of its own; this catches the ones before: a source newer than what the job read
   * gets a job now.
   */
  async function followNewerUpload(job: Job, isNewer: (now: ObjectInfo) => boolean): Promise<void> {
    if (deps.requeue === undefined) return;
    const parsed = extractJobSchema.safeParse(job.data);
    if (!parsed.success) return;
    const data = parsed.data;
    const now = await deps.source.head(data.bucket, data.key);
    if (now === undefined || !isNewer(now)) return;
    await deps.requeue({ logId: data.logId, bucket: data.bucket, key: data.key, reason: 'upload' });
    deps.logger.info(
      { jobId: job.id, logId: data.logId, key: data.key, etag: now.etag },
      'a newer upload arrived while the job ran: queued it',
    );
  }

  /** The worker's `completed` event (the job and what `process` returned): a source whose ETag is not the one extracted gets a job. */
  async function onCompleted(job: Job, result: unknown): Promise<void> {
    const etag = (result as Partial<JobResult> | undefined)?.etag;
    // Results written before they carried the ETag: nothing to compare with.
    if (etag === undefined) return;
    await followNewerUpload(job, (now) => now.etag !== etag);
  }

  /**
   * The worker's `failed` event: the attempt's metrics and record, and for a job that failed for
   * good, a job for a source written after the attempt started (a failure records no version).
   */
  async function onFailed(job: Job | undefined, error: Error): Promise<void> {
    await recordFailure(job, error);
    const started = job?.processedOn;
    if (job?.finishedOn === undefined || started === undefined) return;
    await followNewerUpload(job, (now) => now.lastModified.getTime() > started);
  }

  return {
    process,
    onFailed,
    onCompleted,
    /** Jobs running in this process. */
    activeCount: () => active.size,
    /** Stops every running extraction and hands its job back to the queue (shutdown deadline). */
    handBackAll(reason: string): number {
      for (const slot of active.values()) {
        slot.handBack = true;
        slot.controller.abort(new Error(reason));
      }
      return active.size;
    },
  };
}
