import { isErrorCode } from '@logzip/core';
import type { OperationKind } from '@logzip/core/operations';
import { usageError } from './exit.js';
import type { CliIo } from './io.js';
import { printCreated } from './operation-output.js';
import { withBackend } from './run-command.js';

/** The selection flags `reenqueue` and `purge` share. */
export interface SelectionFlags {
  group?: string | undefined;
  'all-failed'?: boolean | undefined;
  code?: string | undefined;
  since?: string | undefined;
  route?: string | undefined;
  reason?: string | undefined;
  rate?: string | undefined;
  force?: boolean | undefined;
  encoding?: string | undefined;
  follow?: boolean | undefined;
  'dry-run'?: boolean | undefined;
  json?: boolean | undefined;
}

/** Creates a re-enqueue or purge operation over a selection, prints it, follows it with --follow. */
export async function runOperationCommand(
  io: CliIo,
  kind: OperationKind,
  flags: SelectionFlags,
): Promise<number> {
  if (flags.code !== undefined && !isErrorCode(flags.code))
    throw usageError(`"${flags.code}" is not an error code`);
  if (flags.group !== undefined && (flags['all-failed'] || flags.code || flags.since || flags.route)) {
    throw usageError(
      '--group is a selection of its own: no --all-failed, --code, --since or --route with it',
    );
  }
  const rate = flags.rate === undefined ? undefined : Number(flags.rate);
  if (rate !== undefined && (!Number.isInteger(rate) || rate < 0)) {
    throw usageError('--rate must be a whole number of log IDs per second (0 = unlimited)');
  }
  const allFailed = flags.group === undefined;
  return withBackend(io, async (backend) => {
    const answer = await backend.createOperation({
      kind,
      ...(flags.group === undefined ? {} : { group: flags.group }),
      ...(allFailed ? { allFailed: true } : {}),
      ...(flags.code === undefined ? {} : { code: flags.code }),
      ...(flags.since === undefined ? {} : { since: flags.since }),
      ...(flags.route === undefined ? {} : { route: flags.route }),
      ...(flags.reason === undefined ? {} : { reason: flags.reason }),
      ...(rate === undefined ? {} : { ratePerSecond: rate }),
      ...(flags.force ? { force: true } : {}),
      ...(flags.encoding === undefined ? {} : { encoding: flags.encoding }),
      ...(flags['dry-run'] ? { dryRun: true } : {}),
    });
    return printCreated(io, backend, answer, { json: flags.json ?? false, follow: flags.follow ?? false });
  });
}
