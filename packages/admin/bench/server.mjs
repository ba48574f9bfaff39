// The admin service for the load test's ingest flood: dist/server.js's wiring (readAdminConfig →
// createAdminContext → buildApp with createIngestOptions → listen), with one change: the ingest
// rate limit (600 calls a minute per ingest token as shipped) comes from
// BENCH_INGEST_RATE_LIMIT, so a flood measures storing and dispatching archives rather than 429s.
// Used by load.mjs only; run the real service with `node packages/admin/dist/server.js`.
import { createLogger } from '@logzip/core/logger';
import { buildApp, createAdminContext, readAdminConfig } from '../dist/index.js';
import { createIngestOptions } from '../dist/ingest/index.js';

const { config, errors } = readAdminConfig(process.env);
if (config === undefined) {
  process.stderr.write(`${errors.join('\n')}\n`);
  process.exit(78);
}
const logger = createLogger({ name: 'logzip-admin', level: config.env.LOG_LEVEL });
const ctx = await createAdminContext(config, { logger });
const ingest = await createIngestOptions(config, { redis: ctx.redis, logger });
ingest.rateLimit = { max: Number(process.env.BENCH_INGEST_RATE_LIMIT ?? 600), timeWindowMs: 60_000 };
const app = await buildApp({
  ctx,
  adminToken: config.admin.token,
  redis: ctx.redis,
  queues: [ctx.producer.queue],
  publicUrl: config.admin.publicUrl,
  logger,
  ingest,
});
app.addHook('onClose', async () => ctx.close());
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
await app.listen({ host: config.admin.host, port: config.admin.port });
logger.info({ url: config.admin.publicUrl }, 'logzip admin listening');
