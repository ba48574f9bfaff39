import { readdirSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Logger, LogzipConfig, QueueProducer, Tracer } from '@logzip/core';
import { createAlerterFromConfig } from '@logzip/core/alerts';
import { createStorage, loadTracer } from '@logzip/core/runtime';
import type { FailureIndex, IndexWriter } from '@logzip/core/state';
import { LambdaConfigError, readLambdaConfig } from './config.js';
import type { HandlerDeps } from './create-handler.js';
import { createLambdaLogger } from './logger.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** What the function's /tmp holds at cold start; logzip itself never writes there. */
export interface TmpUsage {
  dir: string;
  totalBytes: number;
  freeBytes: number;
  usedBytes: number;
  /** Names directly in the folder (another library or an earlier deployment may leave files). */
  entries: number;
}

export function readTmpUsage(dir: string = tmpdir()): TmpUsage | undefined {
  try {
    const stats = statfsSync(dir);
    const totalBytes = stats.blocks * stats.bsize;
    const freeBytes = stats.bavail * stats.bsize;
    return {
      dir,
      totalBytes,
      freeBytes,
      usedBytes: totalBytes - stats.bfree * stats.bsize,
      entries: readdirSync(dir).length,
    };
  } catch {
    return undefined;
  }
}

/**
 * A producer that loads BullMQ and connects to Redis on its first hand-off, once per container:
 * most invocations never hand off, so neither the ~1 MB of queue code nor a Redis connection is
 * paid for at cold start, and an unreachable Redis cannot break extractions that do not need it.
 */
function lazyProducer(
  config: Pick<LogzipConfig, 'redisUrl' | 'queuePrefix' | 'keyNamespace'>,
  logger: Logger,
): QueueProducer {
  let producer: Promise<QueueProducer> | undefined;
  return {
    async enqueue(job) {
      producer ??= import('@logzip/core/bullmq').then(({ createBullmqProducer, createRedis, redisKeys }) =>
        createBullmqProducer({
          connection: createRedis(config.redisUrl, { logger }),
          prefix: config.queuePrefix,
          keys: redisKeys(config.keyNamespace),
        }),
      );
      try {
        return await (await producer).enqueue(job);
      } catch (error) {
        // A failed load is not cached; a failed enqueue keeps the connection (ioredis reconnects).
        if (!(await producer.then(() => true).catch(() => false))) producer = undefined;
        throw error;
      }
    },
  };
}

/**
 * The failure index, loaded and connected on the first state write (like the producer): the
 * handler's writes then update it in the same call. A write it misses is logged by the state
 * store, and the index heals on read or by `logzip reindex`.
 */
function lazyIndex(config: LogzipConfig, logger: Logger): IndexWriter {
  let index: Promise<FailureIndex> | undefined;
  const load = (): Promise<FailureIndex> => {
    index ??= Promise.all([import('@logzip/core/bullmq'), import('@logzip/core/redis-index')]).then(
      ([{ createRedis }, { createFailureIndexFromConfig }]) =>
        createFailureIndexFromConfig(
          config,
          createRedis(config.redisUrl, { logger, connectTimeoutMs: 2_000 }),
        ),
    );
    index.catch(() => {
      index = undefined;
    });
    return index;
  };
  return {
    putFailure: async (summary) => (await load()).putFailure(summary),
    removeFailure: async (logId) => (await load()).removeFailure(logId),
    putManifest: async (summary) => (await load()).putManifest(summary),
    removeManifest: async (logId) => (await load()).removeManifest(logId),
    addAudit: async (entry) => (await load()).addAudit(entry),
    lookup: async (logId) => (await load()).lookup(logId),
    pending: {
      observe: async (archive, at) => (await load()).pending.observe(archive, at),
      settle: async (logId, startedAt) => (await load()).pending.settle(logId, startedAt),
    },
  };
}

/**
 * EMF lines go to stdout like the log lines, written synchronously for the same reason (Lambda may
 * freeze the container right after the handler returns), in one write so they stay whole lines.
 */
export function writeEmfToStdout(records: readonly object[]): void {
  if (records.length === 0) return;
  writeSync(1, `${records.map((record) => JSON.stringify(record)).join('\n')}\n`);
}

/**
 * Everything the handler needs, built from the environment once per container. Throws
 * LambdaConfigError (one message naming every bad variable) so a misconfigured function fails
 * its cold start instead of its events.
 */
export function createLambdaRuntime(env: Record<string, string | undefined>): HandlerDeps {
  const { config, errors } = readLambdaConfig(env);
  // A LOG_LEVEL that is itself invalid is among the errors; the error line still goes out at info.
  const level =
    config?.env.LOG_LEVEL ?? (LOG_LEVELS.includes(env['LOG_LEVEL'] ?? '') ? env['LOG_LEVEL'] : 'info');
  const logger = createLambdaLogger({ level });
  if (config === undefined) {
    const error = new LambdaConfigError(errors);
    logger.error({ errors }, 'invalid configuration');
    throw error;
  }
  const storage = createStorage(config, {
    logger,
    ...(config.redisExplicit ? { index: lazyIndex(config, logger) } : {}),
  });
  const tmp = readTmpUsage();
  logger.info(
    {
      tmp,
      incoming: config.incoming,
      output: config.output,
      maxBytes: config.env.LOGZIP_LAMBDA_MAX_BYTES,
      handoff: config.redisExplicit ? 'queue' : 'none (REDIS_URL not set)',
      ...config.lambda,
    },
    'cold start',
  );
  return {
    config,
    store: storage.store,
    state: storage.state,
    logger,
    metrics: writeEmfToStdout,
    alerter: createAlerterFromConfig(config, { store: storage.store, logger }),
    ...(config.redisExplicit ? { producer: lazyProducer(config, logger) } : {}),
  };
}

/**
 * The function's tracer: OTEL_* as everywhere, the service name defaulting to the function's name.
 * An invalid value fails the cold start with the configuration errors.
 */
export async function createLambdaTracer(
  env: Record<string, string | undefined>,
  logger: Logger,
): Promise<Tracer> {
  try {
    return await loadTracer(env, env['AWS_LAMBDA_FUNCTION_NAME'] || 'logzip-lambda', logger);
  } catch (error) {
    const errors = (error as { errors?: string[] }).errors ?? [String(error)];
    logger.error({ errors }, 'invalid configuration');
    throw new LambdaConfigError(errors);
  }
}
