import { hostname } from 'node:os';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  createGroupedAlerter,
  createGroupedStateStore,
  type FailureAlerter,
  type Logger,
  type ObjectStore,
  QUEUE_NAME,
  type StateStore,
  type SweepReport,
  startDigestFlush,
  sweep,
} from '@logzip/core';
import { createAlerterFromConfig } from '@logzip/core/alerts';
import {
  type BullmqProducer,
  checkRedis,
  createBullmqProducer,
  createExtractProcessor,
  createRedis,
  createRedisRouteStore,
  DEFAULT_KEYS,
  readSweepSnapshot,
  startOperationsWorker,
  sweepSnapshotPublisher,
} from '@logzip/core/bullmq';
import {
  createRedisDigestGate,
  createRedisFailureGroups,
  createRedisOperationStore,
} from '@logzip/core/redis-index';
import { Queue, Worker } from 'bullmq';
import { startBufferedConsumers } from './buffered.js';
import { startCanarySchedule } from './canary-schedule.js';
import type { WorkerConfig } from './config.js';
import { type Drain, startRedisDrain, startSqsDrain } from './drain.js';
import { type MetricsServer, startMetricsServer } from './http.js';
import { createWorkerMetrics, type WorkerMetrics } from './metrics.js';

/** The queue of scheduled sweeps (kept apart from extraction jobs, which it would fail validation of). */
export const SWEEP_QUEUE_NAME = 'logzip-sweep';
export const SWEEP_SCHEDULER_ID = 'logzip-sweep';

export interface StartWorkerOptions {
  config: WorkerConfig;
  logger: Logger;
  /** Where archives are read from and files written (createStorage(config).store). */
  store: ObjectStore;
  state: StateStore;
  /** A client for the Lambda failure queue; built from the environment when not given. */
  sqs?: SQSClient;
  /** Serve /healthz and /metrics (default true). */
  http?: boolean;
  /** How long to wait for Redis at start (default 10 s). */
  redisTimeoutMs?: number;
  /** Announces final failures; built from the config (LOGZIP_ALERT_*) when not given. */
  alerter?: FailureAlerter;
}

export interface RunningWorker {
  worker: Worker;
  producer: BullmqProducer;
  metrics: WorkerMetrics;
  /** The port /healthz and /metrics listen on (undefined without http). */
  port: number | undefined;
  /** Runs one sweep now, as the scheduled job does. */
  sweepNow(options?: { dryRun?: boolean }): Promise<SweepReport>;
  /**
   * Graceful stop: no new jobs; active jobs get the shutdown deadline to finish, then are stopped
   * and handed back to the queue; then every connection closes. Safe to call twice.
   */
  close(): Promise<{ handedBack: number; forced: boolean }>;
  /** Whether the worker's Redis connection is up (nothing can be handed back while it is not). */
  redisReady(): boolean;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
): Promise<{ done: true; value: T } | { done: false }> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.then((value) => ({ done: true as const, value })),
    new Promise<{ done: false }>((resolve) => {
      timer = setTimeout(() => resolve({ done: false }), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Starts everything the worker process runs: the extraction worker, the sweeper (scheduled with a
 * BullMQ job scheduler), the drain of the Lambda's failure destination, and the health/metrics
 * server. Throws `storage_unavailable` when Redis cannot be reached within `redisTimeoutMs`.
 *
 * @example
 * const storage = createStorage(config, { logger });
 * const running = await startWorker({ config, logger, store: storage.store, state: storage.state });
 * process.once('SIGTERM', () => running.close().then(() => process.exit(0)));
 */
export async function startWorker(options: StartWorkerOptions): Promise<RunningWorker> {
  const { config, logger, store } = options;
  const settings = config.worker;
  const prefix = settings.queuePrefix;
  const log = logger.child({ component: 'worker' });

  const redis = createRedis(config.redisUrl, { forWorker: true, logger: log });
  let check: Awaited<ReturnType<typeof checkRedis>>;
  try {
    check = await checkRedis(redis, { timeoutMs: options.redisTimeoutMs ?? 10_000 });
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  for (const warning of check.warnings) log.warn({ redisVersion: check.version }, `Redis: ${warning}`);
  log.info({ redisVersion: check.version, maxmemoryPolicy: check.maxmemoryPolicy }, 'connected to Redis');

  // Every failure record this process writes (attempts, final failures, resolves, the drain's)
  // moves its log ID into or out of its failure group in the same call.
  const namespace = config.env.LOGZIP_INDEX_PREFIX;
  const groups = createRedisFailureGroups({ redis, namespace });
  const state = createGroupedStateStore(options.state, groups, {
    logger: log,
  });
  const producer = createBullmqProducer({ connection: redis, prefix });
  // Alerts by failure group when LOGZIP_ALERT_DIGEST_INTERVAL is set (0, the default: every final failure).
  const alerter = createGroupedAlerter(
    options.alerter ?? createAlerterFromConfig(config, { store, logger }),
    {
      gate: createRedisDigestGate({ redis, namespace }),
      groups,
      intervalMs: config.env.LOGZIP_ALERT_DIGEST_INTERVAL,
      publicUrl: config.env.LOGZIP_PUBLIC_URL,
    },
  );
  // A digest that is due goes out on this timer too, not only with the group's next failure.
  const digestFlush = startDigestFlush(alerter, config.env.LOGZIP_ALERT_DIGEST_INTERVAL);
  const routes = createRedisRouteStore(redis);
  const metrics = createWorkerMetrics({
    queueCounts: () => producer.getCounts(),
    lastSweep: () => readSweepSnapshot(redis, prefix),
  });

  const processor = createExtractProcessor({
    source: store,
    output: store,
    state,
    outputLocation: config.output,
    limits: config.limits,
    fallbackEncoding: config.fallbackEncoding,
    logger,
    metrics,
    // A stalled job runs again no sooner than half a lock duration after its worker died; the dead
    // run's lease lasts at most one lock duration, so waiting 1.5 lock durations always gets it.
    leaseTtlMs: settings.lockDurationMs,
    leaseWaitMs: Math.round(settings.lockDurationMs * 1.5),
    alerter,
  });

  const workerName = `${hostname()}:${process.pid}`;
  const worker = new Worker(QUEUE_NAME, processor.process, {
    connection: redis,
    prefix,
    name: workerName,
    concurrency: settings.concurrency,
    lockDuration: settings.lockDurationMs,
    // A dead worker's job is found within about one lock duration plus one check.
    stalledInterval: Math.min(30_000, settings.lockDurationMs),
    maxStalledCount: settings.maxStalledCount,
    autorun: false,
  });
  // Failed-event handlers still writing a record or sending an alert: close() lets them finish.
  const failedHandlers = new Set<Promise<void>>();
  worker.on('failed', (job, error) => {
    const handling = processor
      .onFailed(job, error)
      .catch((e: unknown) => log.error({ err: messageOf(e) }, 'failed-event handler'));
    failedHandlers.add(handling);
    void handling.finally(() => failedHandlers.delete(handling));
  });
  worker.on('error', (error) => log.error({ err: error.message }, 'worker error'));
  worker.on('stalled', (jobId) => {
    metrics.jobsStalled.inc();
    log.warn({ jobId }, 'job stalled (its worker died or lost its lock): it runs again');
  });
  worker.on('lockRenewalFailed', (jobIds) => log.error({ jobIds }, 'could not renew job locks'));

  // The sweeper: a job scheduler shared by every worker process, so one sweep runs per interval.
  let sweepQueue: Queue | undefined;
  let sweepWorker: Worker | undefined;
  const sweepAbort = new AbortController();
  const runSweep = (dryRun: boolean) =>
    sweep({
      signal: sweepAbort.signal,
      store,
      incoming: config.incoming,
      state,
      producer,
      routes,
      logIdPattern: config.logIdPattern,
      graceMs: settings.sweepGraceMs,
      dryRun,
      logger,
      publish: sweepSnapshotPublisher(redis, prefix),
    });
  if (settings.sweepIntervalMs > 0) {
    sweepQueue = new Queue(SWEEP_QUEUE_NAME, { connection: redis, prefix });
    sweepQueue.on('error', (error) => log.warn({ err: error.message }, 'sweep queue error'));
    await sweepQueue.upsertJobScheduler(
      SWEEP_SCHEDULER_ID,
      { every: settings.sweepIntervalMs },
      { name: 'sweep', data: {}, opts: { removeOnComplete: { count: 50 }, removeOnFail: { count: 50 } } },
    );
    sweepWorker = new Worker(
      SWEEP_QUEUE_NAME,
      async () => {
        try {
          const report = await runSweep(false);
          metrics.sweeps.inc({ outcome: 'ok' });
          metrics.sweepEnqueued.inc({ route: report.summary.route }, report.summary.enqueued);
          return report.summary;
        } catch (error) {
          if (sweepAbort.signal.aborted) {
            log.info({}, 'sweep stopped by the shutdown; the next one starts over');
          } else {
            metrics.sweeps.inc({ outcome: 'error' });
            log.error({ err: messageOf(error) }, 'sweep failed');
          }
          throw error;
        }
      },
      { connection: redis, prefix, name: workerName, concurrency: 1, lockDuration: 60_000, autorun: false },
    );
    sweepWorker.on('error', (error) => log.error({ err: error.message }, 'sweep worker error'));
  }

  // The canary (LOGZIP_CANARY_INTERVAL): one run per interval across the workers, like the sweeper.
  const canary =
    settings.canaryIntervalMs > 0
      ? await startCanarySchedule({
          redis,
          queuePrefix: prefix,
          intervalMs: settings.canaryIntervalMs,
          workerName,
          store,
          state,
          incoming: config.incoming,
          output: config.output,
          logIdPattern: config.logIdPattern,
          producer,
          routes,
          registry: metrics.registry,
          logger,
        })
      : undefined;

  // The Lambda's on-failure destination: SQS in AWS, a Redis list with the local emulator.
  const drainOptions = {
    state,
    logIdPattern: config.logIdPattern,
    logger,
    alerter,
    onRecorded: (_failure: unknown, record: { code: string }) =>
      metrics.lambdaFailures.inc({ code: record.code }),
    onUnparseable: () => metrics.lambdaUnparseable.inc(),
  };
  let drain: Drain;
  let ownSqs: SQSClient | undefined;
  const sqsClient = (): SQSClient => {
    if (options.sqs !== undefined) return options.sqs;
    const endpoint = config.env.AWS_ENDPOINT_URL_SQS;
    const region = config.env.AWS_REGION ?? (endpoint === undefined ? undefined : 'us-east-1');
    ownSqs ??= new SQSClient({
      ...(region === undefined ? {} : { region }),
      ...(endpoint === undefined ? {} : { endpoint }),
    });
    return ownSqs;
  };
  if (settings.lambdaFailureQueueUrl !== undefined) {
    drain = startSqsDrain({ ...drainOptions, sqs: sqsClient(), queueUrl: settings.lambdaFailureQueueUrl });
  } else {
    const drainRedis = redis.duplicate();
    // ioredis prints "Unhandled error event" for a connection without a listener during an outage.
    drainRedis.on('error', (error: Error) =>
      log.debug({ err: error.message }, 'drain Redis connection error'),
    );
    drain = startRedisDrain({ ...drainOptions, redis: drainRedis });
  }

  // Stored bulk operations (re-enqueue / purge a frozen selection), one at a time per process.
  const operations = startOperationsWorker({
    redis,
    operations: createRedisOperationStore({ redis, namespace }),
    prefix,
    logger,
    store,
    state,
    producer,
    incoming: config.incoming,
    output: config.output,
    logIdPattern: config.logIdPattern,
  });
  // Buffered mode: the trigger queue under the `queue` route, and its dead-letter queue always.
  const buffered =
    config.env.LOGZIP_TRIGGER_QUEUE_URL === undefined || config.env.LOGZIP_TRIGGER_MODE !== 'buffered'
      ? undefined
      : await startBufferedConsumers({
          sqs: sqsClient(),
          queueUrl: config.env.LOGZIP_TRIGGER_QUEUE_URL,
          producer,
          routes,
          incoming: config.incoming,
          logIdPattern: config.logIdPattern,
          logger,
          drainOptions,
          onStored: (outcome) => metrics.notificationsStored.inc({ outcome }),
        });

  void worker
    .run()
    .catch((error: unknown) => log.error({ err: messageOf(error) }, 'worker stopped with an error'));
  void sweepWorker
    ?.run()
    .catch((error: unknown) => log.error({ err: messageOf(error) }, 'sweep worker stopped'));

  let closing = false;
  let server: MetricsServer | undefined;
  if (options.http !== false) {
    server = await startMetricsServer({
      port: settings.metricsPort,
      registry: metrics.registry,
      health: () => {
        const redisReady = redis.status === 'ready';
        const running = worker.isRunning();
        return {
          ok: redisReady && running && !closing,
          redis: redis.status,
          worker: closing ? 'closing' : running ? 'running' : 'stopped',
          activeJobs: processor.activeCount(),
          concurrency: settings.concurrency,
        };
      },
    });
  }
  log.info(
    {
      queue: QUEUE_NAME,
      prefix,
      concurrency: settings.concurrency,
      lockDurationMs: settings.lockDurationMs,
      maxStalledCount: settings.maxStalledCount,
      sweepIntervalMs: settings.sweepIntervalMs,
      sweepGraceMs: settings.sweepGraceMs,
      drain: settings.lambdaFailureQueueUrl ?? `redis:${DEFAULT_KEYS.lambdaDestination}`,
      canaryIntervalMs: settings.canaryIntervalMs,
      port: server?.port,
    },
    `worker started${server === undefined ? '' : `; /healthz and /metrics on port ${server.port}`}`,
  );

  let closed: Promise<{ handedBack: number; forced: boolean }> | undefined;
  async function close(): Promise<{ handedBack: number; forced: boolean }> {
    closing = true;
    log.info(
      { activeJobs: processor.activeCount(), deadlineMs: settings.shutdownTimeoutMs },
      'shutting down',
    );
    const stopWorker = worker.close();
    sweepAbort.abort();
    const others = Promise.allSettled([
      sweepWorker?.close(),
      drain.stop(),
      operations.close(),
      canary?.close(),
      buffered?.stop(),
      digestFlush.stop(),
    ]);
    let handedBack = 0;
    let forced = false;
    const first = await withDeadline(stopWorker, settings.shutdownTimeoutMs);
    if (!first.done) {
      handedBack = processor.handBackAll('shutdown deadline reached');
      log.warn({ handedBack }, 'shutdown deadline reached: stopping active jobs and handing them back');
      const second = await withDeadline(stopWorker, 10_000);
      if (!second.done) {
        forced = true;
        log.error(
          {},
          'worker.close() did not finish: forcing it (jobs still active will stall and run again)',
        );
        await withDeadline(worker.close(true), 5_000);
      }
    }
    await withDeadline(others, 10_000);
    // A final failure's record and alert (bounded by the alerter's own timeouts).
    await withDeadline(Promise.allSettled([...failedHandlers]), 15_000);
    await Promise.allSettled([sweepQueue?.close(), producer.close(), server?.close()]);
    ownSqs?.destroy();
    await redis.quit().catch(() => redis.disconnect());
    log.info({ handedBack, forced }, 'worker stopped');
    return { handedBack, forced };
  }

  return {
    worker,
    producer,
    metrics,
    port: server?.port,
    sweepNow: (sweepOptions = {}) => runSweep(sweepOptions.dryRun ?? false),
    close: () => {
      closed ??= close();
      return closed;
    },
    redisReady: () => redis.status === 'ready',
  };
}
