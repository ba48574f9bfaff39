import { readdirSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Logger, LogzipConfig, QueueProducer, StateStore, Tracer } from '@logzip/core';
import { createAlerterFromConfig } from '@logzip/core/alerts';
import { createStorage, loadTracer } from '@logzip/core/runtime';
import {
  createGroupedStateStore,
  type FailureGroups,
  type FailureIndex,
  type IndexWriter,
} from '@logzip/core/state';
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
 * The failure index and the failure groups, loaded and connected (one Redis connection) on the
 * first state write, like the producer: the handler's writes then update both in the same call, so
 * a failure that never leaves the Lambda route (a permanent error is not retried and never reaches
 * the on-failure destination) is grouped like the worker's. A write they miss is logged by the
 * state store, and `logzip reindex` rebuilds both.
 */
function lazyIndex(config: LogzipConfig, logger: Logger): { index: IndexWriter; groups: FailureGroups } {
  let loaded: Promise<{ index: FailureIndex; groups: FailureGroups }> | undefined;
  const load = () => {
    loaded ??= Promise.all([import('@logzip/core/bullmq'), import('@logzip/core/redis-index')]).then(
      ([{ createRedis }, { createFailureIndexFromConfig, createRedisFailureGroups }]) => {
        const redis = createRedis(config.redisUrl, { logger, connectTimeoutMs: 2_000 });
        return {
          index: createFailureIndexFromConfig(config, redis),
          groups: createRedisFailureGroups({ redis, namespace: config.indexNamespace }),
        };
      },
    );
    loaded.catch(() => {
      loaded = undefined;
    });
    return loaded;
  };
  const index = async () => (await load()).index;
  const groups = async () => (await load()).groups;
  return {
    index: {
      putFailure: async (summary) => (await index()).putFailure(summary),
      removeFailure: async (logId) => (await index()).removeFailure(logId),
      putManifest: async (summary) => (await index()).putManifest(summary),
      removeManifest: async (logId) => (await index()).removeManifest(logId),
      addAudit: async (entry) => (await index()).addAudit(entry),
      lookup: async (logId) => (await index()).lookup(logId),
      pending: {
        observe: async (archive, at) => (await index()).pending.observe(archive, at),
        settle: async (logId, startedAt) => (await index()).pending.settle(logId, startedAt),
        traceparentOf: async (logId) => (await index()).pending.traceparentOf(logId),
      },
    },
    groups: {
      put: async (member) => (await groups()).put(member),
      remove: async (logId) => (await groups()).remove(logId),
      list: async (query) => (await groups()).list(query),
      get: async (fingerprint) => (await groups()).get(fingerprint),
      members: async (fingerprint, query) => (await groups()).members(fingerprint, query),
      async *scanMembers(fingerprint, pageSize) {
        yield* (await groups()).scanMembers(fingerprint, pageSize);
      },
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
  const redisState = config.redisExplicit ? lazyIndex(config, logger) : undefined;
  const storage = createStorage(config, {
    logger,
    ...(redisState === undefined ? {} : { index: redisState.index }),
  });
  const state: StateStore =
    redisState === undefined
      ? storage.state
      : createGroupedStateStore(storage.state, redisState.groups, { logger });
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
    state,
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
