import { parseArgs } from 'node:util';
import { type FullSweepProgress, formatConfigErrors, type SweepReport } from '@logzip/core';
import { readAdminConfig } from '../../config.js';
import { usageOnError } from '../args.js';
import { operatorName } from '../backend.js';
import { EXIT, ExitError, usageError } from '../exit.js';
import { type CliIo, createProgressBar, formatSeconds, printJson } from '../io.js';
import { table } from '../render.js';

/**
 * `logzip sweep [--dry-run] [--json]`: one run of the worker's periodic sweeper (the pending
 * archives past their grace time; archives nobody extracted are enqueued, under the lambda route
 * only those older than LOGZIP_SWEEP_GRACE). `--full` reads the whole incoming prefix (or an S3
 * Inventory report) instead: `--rate`, `--parallel`, `--inventory`, `--restart`. Always direct.
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
        full: { type: 'boolean' },
        rate: { type: 'string' },
        parallel: { type: 'string' },
        inventory: { type: 'string' },
        restart: { type: 'boolean' },
      },
    }),
  );
  if (positionals.length > 0) throw usageError(`unexpected argument "${positionals[0]}"`);
  const dryRun = values['dry-run'] ?? false;
  const full = values.full ?? false;
  for (const flag of ['rate', 'parallel', 'inventory', 'restart'] as const) {
    if (values[flag] !== undefined && !full) throw usageError(`--${flag} goes with --full`);
  }
  const whole = (flag: 'rate' | 'parallel', min: number): number | undefined => {
    const text = values[flag];
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min)
      throw usageError(`--${flag} "${text}" is not a whole number of at least ${min}`);
    return n;
  };
  const rate = whole('rate', 0);
  const parallel = whole('parallel', 1);
  const parsed = readAdminConfig(io.env, { requireToken: false });
  if (parsed.config === undefined) throw new ExitError(EXIT.config, formatConfigErrors(parsed.errors));
  const config = parsed.config;
  const [{ createLogger }, { createAdminContext }, { sweep, fullSweep }, { sweepSnapshotPublisher }] =
    await Promise.all([
      import('@logzip/core/logger'),
      import('../../context.js'),
      import('@logzip/core'),
      import('@logzip/core/bullmq'),
    ]);
  const logger = createLogger({ name: 'logzip', level: io.env['LOG_LEVEL'] ?? 'warn', fd: 2 });
  let ctx: Awaited<ReturnType<typeof createAdminContext>>;
  try {
    ctx = await createAdminContext(config, { logger, redisTimeoutMs: 5_000 });
  } catch (error) {
    throw new ExitError(EXIT.failed, error instanceof Error ? error.message : String(error));
  }
  try {
    // A real run also publishes the backlog for the workers' metrics and the overview.
    const options = {
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
      pending: ctx.index.pending,
      index: ctx.index,
      listUnderQueueRoute: config.env.LOGZIP_TRIGGER_MODE !== 'buffered',
    };
    const report = full
      ? await runFull(
          io,
          {
            ...options,
            ratePerSecond: rate ?? config.env.LOGZIP_SWEEP_FULL_RATE,
            ...(parallel === undefined ? {} : { parallel }),
            ...((values.inventory ?? config.env.LOGZIP_SWEEP_INVENTORY) === undefined
              ? {}
              : { inventory: (values.inventory ?? config.env.LOGZIP_SWEEP_INVENTORY) as string }),
            restart: values.restart ?? false,
            owner: `${operatorName(io.env)}@cli-${process.pid}`,
          },
          fullSweep,
          values.json ?? false,
        )
      : await sweep(options);
    const s = report.summary;
    await ctx.audit.record({
      operator: operatorName(io.env),
      action: 'sweep',
      outcome: s.errors > 0 ? 'error' : 'ok',
      details: {
        channel: 'cli',
        dryRun,
        mode: s.mode,
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
        `${s.mode} sweep, route ${s.route}${dryRun ? ' (dry run)' : ''}: ${s.scanned} ${s.mode === 'pending' ? 'pending entr(ies)' : 'object(s)'}, ${s.archives} archive(s): ` +
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

type FullSweep = typeof import('@logzip/core').fullSweep;

/** The full sweep with its progress (a bar on a terminal, JSON lines on stderr with --json); Ctrl-C stops after a batch. */
async function runFull(
  io: CliIo,
  options: Parameters<FullSweep>[0],
  fullSweep: FullSweep,
  json: boolean,
): Promise<SweepReport> {
  const bar = createProgressBar(io, 'sweep');
  let lastLine = 0;
  const onProgress = (p: FullSweepProgress) => {
    if (json) {
      const now = Date.now();
      if (now - lastLine < 1_000 && p.unitsDone < p.units) return;
      lastLine = now;
      io.stderr.write(`${JSON.stringify({ progress: p })}\n`);
      return;
    }
    const eta = p.etaSeconds === undefined ? '' : ` ETA ${formatSeconds(p.etaSeconds)}`;
    bar.update(
      p.unitsDone,
      p.units,
      `ranges · ${p.scanned} listed, ${p.extracted} extracted, ${p.unprocessed} not · ${p.rate}/s${eta}`,
    );
  };
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let result: Awaited<ReturnType<FullSweep>>;
  try {
    result = await fullSweep({ ...options, signal: stop.signal, onProgress });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    bar.end();
  }
  if (result.status === 'busy') {
    throw new ExitError(
      EXIT.failed,
      "another full sweep is running (a worker's or another CLI's): this one did nothing; wait for it to finish",
      'conflict',
    );
  }
  if (result.status === 'interrupted') {
    const c = result.checkpoint;
    throw new ExitError(
      EXIT.failed,
      `full sweep interrupted after ${c.done.length} range(s): run \`logzip sweep --full\` again to resume where it stopped`,
    );
  }
  return result.report;
}
