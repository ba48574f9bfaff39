import { hostname } from 'node:os';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  fullSweep,
  type Logger,
  type ObjectStore,
  QUEUE_NAME,
  type RouteStore,
  type StateStore,
  type SweepReport,
  sweep,
  type Tracer,
} from '@logzip/core';
import {
  createAlerterFromConfig,
  createGroupedAlerter,
  type FailureAlerter,
  startDigestFlush,
} from '@logzip/core/alerts';
import {
  type BullmqProducer,
  checkRedis,
  createBullmqProducer,
  createExtractProcessor,
  createRedis,
  createRedisRouteStore,
  type RedisKeys,
  readHeartbeats,
  readSweepSnapshot,
  redisKeys,
  startOperationsWorker,
  sweepSnapshotPublisher,
} from '@logzip/core/bullmq';
import {
  createFailureIndexFromConfig,
  createRedisDigestGate,
  createRedisFailureGroups,
  createRedisOperationStore,
  indexKeys,
  readActivity,
} from '@logzip/core/redis-index';
import { createGroupedStateStore, isIndexedStateStore } from '@logzip/core/state';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { startBufferedConsumers } from './buffered.js';
import { startCanarySchedule } from './canary-schedule.js';
import type { WorkerConfig } from './config.js';
import { type Drain, startRedisDrain, startSqsDrain } from './drain.js';
import { startHeartbeat } from './heartbeat.js';
import { type MetricsServer, startMetricsServer } from './http.js';
import { createWorkerMetrics, type WorkerMetrics } from './metrics.js';

/** The queue of scheduled sweeps (kept apart from extraction jobs, which it would fail validation of). */
export const SWEEP_QUEUE_NAME = 'logzip-sweep';
export const SWEEP_SCHEDULER_ID = 'logzip-sweep';
/** The slow schedule of full sweeps (LOGZIP_SWEEP_FULL_INTERVAL), on the same queue. */
export const FULL_SWEEP_SCHEDULER_ID = 'logzip-sweep-full';

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
  /** Spans per job (loadTracer from OTEL_*); none when not given. */
  tracer?: Tracer;
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

/** Connects the worker's Redis and checks it (version, eviction policy); throws when it cannot. */
async function connectRedis(options: StartWorkerOptions, log: Logger): Promise<Redis> {
  const redis = createRedis(options.config.redisUrl, { forWorker: true, logger: log });
  let check: Awaited<ReturnType<typeof checkRedis>>;
  try {
    check = await checkRedis(redis, { timeoutMs: options.redisTimeoutMs ?? 10_000 });
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  for (const warning of check.warnings) log.warn({ redisVersion: check.version }, `Redis: ${warning}`);
  log.info({ redisVersion: check.version, maxmemoryPolicy: check.maxmemoryPolicy }, 'connected to Redis');
  return redis;
}

/** What the parts of a worker process share once Redis is up. */
interface Shared {
  options: StartWorkerOptions;
  config: WorkerConfig;
  settings: WorkerConfig['worker'];
  log: Logger;
  redis: Redis;
  keys: RedisKeys;
  prefix: string;
  workerName: string;
  state: StateStore;
  producer: BullmqProducer;
  routes: RouteStore;
  metrics: WorkerMetrics;
  alerter: FailureAlerter;
  digestFlush: { stop(): Promise<void> };
}

/** The state store, producer, alerter, route store and metrics every part uses. */
function createShared(options: StartWorkerOptions, redis: Redis, log: Logger): Shared {
  const { config, logger, store } = options;
  const settings = config.worker;
  const prefix = settings.queuePrefix;
  const namespace = config.indexNamespace;
  const keys = redisKeys(config.keyNamespace);
  // Every failure record this process writes (attempts, final failures, resolves, the drain's)
  // moves its log ID into or out of its failure group in the same call.
  const groups = createRedisFailureGroups({ redis, namespace });
  const state = createGroupedStateStore(options.state, groups, { logger: log });
  const producer = createBullmqProducer({ connection: redis, prefix, keys });
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
  const metrics = createWorkerMetrics({
    queueCounts: () => producer.getCounts(),
    lastSweep: () => readSweepSnapshot(redis, prefix, keys),
    heartbeats: () => readHeartbeats(redis, prefix, keys),
    oldestWaiting: async () => {
      const [job] = await producer.queue.getJobs(['wait'], 0, 0, true);
      return job?.timestamp;
    },
    activity: () => readActivity(redis, indexKeys(namespace), new Date()),
  });
  return {
    options,
    config,
    settings,
    log,
    redis,
    keys,
    prefix,
    workerName: `${hostname()}:${process.pid}`,
    state,
    producer,
    routes: createRedisRouteStore(redis, keys.route),
    metrics,
    alerter,
    digestFlush,
  };
}

/** The extraction worker and its event handlers; `eventHandlers` are those still running. */
function createExtractionWorker(shared: Shared) {
  const { options, config, settings, log, metrics } = shared;
  const processor = createExtractProcessor({
    source: options.store,
    output: options.store,
    state: shared.state,
    outputLocation: config.output,
    limits: config.limits,
    fallbackEncoding: config.fallbackEncoding,
    logger: options.logger,
    metrics,
    // A stalled job runs again no sooner than half a lock duration after its worker died; the dead
    // run's lease lasts at most one lock duration, so waiting 1.5 lock durations always gets it.
    leaseTtlMs: settings.lockDurationMs,
    leaseWaitMs: Math.round(settings.lockDurationMs * 1.5),
    alerter: shared.alerter,
    requeue: (job) => shared.producer.enqueue(job),
    ...(options.tracer === undefined ? {} : { tracer: options.tracer }),
  });
  const worker = new Worker(QUEUE_NAME, processor.process, {
    connection: shared.redis,
    prefix: shared.prefix,
    name: shared.workerName,
    concurrency: settings.concurrency,
    lockDuration: settings.lockDurationMs,
    // A dead worker's job is found within about one lock duration plus one check.
    stalledInterval: Math.min(30_000, settings.lockDurationMs),
    maxStalledCount: settings.maxStalledCount,
    autorun: false,
  });
  // Event handlers still writing a record, sending an alert or queueing a newer upload: close()
  // lets them finish.
  const eventHandlers = new Set<Promise<void>>();
  const track = (handling: Promise<void>, what: string) => {
    const tracked = handling.catch((e: unknown) => log.error({ err: messageOf(e) }, `${what} handler`));
    eventHandlers.add(tracked);
    void tracked.finally(() => eventHandlers.delete(tracked));
  };
  worker.on('failed', (job, error) => track(processor.onFailed(job, error), 'failed-event'));
  worker.on('completed', (job, result) => track(processor.onCompleted(job, result), 'completed-event'));
  worker.on('error', (error) => log.error({ err: error.message }, 'worker error'));
  worker.on('stalled', (jobId) => {
    metrics.jobsStalled.inc();
    log.warn({ jobId }, 'job stalled (its worker died or lost its lock): it runs again');
  });
  worker.on('lockRenewalFailed', (jobIds) => log.error({ jobIds }, 'could not renew job locks'));
  return { processor, worker, eventHandlers };
}

/**
 * The sweeper: a job scheduler shared by every worker process, so one sweep runs per interval. With
 * the index (every deployment; tests may leave it out) the periodic sweep checks only the pending
 * set, and a full sweep reads everything on the slow schedule (LOGZIP_SWEEP_FULL_INTERVAL).
 */
async function startSweeper(shared: Shared) {
  const { options, config, settings, log, metrics, redis, prefix } = shared;
  const abort = new AbortController();
  const index = isIndexedStateStore(options.state) ? createFailureIndexFromConfig(config, redis) : undefined;
  const sweepOptions = (dryRun: boolean) => ({
    signal: abort.signal,
    store: options.store,
    incoming: config.incoming,
    state: shared.state,
    producer: shared.producer,
    routes: shared.routes,
    logIdPattern: config.logIdPattern,
    graceMs: settings.sweepGraceMs,
    dryRun,
    logger: options.logger,
    publish: sweepSnapshotPublisher(redis, prefix, shared.keys),
    ...(index === undefined
      ? {}
      : {
          pending: index.pending,
          index,
          listUnderQueueRoute: config.env.LOGZIP_TRIGGER_MODE !== 'buffered',
        }),
  });
  const runSweep = async (dryRun: boolean, full = false): Promise<SweepReport> => {
    if (!full) return sweep(sweepOptions(dryRun));
    const result = await fullSweep({
      ...sweepOptions(dryRun),
      owner: `${shared.workerName}:full-sweep`,
      ratePerSecond: config.env.LOGZIP_SWEEP_FULL_RATE,
      ...(config.env.LOGZIP_SWEEP_INVENTORY === undefined
        ? {}
        : { inventory: config.env.LOGZIP_SWEEP_INVENTORY }),
    });
    if (result.status === 'done') return result.report;
    throw new Error(
      result.status === 'busy'
        ? 'another full sweep is running (its lock is held): this one is skipped'
        : 'the full sweep was interrupted: the next one resumes from its checkpoint',
    );
  };
  if (settings.sweepIntervalMs <= 0) return { runSweep, abort, queue: undefined, worker: undefined };
  const queue = new Queue(SWEEP_QUEUE_NAME, { connection: redis, prefix });
  queue.on('error', (error) => log.warn({ err: error.message }, 'sweep queue error'));
  await queue.upsertJobScheduler(
    SWEEP_SCHEDULER_ID,
    { every: settings.sweepIntervalMs },
    { name: 'sweep', data: {}, opts: { removeOnComplete: { count: 50 }, removeOnFail: { count: 50 } } },
  );
  const fullEvery = index === undefined ? 0 : config.env.LOGZIP_SWEEP_FULL_INTERVAL;
  if (fullEvery > 0) {
    await queue.upsertJobScheduler(
      FULL_SWEEP_SCHEDULER_ID,
      { every: fullEvery },
      {
        name: 'sweep-full',
        data: {},
        opts: { removeOnComplete: { count: 20 }, removeOnFail: { count: 20 } },
      },
    );
  } else {
    await queue.removeJobScheduler(FULL_SWEEP_SCHEDULER_ID);
  }
  const worker = new Worker(
    SWEEP_QUEUE_NAME,
    async (job) => {
      try {
        const report = await runSweep(false, job.name === 'sweep-full');
        metrics.sweeps.inc({ outcome: 'ok' });
        metrics.sweepEnqueued.inc({ route: report.summary.route }, report.summary.enqueued);
        return report.summary;
      } catch (error) {
        if (abort.signal.aborted) {
          log.info({}, 'sweep stopped by the shutdown; the next one starts over');
        } else {
          metrics.sweeps.inc({ outcome: 'error' });
          log.error({ err: messageOf(error) }, 'sweep failed');
        }
        throw error;
      }
    },
    {
      connection: redis,
      prefix,
      name: shared.workerName,
      concurrency: 1,
      lockDuration: 60_000,
      autorun: false,
    },
  );
  worker.on('error', (error) => log.error({ err: error.message }, 'sweep worker error'));
  return { runSweep, abort, queue, worker };
}

/** An SQS client built on first use (the failure queue, buffered mode), unless one was given. */
function lazySqs(shared: Shared) {
  let own: SQSClient | undefined;
  return {
    get(): SQSClient {
      if (shared.options.sqs !== undefined) return shared.options.sqs;
      const endpoint = shared.config.env.AWS_ENDPOINT_URL_SQS;
      const region = shared.config.env.AWS_REGION ?? (endpoint === undefined ? undefined : 'us-east-1');
      own ??= new SQSClient({
        ...(region === undefined ? {} : { region }),
        ...(endpoint === undefined ? {} : { endpoint }),
      });
      return own;
    },
    destroy: () => own?.destroy(),
  };
}

/**
 * What drains failures into records: the Lambda's on-failure destination (SQS in AWS, a Redis list
 * with the local emulator) and, in buffered mode, the trigger queue and its dead-letter queue.
 */
async function startDrains(shared: Shared, sqs: ReturnType<typeof lazySqs>) {
  const { config, settings, log, metrics } = shared;
  const drainOptions = {
    state: shared.state,
    logIdPattern: config.logIdPattern,
    logger: shared.options.logger,
    alerter: shared.alerter,
    onRecorded: (_failure: unknown, record: { code: string }) =>
      metrics.lambdaFailures.inc({ code: record.code }),
    onUnparseable: () => metrics.lambdaUnparseable.inc(),
  };
  let drain: Drain;
  if (settings.lambdaFailureQueueUrl !== undefined) {
    drain = startSqsDrain({ ...drainOptions, sqs: sqs.get(), queueUrl: settings.lambdaFailureQueueUrl });
  } else {
    const drainRedis = shared.redis.duplicate();
    // ioredis prints "Unhandled error event" for a connection without a listener during an outage.
    drainRedis.on('error', (error: Error) =>
      log.debug({ err: error.message }, 'drain Redis connection error'),
    );
    drain = startRedisDrain({ ...drainOptions, redis: drainRedis, key: shared.keys.lambdaDestination });
  }
  const queueUrl = config.env.LOGZIP_TRIGGER_QUEUE_URL;
  const buffered =
    queueUrl === undefined || config.env.LOGZIP_TRIGGER_MODE !== 'buffered'
      ? undefined
      : await startBufferedConsumers({
          sqs: sqs.get(),
          queueUrl,
          producer: shared.producer,
          routes: shared.routes,
          incoming: config.incoming,
          logIdPattern: config.logIdPattern,
          logger: shared.options.logger,
          drainOptions,
          onStored: (outcome) => metrics.notificationsStored.inc({ outcome }),
        });
  return { drain, buffered };
}

/** The canary (LOGZIP_CANARY_INTERVAL): one run per interval across the workers, like the sweeper. */
function startCanary(shared: Shared) {
  const { options, config, settings } = shared;
  if (settings.canaryIntervalMs <= 0) return undefined;
  return startCanarySchedule({
    redis: shared.redis,
    queuePrefix: shared.prefix,
    keys: shared.keys,
    intervalMs: settings.canaryIntervalMs,
    workerName: shared.workerName,
    store: options.store,
    state: shared.state,
    incoming: config.incoming,
    output: config.output,
    logIdPattern: config.logIdPattern,
    producer: shared.producer,
    routes: shared.routes,
    registry: shared.metrics.registry,
    logger: options.logger,
  });
}

/** Everything close() stops. */
interface Parts {
  shared: Shared;
  extraction: ReturnType<typeof createExtractionWorker>;
  sweeper: Awaited<ReturnType<typeof startSweeper>>;
  drains: Awaited<ReturnType<typeof startDrains>>;
  operations: { close(): Promise<unknown> };
  canary: { close(): Promise<unknown> } | undefined;
  sqs: ReturnType<typeof lazySqs>;
  server: MetricsServer | undefined;
  heartbeat: ReturnType<typeof startHeartbeat>;
}

/**
 * Active jobs get the shutdown deadline to finish, then are handed back (and the worker forced shut
 * if it still hangs); the other parts stop beside it; connections close last.
 */
async function closeParts(parts: Parts): Promise<{ handedBack: number; forced: boolean }> {
  const { shared, extraction, sweeper, drains } = parts;
  const { log, settings, redis } = shared;
  const { worker, processor } = extraction;
  log.info({ activeJobs: processor.activeCount(), deadlineMs: settings.shutdownTimeoutMs }, 'shutting down');
  const stopWorker = worker.close();
  const beatStopped = parts.heartbeat.stop();
  sweeper.abort.abort();
  const others = Promise.allSettled([
    sweeper.worker?.close(),
    drains.drain.stop(),
    parts.operations.close(),
    parts.canary?.close(),
    drains.buffered?.stop(),
    shared.digestFlush.stop(),
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
      log.error({}, 'worker.close() did not finish: forcing it (jobs still active will stall and run again)');
      await withDeadline(worker.close(true), 5_000);
    }
  }
  await withDeadline(others, 10_000);
  // A final failure's record and alert (bounded by the alerter's own timeouts), and the follow-up
  // jobs of uploads that landed while their log ID's job finished.
  await withDeadline(Promise.allSettled([...extraction.eventHandlers]), 15_000);
  await Promise.allSettled([
    sweeper.queue?.close(),
    shared.producer.close(),
    parts.server?.close(),
    beatStopped,
  ]);
  parts.sqs.destroy();
  await redis.quit().catch(() => redis.disconnect());
  log.info({ handedBack, forced }, 'worker stopped');
  return { handedBack, forced };
}

/** /healthz and /metrics; healthy while Redis is ready and the worker runs and is not closing. */
function startHealthServer(
  shared: Shared,
  extraction: ReturnType<typeof createExtractionWorker>,
  closing: () => boolean,
) {
  const { redis, settings } = shared;
  return startMetricsServer({
    port: settings.metricsPort,
    registry: shared.metrics.registry,
    health: () => {
      const redisReady = redis.status === 'ready';
      const running = extraction.worker.isRunning();
      return {
        ok: redisReady && running && !closing(),
        redis: redis.status,
        worker: closing() ? 'closing' : running ? 'running' : 'stopped',
        activeJobs: extraction.processor.activeCount(),
        concurrency: settings.concurrency,
      };
    },
  });
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
  const log = options.logger.child({ component: 'worker' });
  const redis = await connectRedis(options, log);
  const shared = createShared(options, redis, log);
  const { settings } = shared;
  const extraction = createExtractionWorker(shared);
  const sweeper = await startSweeper(shared);
  const canary = await startCanary(shared);
  const sqs = lazySqs(shared);
  const drains = await startDrains(shared, sqs);
  // Stored bulk operations (re-enqueue / purge a frozen selection), one at a time per process.
  const operations = startOperationsWorker({
    redis,
    operations: createRedisOperationStore({ redis, namespace: options.config.indexNamespace }),
    prefix: shared.prefix,
    logger: options.logger,
    store: options.store,
    state: shared.state,
    producer: shared.producer,
    incoming: options.config.incoming,
    output: options.config.output,
    logIdPattern: options.config.logIdPattern,
  });
  void extraction.worker
    .run()
    .catch((error: unknown) => log.error({ err: messageOf(error) }, 'worker stopped with an error'));
  void sweeper.worker
    ?.run()
    .catch((error: unknown) => log.error({ err: messageOf(error) }, 'sweep worker stopped'));

  let closing = false;
  const server =
    options.http === false ? undefined : await startHealthServer(shared, extraction, () => closing);
  log.info(
    {
      queue: QUEUE_NAME,
      prefix: shared.prefix,
      concurrency: settings.concurrency,
      lockDurationMs: settings.lockDurationMs,
      maxStalledCount: settings.maxStalledCount,
      sweepIntervalMs: settings.sweepIntervalMs,
      sweepGraceMs: settings.sweepGraceMs,
      drain: settings.lambdaFailureQueueUrl ?? `redis:${shared.keys.lambdaDestination}`,
      canaryIntervalMs: settings.canaryIntervalMs,
      port: server?.port,
    },
    `worker started${server === undefined ? '' : `; /healthz and /metrics on port ${server.port}`}`,
  );

  const heartbeat = startHeartbeat({
    redis,
    queuePrefix: shared.prefix,
    keys: shared.keys,
    name: shared.workerName,
    intervalMs: settings.heartbeatIntervalMs,
    concurrency: settings.concurrency,
    activeJobs: () => extraction.processor.activeCount(),
    logger: log,
  });
  const parts: Parts = { shared, extraction, sweeper, drains, operations, canary, sqs, server, heartbeat };
  let closed: Promise<{ handedBack: number; forced: boolean }> | undefined;
  return {
    worker: extraction.worker,
    producer: shared.producer,
    metrics: shared.metrics,
    port: server?.port,
    sweepNow: (sweepOptions = {}) => sweeper.runSweep(sweepOptions.dryRun ?? false),
    close: () => {
      closing = true;
      closed ??= closeParts(parts);
      return closed;
    },
    redisReady: () => redis.status === 'ready',
  };
}
