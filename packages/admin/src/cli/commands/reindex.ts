import { parseArgs } from 'node:util';
import { formatConfigErrors, type StateStore } from '@logzip/core';
import { checkIndex, type ReindexProgress, reindex } from '@logzip/core/state';
import { readAdminConfig } from '../../config.js';
import { usageOnError } from '../args.js';
import { operatorName } from '../backend.js';
import { EXIT, ExitError, usageError } from '../exit.js';
import { type CliIo, createProgressBar, formatSeconds, printJson } from '../io.js';

/** Invalid objects listed in the JSON report (the count is always complete). */
const MAX_INVALID_LISTED = 1_000;

/**
 * `logzip reindex [--check] [--json]`: rebuilds the failure index in Redis from the state objects
 * (resumes an interrupted run), or with --check reports drift between the two. Always direct.
 */
export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = usageOnError(() =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { check: { type: 'boolean' }, json: { type: 'boolean' } },
    }),
  );
  if (positionals.length > 0) throw usageError(`unexpected argument "${positionals[0]}"`);
  const parsed = readAdminConfig(io.env, { requireToken: false });
  if (parsed.config === undefined) throw new ExitError(EXIT.config, formatConfigErrors(parsed.errors));
  const config = parsed.config;
  // Storage, one Redis connection and the index: none of the queue or AWS control-plane code.
  const [
    { createLogger },
    { createRedis, waitForRedis },
    { createFailureIndexFromConfig, createRedisFailureGroups },
    { createStorage },
  ] = await Promise.all([
    import('@logzip/core/logger'),
    import('@logzip/core/redis'),
    import('@logzip/core/redis-index'),
    import('@logzip/core/runtime'),
  ]);
  const logger = createLogger({ name: 'logzip', level: io.env['LOG_LEVEL'] ?? 'warn', fd: 2 });
  const redis = createRedis(config.redisUrl, { logger });
  try {
    await waitForRedis(redis, 5_000);
  } catch (error) {
    redis.disconnect();
    throw new ExitError(EXIT.failed, error instanceof Error ? error.message : String(error));
  }
  const index = createFailureIndexFromConfig(config, redis);
  const groups = createRedisFailureGroups({ redis, namespace: config.env.LOGZIP_INDEX_PREFIX });
  const storage = createStorage(config, { logger, index });
  const target = { store: storage.store, bucket: storage.output.bucket, prefix: config.statePrefix, index };
  try {
    if (values.check) {
      const days = config.env.LOGZIP_INDEX_RETENTION_DAYS;
      const drift = await checkIndex({
        ...target,
        ...(days === 0 ? {} : { retainedSince: new Date(Date.now() - days * 86_400_000) }),
      });
      const inStep = drift.missing + drift.stale + drift.orphan === 0;
      if (values.json) printJson(io, { drift, inStep });
      else {
        io.stdout.write(
          `${drift.checked} failure record(s) checked: ${drift.missing} missing from the index, ` +
            `${drift.stale} stale, ${drift.orphan} orphaned${inStep ? ' (in step)' : ': run `logzip reindex` to fix'}\n`,
        );
        for (const s of drift.samples) io.stdout.write(`  ${s.problem.padEnd(7)} ${s.logId}\n`);
      }
      return inStep ? EXIT.ok : EXIT.failed;
    }
    return await rebuild(io, storage.state, { ...target, groups }, values.json ?? false);
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

async function rebuild(
  io: CliIo,
  state: StateStore,
  target: Pick<Parameters<typeof reindex>[0], 'store' | 'bucket' | 'prefix' | 'index' | 'groups'>,
  json: boolean,
): Promise<number> {
  const bar = createProgressBar(io, 'reindex');
  const invalid: Array<{ key: string; reason: string }> = [];
  let invalidCount = 0;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let result: Awaited<ReturnType<typeof reindex>>;
  try {
    result = await reindex({
      ...target,
      owner: `${operatorName(io.env)}@cli-${process.pid}`,
      signal: stop.signal,
      onProgress: (p: ReindexProgress) => bar.update(p.done, p.total, describeProgress(p)),
      onInvalid: (object) => {
        invalidCount += 1;
        if (invalid.length < MAX_INVALID_LISTED) invalid.push(object);
        if (!json)
          io.stderr.write(`${io.stderr.isTTY ? '\r\x1b[K' : ''}skipped ${object.key}: ${object.reason}\n`);
      },
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    bar.end();
  }
  if (result.status === 'busy') {
    const at = result.checkpoint;
    throw new ExitError(
      EXIT.failed,
      `another reindex is running (${result.owner}${at === undefined ? '' : `, at ${at.phase}`}): this one did nothing; wait for it to finish`,
      'conflict',
    );
  }
  if (result.status === 'interrupted') {
    throw new ExitError(
      EXIT.failed,
      `reindex interrupted during ${result.checkpoint.phase}: run \`logzip reindex\` again to resume where it stopped`,
    );
  }
  // Into the state store (and so the index), like every audit entry.
  await state.appendAudit({
    at: new Date().toISOString(),
    operator: operatorName(io.env),
    action: 'reindex',
    outcome: 'ok',
    details: { channel: 'cli', ...result.counts, resumed: result.resumed, durationMs: result.durationMs },
  });
  if (json) {
    printJson(io, { ...result, invalidCount, invalid });
  } else {
    const c = result.counts;
    io.stdout.write(
      `indexed ${c.failures} failure record(s), ${c.manifests} manifest(s), ${c.audit} audit entr${c.audit === 1 ? 'y' : 'ies'}` +
        ` in ${(result.durationMs / 1000).toFixed(1)} s (${result.rate}/s)${result.resumed ? ', resumed' : ''}` +
        `${result.pruned > 0 ? `; ${result.pruned} entr${result.pruned === 1 ? 'y' : 'ies'} of records that are gone removed` : ''}` +
        `${c.skipped > 0 ? `; ${c.skipped} object(s) skipped (corrupt or foreign, listed above)` : ''}\n`,
    );
  }
  return EXIT.ok;
}

function describeProgress(p: ReindexProgress): string {
  const eta =
    p.etaSeconds === undefined ? (p.counted ? '' : ' ETA counting…') : ` ETA ${formatSeconds(p.etaSeconds)}`;
  return `${p.phase} · ${p.rate}/s${eta}${p.counts.skipped > 0 ? ` · ${p.counts.skipped} skipped` : ''}`;
}
