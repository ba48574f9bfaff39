#!/usr/bin/env node
/**
 * The worker process: `pnpm --filter @logzip/worker start` (node dist/main.js). The only place
 * that reads process.env, handles signals and calls process.exit.
 */
import { EXIT_CONFIG, formatConfigErrors, isLogzipError, type Tracer } from '@logzip/core';
import { createRedis } from '@logzip/core/bullmq';
import { createLogger } from '@logzip/core/logger';
import { createFailureIndexFromConfig, createRedisFailureGroups } from '@logzip/core/redis-index';
import { createStorage, loadTracer } from '@logzip/core/runtime';
import { type IndexKeeper, startIndexKeeper } from '@logzip/core/state';
import type { Redis } from 'ioredis';
import { readWorkerConfig, unknownVariables } from './config.js';
import { closeWorkerParts } from './shutdown.js';
import { type RunningWorker, startWorker } from './worker.js';

/**
 * Past the shutdown deadline, a worker whose Redis still answers gets this long to hand its jobs
 * back (within the documented timeout + 15 s a process manager gives before SIGKILL).
 */
const HAND_BACK_GRACE_MS = 10_000;

async function main(): Promise<void> {
  const { config, errors } = readWorkerConfig(process.env);
  if (config === undefined) {
    process.stderr.write(`${formatConfigErrors(errors)}\n`);
    process.exit(EXIT_CONFIG);
  }
  const logger = createLogger({ name: 'logzip-worker', level: config.env.LOG_LEVEL });
  // Lines written asynchronously must reach stdout before the process ends.
  const exit = (code: number): void => {
    const done = () => process.exit(code);
    setTimeout(done, 1_000);
    try {
      logger.flush(done);
    } catch {
      done();
    }
  };
  let tracer: Tracer;
  try {
    tracer = await loadTracer(process.env, 'logzip-worker', logger);
  } catch (error) {
    process.stderr.write(
      `${formatConfigErrors((error as { errors?: string[] }).errors ?? [String(error)])}\n`,
    );
    process.exit(EXIT_CONFIG);
  }
  const unknown = unknownVariables(process.env);
  if (unknown.length > 0) logger.info({ variables: unknown }, 'LOGZIP_* variables the worker does not use');

  let running: RunningWorker | undefined;
  let keeper: IndexKeeper | undefined;
  let indexRedis: Redis | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (signal: string) => {
    if (stopping !== undefined) {
      logger.warn(
        { signal },
        'second signal while shutting down: exiting now (active jobs stall and run again)',
      );
      exit(1);
      return;
    }
    logger.info({ signal }, 'signal received: finishing active jobs');
    // The deadline holds whatever the connections do: closing waits on Redis, and a Redis that is
    // gone is retried forever. Without Redis nothing can be handed back, so there is nothing to
    // wait for at the deadline; with it, handing back gets a short grace.
    const deadline = setTimeout(() => {
      if (running?.redisReady() === true) {
        setTimeout(() => {
          logger.error({}, 'shutdown did not finish after handing jobs back: exiting');
          exit(1);
        }, HAND_BACK_GRACE_MS).unref();
        return;
      }
      logger.error(
        { deadlineMs: config.worker.shutdownTimeoutMs },
        'shutdown deadline reached and Redis is unreachable: exiting (active jobs stall and run again)',
      );
      exit(1);
    }, config.worker.shutdownTimeoutMs);
    deadline.unref();
    stopping = (async () => {
      try {
        await closeWorkerParts({ keeper, running, indexRedis });
        await tracer.shutdown();
        exit(0);
      } catch (error) {
        logger.error({ err: error instanceof Error ? error.message : String(error) }, 'shutdown failed');
        exit(1);
      }
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception: exiting (active jobs will stall and run again)');
    exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason instanceof Error ? reason : String(reason) }, 'unhandled promise rejection');
  });

  try {
    // The index's own connection: its commands must fail fast, not wait like a blocked worker's.
    indexRedis = createRedis(config.redisUrl, { logger });
    const index = createFailureIndexFromConfig(config, indexRedis);
    const storage = createStorage(config, { logger, index });
    running = await startWorker({ config, logger, store: storage.store, state: storage.state, tracer });
    keeper = startIndexKeeper({
      store: storage.store,
      bucket: storage.output.bucket,
      prefix: config.statePrefix,
      index,
      groups: createRedisFailureGroups({ redis: indexRedis, namespace: config.env.LOGZIP_INDEX_PREFIX }),
      logger,
      retentionDays: config.env.LOGZIP_INDEX_RETENTION_DAYS,
      owner: `worker-${process.pid}`,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    logger.fatal(
      { err: message, code: isLogzipError(error) ? error.code : undefined },
      'worker could not start',
    );
    exit(1);
    return;
  }
  // A signal that arrived while starting has already exited; one arriving now closes `running`.
}

void main();
