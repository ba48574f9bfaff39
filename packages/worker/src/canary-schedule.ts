import { randomBytes } from 'node:crypto';
import {
  type Logger,
  type ObjectStore,
  parseLogId,
  type RouteStore,
  type StateStore,
  shardedArchiveKey,
} from '@logzip/core';
import { type BullmqProducer, DEFAULT_KEYS, type RedisKeys } from '@logzip/core/bullmq';
import { type CanaryPorts, type CanaryResult, makeCanaryLogId, runCanary } from '@logzip/core/canary';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { type CanarySnapshot, registerCanaryMetrics } from './canary-metrics.js';
import { readSharedSnapshot } from './shared-snapshot.js';

export const CANARY_QUEUE_NAME = 'logzip-canary';
export const CANARY_SCHEDULER_ID = 'logzip-canary';
/** The longest a scheduled run waits for its manifest (shorter when the interval is). */
const MAX_CANARY_TIMEOUT_MS = 10 * 60_000;

export function readCanarySnapshot(
  redis: Redis,
  queuePrefix?: string,
  keys: Pick<RedisKeys, 'canarySnapshot'> = DEFAULT_KEYS,
): Promise<CanarySnapshot | undefined> {
  return readSharedSnapshot<CanarySnapshot>(redis, keys.canarySnapshot(queuePrefix));
}

export interface CanaryScheduleOptions {
  redis: Redis;
  queuePrefix: string;
  /** The deployment's key names (where the last run's snapshot is shared); default `logzip:`. */
  keys?: Pick<RedisKeys, 'canarySnapshot'>;
  intervalMs: number;
  workerName: string;
  store: ObjectStore;
  state: StateStore;
  incoming: { bucket: string; prefix: string };
  output: { bucket: string; prefix: string };
  logIdPattern: RegExp;
  producer: BullmqProducer;
  routes: RouteStore;
  registry: Registry;
  logger: Logger;
}

/**
 * The canary's ports inside the worker: the archive is stored in the incoming bucket and
 * dispatched as the ingest API would (route `queue`: a job; route `lambda`: the trigger's turn),
 * observed through the state store, read back from storage, and deleted key by key.
 */
export function createWorkerCanaryPorts(options: CanaryScheduleOptions): CanaryPorts {
  const { store, state, incoming, output, producer, routes } = options;
  return {
    async send(logId, zip) {
      const key = shardedArchiveKey(incoming.prefix, logId);
      if (parseLogId(key, options.logIdPattern) !== logId)
        throw new Error(`LOGZIP_LOG_ID_PATTERN does not read the log ID ${logId} from ${key}`);
      await store.put(incoming.bucket, key, zip, { size: zip.length, contentType: 'application/zip' });
      const route = await routes.get();
      if (route === 'lambda') return { bucket: incoming.bucket, key, via: 'direct', route };
      const queued = await producer.enqueue({ logId, bucket: incoming.bucket, key, reason: 'upload' });
      if (queued.outcome === 'refused') throw new Error(`the canary job was refused: ${queued.reason}`);
      return { bucket: incoming.bucket, key, via: 'direct', route: 'queue' };
    },
    async observe(logId) {
      const [manifest, failure] = await Promise.all([state.getManifest(logId), state.getFailure(logId)]);
      return {
        ...(manifest === undefined
          ? {}
          : {
              manifest: { entries: manifest.entries, ...(manifest.route ? { route: manifest.route } : {}) },
            }),
        ...(failure === undefined ? {} : { failure }),
      };
    },
    async diagnose(logId, delivery) {
      const [route, job, counts] = await Promise.all([
        routes.get(),
        producer.getJobState(logId),
        producer.getCounts(),
      ]);
      if (delivery.route === 'lambda')
        return `route lambda: the S3 trigger (or the local emulator) did not extract it; check \`logzip route\` for drift and the function's logs`;
      return `route ${route ?? 'unset'}, the canary's job is ${job ?? 'gone'}; queue ${JSON.stringify(counts)}`;
    },
    async cleanup(logId) {
      const files: string[] = [];
      for await (const object of store.list(output.bucket, `${output.prefix}${logId}/`))
        files.push(object.key);
      await store.deleteMany(output.bucket, files);
      await store.deleteMany(incoming.bucket, [shardedArchiveKey(incoming.prefix, logId)]);
      await state.purge(logId);
    },
    readFile: (key) => store.get(output.bucket, key),
  };
}

function outcomeOf(result: CanaryResult): string {
  return result.status === 'ok' || result.status === 'wrong_content' ? result.status : 'failed';
}

/**
 * Runs the canary every `intervalMs` through a BullMQ job scheduler shared by the workers (one
 * run per interval whichever worker takes it), publishes the last run in Redis for every worker's
 * metrics, and logs a failed run as an error.
 */
export async function startCanarySchedule(
  options: CanaryScheduleOptions,
): Promise<{ close(): Promise<void> }> {
  const { redis, queuePrefix: prefix, logger } = options;
  const keys = options.keys ?? DEFAULT_KEYS;
  const metrics = registerCanaryMetrics(options.registry, () => readCanarySnapshot(redis, prefix, keys));
  const ports = createWorkerCanaryPorts(options);
  const timeoutMs = Math.min(options.intervalMs, MAX_CANARY_TIMEOUT_MS);
  const stop = new AbortController();

  const queue = new Queue(CANARY_QUEUE_NAME, { connection: redis, prefix });
  queue.on('error', (error) => logger.warn({ err: error.message }, 'canary queue error'));
  await queue.upsertJobScheduler(
    CANARY_SCHEDULER_ID,
    { every: options.intervalMs },
    { name: 'canary', data: {}, opts: { removeOnComplete: { count: 20 }, removeOnFail: { count: 20 } } },
  );
  const worker = new Worker(
    CANARY_QUEUE_NAME,
    async () => {
      const logId = makeCanaryLogId(new Date(), randomBytes(3).toString('hex'));
      const result = await runCanary(ports, { logId, timeoutMs, signal: stop.signal });
      const previous = await readCanarySnapshot(redis, prefix, keys);
      const snapshot: CanarySnapshot = {
        lastDurationSeconds: result.durationMs / 1000,
        lastOutcome: outcomeOf(result),
        ...(result.status === 'ok'
          ? { lastSuccessAt: new Date().toISOString() }
          : previous?.lastSuccessAt === undefined
            ? {}
            : { lastSuccessAt: previous.lastSuccessAt }),
      };
      await redis.set(keys.canarySnapshot(prefix), JSON.stringify(snapshot));
      metrics.runs.inc({ outcome: snapshot.lastOutcome });
      const fields = {
        logId,
        status: result.status,
        durationMs: result.durationMs,
        problems: result.problems,
      };
      if (result.status === 'ok') logger.info(fields, `canary: ${result.message}`);
      else logger.error(fields, `canary: ${result.message}`);
      return { status: result.status };
    },
    {
      connection: redis,
      prefix,
      name: options.workerName,
      concurrency: 1,
      lockDuration: timeoutMs + 60_000,
      autorun: true,
    },
  );
  worker.on('error', (error) => logger.error({ err: error.message }, 'canary worker error'));
  return {
    async close() {
      // A run in progress stops waiting and cleans up, so close() is not held for its timeout.
      stop.abort();
      await Promise.allSettled([worker.close(), queue.close()]);
    },
  };
}
