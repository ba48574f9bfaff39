import {
  type Clock,
  type ExtractJob,
  extractAndRecord,
  extractJobSchema,
  type FailureAlerter,
  type Limits,
  type Logger,
  LogzipError,
  type ObjectStore,
  recordAttempt,
  type StateStore,
  systemClock,
  toLogzipError,
} from '@logzip/core';
import { type Job, UnrecoverableError, WaitingError } from 'bullmq';
import type { WorkerMetrics } from './metrics.js';

/** What a completed job keeps in Redis: a summary, never the entry list. */
export interface JobResult {
  status: 'extracted' | 'already_extracted';
  entries: number;
  bytes: number;
  durationMs: number;
  manifestFinishedAt: string;
}

export interface ProcessorDeps {
  source: ObjectStore;
  output: ObjectStore;
  state: StateStore;
  outputLocation: { bucket: string; prefix: string };
  limits: Limits;
  fallbackEncoding: string;
  logger: Logger;
  metrics?: WorkerMetrics;
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
}

/** Errors the processor has already written into the failure record, so the `failed` event does not again. */
const recorded = new WeakSet<Error>();
/** The LogzipError behind an error thrown to BullMQ. */
const origins = new WeakMap<Error, LogzipError>();

const PROGRESS_INTERVAL_MS = 2_000;

function jobError(error: LogzipError, recordedAlready: boolean): Error {
  const text = `${error.code}: ${error.message}`;
  const thrown = error.retryable ? new Error(text) : new UnrecoverableError(text);
  // BullMQ keeps failedReason and the stack; the code leads both so `failed` jobs say what happened.
  thrown.stack = `${thrown.name}: ${text}\n${(error.stack ?? '').split('\n').slice(1).join('\n')}`;
  Object.assign(thrown, { code: error.code });
  origins.set(thrown, error);
  if (recordedAlready) recorded.add(thrown);
  return thrown;
}

function codeOf(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'internal';
}

/**
 * The extraction job processor and the `failed` event handler, sharing the bookkeeping that keeps
 * failure records complete: the processor records every attempt it runs (through
 * extractAndRecord), and `onFailed` records the failures that never reached it (a job stalled
 * more often than allowed, started too often), so every failed job leaves a record.
 */
export function createExtractProcessor(deps: ProcessorDeps) {
  const clock = deps.clock ?? systemClock;
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
      const error = new UnrecoverableError(`invalid job payload: ${reason}`);
      Object.assign(error, { code: 'invalid_job' });
      recorded.add(error);
      throw error;
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
      { key: data.key, bucket: data.bucket, attempt, maxAttempts, force: data.force === true },
      'job started',
    );

    const controller = new AbortController();
    const slot = { controller, handBack: false };
    active.set(jobId, slot);
    const started = performance.now();
    let lastProgress = 0;
    try {
      const outcome = await extractAndRecord(
        { source: deps.source, output: deps.output, state: deps.state, logger: engineLog, clock },
        {
          logId: data.logId,
          source: { bucket: data.bucket, key: data.key },
          output: deps.outputLocation,
          limits: deps.limits,
          fallbackEncoding: deps.fallbackEncoding,
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
        { route: 'queue', attempt, maxAttempts, jobId },
      );
      const seconds = (performance.now() - started) / 1000;
      if (outcome.ok) {
        const { result } = outcome;
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
      deps.metrics?.jobDuration.observe({ outcome: 'failed' }, seconds);
      // A record that could not be written is left for the failed event to try again.
      throw jobError(error, outcome.record !== undefined);
    } finally {
      active.delete(jobId);
    }
  }

  async function recordUnprocessed(job: Job, error: Error): Promise<void> {
    const parsed = extractJobSchema.safeParse(job.data);
    if (!parsed.success) return;
    const data = parsed.data;
    const cause = origins.get(error) ?? (error instanceof LogzipError ? error : undefined);
    const stalled = /stalled more than allowable limit/.test(error.message);
    const failure =
      cause ??
      new LogzipError(
        'internal',
        stalled
          ? `the job stalled ${job.stalledCounter ?? 'too many'} time(s), more than LOGZIP_WORKER_MAX_STALLED allows: ` +
              'the workers running it died or lost their lock (out of memory? killed?)'
          : `the job failed before its extraction could run: ${error.message}`,
        { cause: error },
      );
    if (cause === undefined) failure.stack = `${failure.name}: ${failure.message}\n${error.stack ?? ''}`;
    const previous = await deps.state.getFailure(data.logId);
    const final = job.finishedOn !== undefined;
    const maxAttempts = job.opts.attempts ?? 1;
    const record = recordAttempt(previous, {
      logId: data.logId,
      source: { bucket: data.bucket, key: data.key },
      route: 'queue',
      error: failure,
      // BullMQ has counted this attempt already when it emits `failed`.
      attempt: Math.max(1, job.attemptsMade),
      maxAttempts,
      jobId: job.id,
      at: clock.now(),
    });
    await deps.state.putFailure(final ? { ...record, state: 'failed' } : record);
  }

  /**
   * One alert for a job that failed for good (a permanent error, or its last attempt). The record
   * must be `failed` and its newest attempt this job's, so a run of another route or a later job
   * that wrote the record since is not announced as this one. The alerter's marker, named after
   * the job id and creation time, keeps a `failed` event handled twice from alerting twice.
   */
  async function alertFinal(job: Job, log: Logger): Promise<void> {
    const alerter = deps.alerter;
    if (alerter === undefined || !alerter.enabled) return;
    const parsed = extractJobSchema.safeParse(job.data);
    if (!parsed.success) return;
    try {
      const record = await deps.state.getFailure(parsed.data.logId);
      if (record?.state !== 'failed' || record.attempts.at(-1)?.jobId !== job.id) return;
      await alerter.notifyFailure(record, {
        source: 'queue',
        jobId: job.id,
        jobCreatedAt: new Date(job.timestamp),
      });
    } catch (error) {
      log.warn({ err: toLogzipError(error).message }, 'could not read the failure record to alert on it');
    }
  }

  /** The worker's `failed` event: metrics for every failed attempt, records for those the processor could not write. */
  async function onFailed(job: Job | undefined, error: Error): Promise<void> {
    const final = job === undefined || job.finishedOn !== undefined;
    const code = codeOf(error);
    const logId = (job?.data as { logId?: unknown } | undefined)?.logId;
    const log = deps.logger.child({ jobId: job?.id, ...(typeof logId === 'string' ? { logId } : {}) });
    if (recorded.has(error)) {
      deps.metrics?.jobsFailed.inc({ code, final: String(final) });
      (final ? log.error.bind(log) : log.warn.bind(log))(
        { code, attempt: job?.attemptsMade, final, err: error.message },
        final ? 'job failed' : 'job attempt failed, BullMQ retries it',
      );
      if (final && job !== undefined) await alertFinal(job, log);
      return;
    }
    if (job === undefined) {
      deps.metrics?.jobsFailed.inc({ code: 'internal', final: 'true' });
      log.error({ err: error.message }, 'a job failed and was removed before its failure could be recorded');
      return;
    }
    const recordCode = origins.get(error)?.code ?? (error instanceof LogzipError ? error.code : 'internal');
    deps.metrics?.jobsFailed.inc({ code: recordCode, final: String(final) });
    try {
      await recordUnprocessed(job, error);
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
    if (final) await alertFinal(job, log);
  }

  return {
    process,
    onFailed,
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
