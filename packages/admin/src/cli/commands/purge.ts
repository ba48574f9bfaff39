import { parseArgs } from 'node:util';
import { bulkExitCode } from '../../operations/bulk.js';
import { usageOnError } from '../args.js';
import { usageError } from '../exit.js';
import { type CliIo, createProgressBar, printJson } from '../io.js';
import { runOperationCommand } from '../operation-command.js';
import { renderBulk } from '../render.js';
import { withBackend } from '../run-command.js';

/**
 * `logzip purge <logId...> [--dry-run] [--json]`: archive, extracted files and state of each log ID;
 * over a selection (`--group FP`, `--all-failed`, `--code`, `--since`, `--route`) an operation.
 */
export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = usageOnError(() =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        'dry-run': { type: 'boolean' },
        group: { type: 'string' },
        'all-failed': { type: 'boolean' },
        code: { type: 'string' },
        since: { type: 'string' },
        route: { type: 'string' },
        reason: { type: 'string' },
        rate: { type: 'string' },
        follow: { type: 'boolean' },
        json: { type: 'boolean' },
      },
    }),
  );
  const selection =
    values.group !== undefined ||
    values['all-failed'] === true ||
    values.code !== undefined ||
    values.since !== undefined ||
    values.route !== undefined;
  if (selection) {
    if (positionals.length > 0)
      throw usageError('name log IDs or a selection (--group, --all-failed...), not both');
    return runOperationCommand(io, 'purge', values);
  }
  if (positionals.length === 0) throw usageError('name at least one log ID to purge');
  const logIds = [...new Set(positionals)];
  return withBackend(io, async (backend) => {
    const progress = createProgressBar(io, values['dry-run'] ? 'purge (dry run)' : 'purge');
    let result: Awaited<ReturnType<typeof backend.purge>>;
    try {
      result = await backend.purge(logIds, values['dry-run'] ?? false, (done, total) =>
        progress.update(done, total),
      );
    } finally {
      progress.end();
    }
    if (values.json) printJson(io, result);
    else io.stdout.write(renderBulk(result));
    return bulkExitCode(result);
  });
}
