import { parseArgs } from 'node:util';
import { isErrorCode } from '@logzip/core';
import type { GroupList } from '../../operations/groups.js';
import { usageOnError } from '../args.js';
import { EXIT, usageError } from '../exit.js';
import { type CliIo, printJson } from '../io.js';
import { table } from '../render.js';
import { withBackend } from '../run-command.js';

/**
 * `logzip failures [--code CODE] [--since DURATION] [--json]`: failed records, newest first;
 * `--groups`: the failure groups instead (one line per cause).
 */
export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = usageOnError(() =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        code: { type: 'string' },
        since: { type: 'string' },
        state: { type: 'string' },
        route: { type: 'string' },
        limit: { type: 'string' },
        cursor: { type: 'string' },
        groups: { type: 'boolean' },
        json: { type: 'boolean' },
      },
    }),
  );
  if (positionals.length > 0) throw usageError(`unexpected argument "${positionals[0]}"`);
  if (values.code !== undefined && !isErrorCode(values.code))
    throw usageError(`"${values.code}" is not an error code`);
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
    throw usageError('--limit must be a positive integer');
  if (values.groups) {
    if (values.since !== undefined || values.state !== undefined || values.route !== undefined)
      throw usageError('--groups takes --code, --limit and --cursor only');
    return withBackend(io, async (backend) => {
      const list = await backend.groups({
        ...(values.code === undefined ? {} : { code: values.code }),
        ...(limit === undefined ? {} : { limit }),
        ...(values.cursor === undefined ? {} : { cursor: values.cursor }),
      });
      if (values.json) {
        printJson(io, list);
        return EXIT.ok;
      }
      io.stdout.write(renderGroups(list));
      return EXIT.ok;
    });
  }
  return withBackend(io, async (backend) => {
    const list = await backend.failures({
      ...(values.code === undefined ? {} : { code: values.code }),
      ...(values.since === undefined ? {} : { since: values.since }),
      ...(values.state === undefined ? {} : { state: values.state }),
      ...(values.route === undefined ? {} : { route: values.route }),
      ...(limit === undefined ? {} : { limit }),
    });
    if (values.json) {
      printJson(io, list);
      return EXIT.ok;
    }
    if (list.failures.length === 0) {
      io.stdout.write('no failures match\n');
      return EXIT.ok;
    }
    const rows = list.failures.map((r) => [
      r.logId,
      r.code,
      r.state,
      r.route,
      String(r.attempts.length),
      r.updatedAt,
      r.message,
    ]);
    io.stdout.write(
      `${table(['LOG ID', 'CODE', 'STATE', 'ROUTE', 'ATTEMPTS', 'UPDATED', 'MESSAGE'], rows)}\n`,
    );
    io.stdout.write(
      `\n${list.total} record(s)${list.total > list.failures.length ? `, ${list.failures.length} shown` : ''}\n`,
    );
    return EXIT.ok;
  });
}

/** One row per group, then how many there are and the cursor of the next page. */
export function renderGroups(list: GroupList): string {
  if (list.groups.length === 0) return 'no failure groups\n';
  const rows = list.groups.map((g) => [
    g.fingerprint,
    g.code,
    String(g.count),
    g.lastSeen,
    g.routes.join(','),
    (g.signature.split('\n')[0] ?? '').slice(0, 60),
    g.sample.slice(0, 3).join(' '),
  ]);
  const more = list.nextCursor === undefined ? '' : `, more with --cursor ${list.nextCursor}`;
  return `${table(['GROUP', 'CODE', 'COUNT', 'LAST SEEN', 'ROUTES', 'WHERE', 'SAMPLE'], rows)}\n\n${list.total} group(s)${more}\n`;
}
