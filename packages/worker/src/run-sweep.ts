import { type Logger, type LogzipConfig, LogzipError, type ObjectStore, type StateStore } from '@logzip/core';
import {
  createBullmqProducer,
  createRedis,
  createRedisRouteStore,
  DEFAULT_QUEUE_PREFIX,
  waitForRedis,
} from '@logzip/core/bullmq';
import { createStorage } from '@logzip/core/runtime';
import type { Redis } from 'ioredis';
import { type SweepReport, sweep } from './sweeper.js';
import { sweepSnapshotKey } from './worker.js';

export interface RunSweepOptions {
  /** A validated configuration (readConfig): incoming bucket and prefix, REDIS_URL, LOGZIP_SWEEP_GRACE. */
  config: LogzipConfig;
  dryRun?: boolean;
  logger?: Logger;
  /** Storage to use instead of createStorage(config). */
  store?: ObjectStore;
  state?: StateStore;
  /** A Redis client to use (not closed); by default one is made from config.redisUrl and closed after. */
  redis?: Redis;
  /** BullMQ key prefix (LOGZIP_QUEUE_PREFIX; default `bull`). */
  queuePrefix?: string;
}

/**
 * One sweep with everything built from the configuration, as `logzip sweep [--dry-run]` runs it:
 * returns `{ results, summary }` (bulk-command shape). A real run also publishes the backlog for
 * the workers' metrics. Throws `storage_unavailable` when Redis cannot be reached.
 *
 * @example
 * const { results, summary } = await runSweep({ config, dryRun: true, logger });
 */
export async function runSweep(options: RunSweepOptions): Promise<SweepReport> {
  const { config } = options;
  const bucket = config.incoming.bucket;
  if (bucket === undefined)
    throw new LogzipError('invalid_key', 'LOGZIP_INCOMING_BUCKET is not set: nothing to sweep');
  const prefix = options.queuePrefix ?? DEFAULT_QUEUE_PREFIX;
  const storage =
    options.store === undefined || options.state === undefined
      ? createStorage(config, options.logger === undefined ? {} : { logger: options.logger })
      : undefined;
  const store: ObjectStore = options.store ?? (storage?.store as ObjectStore);
  const state: StateStore = options.state ?? (storage?.state as StateStore);
  const redis =
    options.redis ??
    createRedis(config.redisUrl, options.logger === undefined ? {} : { logger: options.logger });
  const producer = createBullmqProducer({ connection: redis, prefix });
  try {
    await waitForRedis(redis, 10_000);
    return await sweep({
      store,
      incoming: { bucket, prefix: config.incoming.prefix },
      state,
      producer,
      routes: createRedisRouteStore(redis),
      logIdPattern: config.logIdPattern,
      graceMs: config.env.LOGZIP_SWEEP_GRACE,
      dryRun: options.dryRun ?? false,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      publish: async (snapshot) => {
        await redis.set(sweepSnapshotKey(prefix), JSON.stringify(snapshot));
      },
    });
  } finally {
    await producer.close().catch(() => {});
    if (options.redis === undefined) await redis.quit().catch(() => redis.disconnect());
  }
}
