import { EXIT_CONFIG, formatConfigErrors } from '@logzip/core';
import { redisKeys } from '@logzip/core/bullmq';
import { createLogger } from '@logzip/core/logger';
import { loadTracer } from '@logzip/core/runtime';
import { startIndexKeeper } from '@logzip/core/state';
import { buildApp } from './app.js';
import { readAdminConfig } from './config.js';
import { createAdminContext } from './context.js';
import { createAdminMetrics } from './http/metrics.js';
import { createIngestOptions } from './ingest/index.js';

const SHUTDOWN_DEADLINE_MS = 10_000;

/** The admin service's entry point: validate, connect, listen; the only place that exits. */
async function start(): Promise<void> {
  const result = readAdminConfig(process.env);
  if (result.config === undefined) {
    process.stderr.write(`${formatConfigErrors(result.errors)}\n`);
    process.exit(EXIT_CONFIG);
  }
  const config = result.config;
  const logger = createLogger({ name: 'logzip-admin', level: config.env.LOG_LEVEL });
  const tracer = await loadTracer(process.env, 'logzip-admin', logger).catch((error: unknown) => {
    process.stderr.write(
      `${formatConfigErrors((error as { errors?: string[] }).errors ?? [String(error)])}\n`,
    );
    process.exit(EXIT_CONFIG);
  });
  let ctx: Awaited<ReturnType<typeof createAdminContext>>;
  try {
    ctx = await createAdminContext(config, { logger });
  } catch (error) {
    logger.error(
      { err: error instanceof Error ? error.message : String(error) },
      'cannot start: a dependency is unavailable',
    );
    process.exit(1);
  }
  const app = await buildApp({
    ctx,
    adminToken: config.admin.token as string,
    redis: ctx.redis,
    queues: [ctx.producer.queue],
    publicUrl: config.admin.publicUrl,
    clientLimits: config.admin.clientLimits,
    keys: redisKeys(config.keyNamespace),
    logger,
    ingest: { ...(await createIngestOptions(config, { redis: ctx.redis, logger })), tracer },
    metrics: createAdminMetrics(ctx),
    ...(config.admin.metricsToken === undefined ? {} : { metricsToken: config.admin.metricsToken }),
  });
  // Like the worker, the service rebuilds a missing index (one of them wins the rebuild lock), so
  // its views come back after a Redis loss even where no worker runs.
  const keeper = startIndexKeeper({
    store: ctx.store,
    bucket: ctx.settings.output.bucket,
    prefix: config.statePrefix,
    index: ctx.index,
    ...(ctx.groups === undefined ? {} : { groups: ctx.groups }),
    logger,
    retentionDays: config.env.LOGZIP_INDEX_RETENTION_DAYS,
    owner: `admin-${process.pid}`,
  });
  app.addHook('onClose', async () => {
    await keeper.stop();
    await ctx.close();
    await tracer.shutdown();
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error({}, 'shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error instanceof Error ? error.message : String(error) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  await app.listen({ host: config.admin.host, port: config.admin.port });
  logger.info(
    { url: config.admin.publicUrl, trigger: config.env.LOGZIP_STORAGE_DIR === undefined ? 'aws' : 'local' },
    'logzip admin listening',
  );
}

await start();
