import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isErrorCode } from '@logzip/core';
import { bulkExitCode } from '../../operations/bulk.js';
import { parseIdList, readAll, usageOnError } from '../args.js';
import { usageError } from '../exit.js';
import { type CliIo, createProgressBar, printJson } from '../io.js';
import { runOperationCommand } from '../operation-command.js';
import { renderBulk } from '../render.js';
import { withBackend } from '../run-command.js';

/**
 * `logzip reenqueue [logId...] [--key KEY] [--file ids.txt|-] [--via queue|lambda] [--force] [--encoding NAME] [--dry-run] [--json]`
 * runs the named log IDs now and prints one result each; over a selection (`--group FP`, or failed
 * records by `--all-failed`, `--code`, `--since`, `--route`) it creates an operation the workers
 * run, prints it at once and, with `--follow`, its progress until it ends.
 */
export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = usageOnError(() =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        key: { type: 'string' },
        file: { type: 'string' },
        'all-failed': { type: 'boolean' },
        code: { type: 'string' },
        since: { type: 'string' },
        route: { type: 'string' },
        group: { type: 'string' },
        reason: { type: 'string' },
        rate: { type: 'string' },
        follow: { type: 'boolean' },
        via: { type: 'string' },
        force: { type: 'boolean' },
        encoding: { type: 'string' },
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
      },
    }),
  );
  const via = values.via ?? 'queue';
  if (via !== 'queue' && via !== 'lambda') throw usageError(`--via ${via}: use queue or lambda`);
  if (values.code !== undefined && !isErrorCode(values.code))
    throw usageError(`"${values.code}" is not an error code`);

  const logIds = [...positionals];
  if (values.file !== undefined) {
    let text: string;
    try {
      text =
        values.file === '-' ? await readAll(io.stdin) : await readFile(resolve(io.cwd, values.file), 'utf8');
    } catch (error) {
      throw usageError(`cannot read ${values.file}: ${(error as Error).message}`);
    }
    logIds.push(...parseIdList(text));
  }
  const allFailed = values['all-failed'] ?? false;
  const filtered = values.code !== undefined || values.since !== undefined;
  const selection = values.group !== undefined || values.route !== undefined || allFailed || filtered;
  if (selection && logIds.length === 0 && values.key === undefined) {
    if (via !== 'queue') throw usageError('an operation re-enqueues through the queue: drop --via lambda');
    return runOperationCommand(io, 'reenqueue', values);
  }
  if (filtered && logIds.length > 0 && !allFailed) {
    throw usageError(
      '--code and --since select failed records: use them with --all-failed, not with log IDs',
    );
  }
  if (values.key !== undefined && (logIds.length > 1 || allFailed)) {
    throw usageError('--key names one archive: give at most one log ID and no --all-failed');
  }
  if (logIds.length === 0 && !allFailed && !filtered && values.key === undefined) {
    throw usageError('name log IDs (arguments or --file), --key, or --all-failed');
  }
  // Malformed IDs stay in the list: each is reported as invalid_log_id instead of stopping the run.
  const unique = [...new Set(logIds)];

  return withBackend(io, async (backend) => {
    const progress = createProgressBar(io, values['dry-run'] ? 're-enqueue (dry run)' : 're-enqueue');
    let result: Awaited<ReturnType<typeof backend.reenqueue>>;
    try {
      result = await backend.reenqueue(
        {
          logIds: unique,
          ...(values.key === undefined ? {} : { key: values.key }),
          ...(allFailed ? { allFailed: true } : {}),
          ...(values.code === undefined ? {} : { code: values.code }),
          ...(values.since === undefined ? {} : { since: values.since }),
          via,
          force: values.force ?? false,
          ...(values.encoding === undefined ? {} : { encoding: values.encoding }),
          dryRun: values['dry-run'] ?? false,
        },
        (done, total) => progress.update(done, total),
      );
    } finally {
      progress.end();
    }
    if (values.json) printJson(io, result);
    else io.stdout.write(renderBulk(result));
    return bulkExitCode(result);
  });
}
