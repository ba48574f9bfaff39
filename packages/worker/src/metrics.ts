import type { SweepSnapshot } from '@logzip/core';
import type { WorkerHeartbeat } from '@logzip/core/bullmq';
import type { ActivityView } from '@logzip/core/state';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface WorkerMetricsSources {
  /** Job counts by state, read from the queue at scrape time. */
  queueCounts?: () => Promise<Record<string, number>>;
  /** The last sweep's backlog (shared through Redis, whichever process ran it). */
  lastSweep?: () => Promise<SweepSnapshot | undefined>;
  /** Every worker's last heartbeat (all processes of the deployment). */
  heartbeats?: () => Promise<WorkerHeartbeat[]>;
  /** When the job that has waited longest was created (ms), undefined when none waits. */
  oldestWaiting?: () => Promise<number | undefined>;
  /** Per-route activity from the index (last extraction per route). */
  activity?: () => Promise<ActivityView | undefined>;
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

const SCRAPE_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error('timed out')), SCRAPE_TIMEOUT_MS).unref(),
    ),
  ]);
}

/**
 * The worker's Prometheus metrics in their own registry. Counters are updated by the processor,
 * the sweeper and the drain; queue depth and backlog are read when scraped, so every worker
 * process reports the same shared values.
 */
export function createWorkerMetrics(sources: WorkerMetricsSources = {}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'logzip_worker_' });

  const jobsCompleted = new Counter({
    name: 'logzip_worker_jobs_completed_total',
    help: 'Extraction jobs that succeeded, by status (extracted, already_extracted)',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const jobsFailed = new Counter({
    name: 'logzip_worker_jobs_failed_total',
    help: 'Failed extraction attempts by error code; final="true" when no retry follows',
    labelNames: ['code', 'final'] as const,
    registers: [registry],
  });
  const jobsStalled = new Counter({
    name: 'logzip_worker_jobs_stalled_total',
    help: 'Jobs found stalled (their worker died or lost its lock) and put back in the queue',
    registers: [registry],
  });
  const jobsHandedBack = new Counter({
    name: 'logzip_worker_jobs_handed_back_total',
    help: 'Active jobs stopped at shutdown and put back in the queue for another worker',
    registers: [registry],
  });
  const jobDuration = new Histogram({
    name: 'logzip_worker_job_duration_seconds',
    help: 'Duration of extraction attempts, by outcome (extracted, already_extracted, failed)',
    labelNames: ['outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [registry],
  });
  const bytesExtracted = new Counter({
    name: 'logzip_worker_extracted_bytes_total',
    help: 'Uncompressed bytes written by extractions',
    registers: [registry],
  });
  const entriesExtracted = new Counter({
    name: 'logzip_worker_extracted_entries_total',
    help: 'Files written by extractions',
    registers: [registry],
  });
  const lambdaFailures = new Counter({
    name: 'logzip_worker_lambda_failures_drained_total',
    help: "Messages of the Lambda's on-failure destination turned into failure records, by error code",
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const lambdaUnparseable = new Counter({
    name: 'logzip_worker_lambda_failures_unparseable_total',
    help: 'Destination messages that could not be understood (left for the dead-letter queue)',
    registers: [registry],
  });
  const notificationsStored = new Counter({
    name: 'logzip_worker_notifications_stored_total',
    help: 'Archives of trigger-queue messages (buffered mode, route queue) stored as jobs: enqueued, or collapsed into a waiting job',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const sweeps = new Counter({
    name: 'logzip_sweep_runs_total',
    help: 'Sweeps run by this process, by outcome (ok, error)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const sweepEnqueued = new Counter({
    name: 'logzip_sweep_enqueued_total',
    help: 'Archives the sweeper enqueued, by route at the time',
    labelNames: ['route'] as const,
    registers: [registry],
  });

  new Gauge({
    name: 'logzip_queue_jobs',
    help: 'Jobs in the extraction queue by state',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      if (sources.queueCounts === undefined) return;
      try {
        const counts = await withTimeout(sources.queueCounts());
        for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
      } catch {
        // Redis is unreachable: keep the last values rather than failing the scrape.
      }
    },
  });

  // The three sweep gauges are collected in parallel: one Redis read serves one scrape.
  let snapshot: SweepSnapshot | undefined;
  let reading: { at: number; promise: Promise<SweepSnapshot | undefined> } | undefined;
  const readSnapshot = (): Promise<SweepSnapshot | undefined> => {
    const lastSweep = sources.lastSweep;
    if (lastSweep === undefined) return Promise.resolve(undefined);
    if (reading !== undefined && Date.now() - reading.at < 1_000) return reading.promise;
    const promise = withTimeout(lastSweep())
      .then((read) => {
        snapshot = read ?? snapshot;
        return snapshot;
      })
      .catch(() => snapshot);
    reading = { at: Date.now(), promise };
    return promise;
  };
  new Gauge({
    name: 'logzip_sweep_backlog_archives',
    help: 'Archives without a manifest for their source and without a failed record, at the last sweep',
    registers: [registry],
    async collect() {
      const last = await readSnapshot();
      if (last !== undefined) this.set(last.backlog.count);
    },
  });
  new Gauge({
    name: 'logzip_sweep_backlog_oldest_age_seconds',
    help: 'Age of the oldest unprocessed archive found by the last sweep (0 when none)',
    registers: [registry],
    async collect() {
      const oldest = (await readSnapshot())?.backlog.oldestLastModified;
      this.set(oldest === undefined ? 0 : Math.max(0, (Date.now() - Date.parse(oldest)) / 1000));
    },
  });
  new Gauge({
    name: 'logzip_sweep_last_run_timestamp_seconds',
    help: 'When the last sweep finished (Unix time)',
    registers: [registry],
    async collect() {
      const last = await readSnapshot();
      if (last !== undefined) this.set(Date.parse(last.at) / 1000);
    },
  });

  // The health strip's facts, read when scraped like the queue depth (see docs/operations.md).
  new Gauge({
    name: 'logzip_worker_heartbeat_age_seconds',
    help: "Seconds since each worker's last heartbeat (a frozen worker's grows while its connection stays open)",
    labelNames: ['worker'] as const,
    registers: [registry],
    async collect() {
      if (sources.heartbeats === undefined) return;
      try {
        const beats = await withTimeout(sources.heartbeats());
        this.reset();
        for (const beat of beats)
          this.set({ worker: beat.name }, Math.max(0, (Date.now() - Date.parse(beat.at)) / 1000));
      } catch {
        // Redis is unreachable: keep the last values.
      }
    },
  });
  new Gauge({
    name: 'logzip_queue_oldest_waiting_age_seconds',
    help: 'Seconds the oldest waiting extraction job has waited for a worker (0 when none waits)',
    registers: [registry],
    async collect() {
      if (sources.oldestWaiting === undefined) return;
      try {
        const created = await withTimeout(sources.oldestWaiting());
        this.set(created === undefined ? 0 : Math.max(0, (Date.now() - created) / 1000));
      } catch {
        // Redis is unreachable: keep the last value.
      }
    },
  });
  new Gauge({
    name: 'logzip_last_extraction_timestamp_seconds',
    help: 'When the last successful extraction of each route finished (Unix time)',
    labelNames: ['route'] as const,
    registers: [registry],
    async collect() {
      if (sources.activity === undefined) return;
      try {
        const view = await withTimeout(sources.activity());
        for (const route of ['lambda', 'queue'] as const) {
          const at = view?.lastExtracted[route];
          if (at !== null && at !== undefined) this.set({ route }, Date.parse(at) / 1000);
        }
      } catch {
        // Redis is unreachable: keep the last values.
      }
    },
  });

  return {
    registry,
    jobsCompleted,
    jobsFailed,
    jobsStalled,
    jobsHandedBack,
    jobDuration,
    bytesExtracted,
    entriesExtracted,
    lambdaFailures,
    lambdaUnparseable,
    notificationsStored,
    sweeps,
    sweepEnqueued,
  };
}
