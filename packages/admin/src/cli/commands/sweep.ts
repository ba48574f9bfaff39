import { parseArgs } from 'node:util';
import { formatConfigErrors } from '@logzip/core';
import { readAdminConfig } from '../../config.js';
import { usageOnError } from '../args.js';
import { operatorName } from '../backend.js';
import { EXIT, ExitError, usageError } from '../exit.js';
import { type CliIo, printJson } from '../io.js';
import { table } from '../render.js';

/**
 * `logzip sweep [--dry-run] [--json]`: one run of the worker's sweeper (archives nobody extracted
 * are enqueued; under the lambda route only those older than LOGZIP_SWEEP_GRACE). Always direct.
 */
export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = usageOnError(() =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
      },
    }),
  );
  if (positionals.length > 0) throw usageError(`unexpected argument "${positionals[0]}"`);
  const dryRun = values['dry-run'] ?? false;
  const parsed = readAdminConfig(io.env, { requireToken: false });
  if (parsed.config === undefined) throw new ExitError(EXIT.config, formatConfigErrors(parsed.errors));
  const config = parsed.config;
  const [{ createLogger }, { createAdminContext }, { sweep }, { sweepSnapshotPublisher }] = await Promise.all(
    [
      import('@logzip/core/logger'),
      import('../../context.js'),
      import('@logzip/core'),
      import('@logzip/core/bullmq'),
    ],
  );
  const logger = createLogger({ name: 'logzip', level: io.env['LOG_LEVEL'] ?? 'warn', fd: 2 });
  let ctx: Awaited<ReturnType<typeof createAdminContext>>;
  try {
    ctx = await createAdminContext(config, { logger, redisTimeoutMs: 5_000 });
  } catch (error) {
    throw new ExitError(EXIT.failed, error instanceof Error ? error.message : String(error));
  }
  try {
    // A real run also publishes the backlog for the workers' metrics and the overview.
    const report = await sweep({
      store: ctx.store,
      incoming: config.incoming,
      state: ctx.state,
      producer: ctx.producer,
      routes: ctx.routes,
      logIdPattern: config.logIdPattern,
      graceMs: config.env.LOGZIP_SWEEP_GRACE,
      dryRun,
      logger,
      publish: sweepSnapshotPublisher(ctx.redis, config.admin.queuePrefix),
    });
    const s = report.summary;
    await ctx.audit.record({
      operator: operatorName(io.env),
      action: 'sweep',
      outcome: s.errors > 0 ? 'error' : 'ok',
      details: {
        channel: 'cli',
        dryRun,
        route: s.route,
        archives: s.archives,
        enqueued: s.enqueued,
        wouldEnqueue: s.wouldEnqueue,
        backlog: s.backlog.count,
        errors: s.errors,
      },
    });
    if (values.json) {
      printJson(io, report);
    } else {
      if (report.results.length > 0) {
        io.stdout.write(
          `${table(
            ['LOG ID', 'OUTCOME', 'DETAIL'],
            report.results.map((r) => [r.logId, r.outcome, r.detail]),
          )}\n\n`,
        );
      }
      io.stdout.write(
        `route ${s.route}${dryRun ? ' (dry run)' : ''}: ${s.scanned} object(s), ${s.archives} archive(s): ` +
          `${s.extracted} extracted, ${s.failed} failed, ${s.unprocessed} not extracted → ` +
          `${dryRun ? `${s.wouldEnqueue} would be enqueued` : `${s.enqueued} enqueued`}, ${s.alreadyQueued} already queued, ` +
          `${s.waitingForTrigger} left to the trigger, ${s.errors} error(s); backlog ${s.backlog.count}\n`,
      );
    }
    return s.errors > 0 ? EXIT.failed : EXIT.ok;
  } finally {
    await ctx.close();
  }
}
