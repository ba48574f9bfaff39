import { parseArgs } from 'node:util';
import { FAILURE_STATES, isErrorCode } from '@logzip/core';
import { MAX_FAILURE_LIMIT } from '../../operations/failures.js';
import type { GroupList } from '../../operations/groups.js';
import { usageOnError } from '../args.js';
import { EXIT, usageError } from '../exit.js';
import { type CliIo, printJson } from '../io.js';
import { table } from '../render.js';
import { withBackend } from '../run-command.js';

/**
 * `logzip failures [filters] [--limit N] [--cursor C] [--json]`: one page of failure records,
 * newest first (`failed` by default); `--counts` prints the counts by state and code instead;
 * `--groups`: the failure groups (one line per cause).
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
        'log-id': { type: 'string' },
        limit: { type: 'string' },
        cursor: { type: 'string' },
        groups: { type: 'boolean' },
        counts: { type: 'boolean' },
        json: { type: 'boolean' },
      },
    }),
  );
  if (positionals.length > 0) throw usageError(`unexpected argument "${positionals[0]}"`);
  if (values.code !== undefined && !isErrorCode(values.code))
    throw usageError(`"${values.code}" is not an error code`);
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_FAILURE_LIMIT))
    throw usageError(`--limit must be an integer from 1 to ${MAX_FAILURE_LIMIT}`);
  if (values['log-id'] !== undefined && !/^[0-9A-Za-z_-]{1,64}$/.test(values['log-id']))
    throw usageError('--log-id takes a log-ID prefix: 1-64 characters of [0-9A-Za-z_-]');
  if (values.groups) {
    if (
      values.since !== undefined ||
      values.state !== undefined ||
      values.route !== undefined ||
      values['log-id'] !== undefined ||
      values.counts
    )
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
    if (values.counts) {
      const counts = await backend.failureCounts();
      if (values.json) printJson(io, counts);
      else {
        const rows = Object.entries(counts.byCode).map(([code, n]) => [
          code,
          ...FAILURE_STATES.map((s) => String(n[s])),
        ]);
        rows.push(['(all)', ...FAILURE_STATES.map((s) => String(counts.byState[s]))]);
        io.stdout.write(`${table(['CODE', ...FAILURE_STATES.map((s) => s.toUpperCase())], rows)}\n`);
      }
      return EXIT.ok;
    }
    const list = await backend.failures({
      ...(values.code === undefined ? {} : { code: values.code }),
      ...(values.since === undefined ? {} : { since: values.since }),
      ...(values.state === undefined ? {} : { state: values.state }),
      ...(values.route === undefined ? {} : { route: values.route }),
      ...(values['log-id'] === undefined ? {} : { logId: values['log-id'] }),
      ...(limit === undefined ? {} : { limit }),
      ...(values.cursor === undefined ? {} : { cursor: values.cursor }),
    });
    if (values.json) {
      printJson(io, list);
      return EXIT.ok;
    }
    if (list.failures.length === 0) {
      io.stdout.write(`no failures match${list.total > 0 ? ` on this page (${list.total} in all)` : ''}\n`);
      return EXIT.ok;
    }
    const rows = list.failures.map((r) => [
      r.logId,
      r.code,
      r.state,
      r.route,
      String(r.attemptCount),
      r.updatedAt,
      r.message,
    ]);
    io.stdout.write(
      `${table(['LOG ID', 'CODE', 'STATE', 'ROUTE', 'ATTEMPTS', 'UPDATED', 'MESSAGE'], rows)}\n`,
    );
    io.stdout.write(
      `\n${list.total} record(s)${list.total > list.failures.length ? `, ${list.failures.length} shown` : ''}\n`,
    );
    if (list.nextCursor !== undefined) io.stdout.write(`next page: --cursor ${list.nextCursor}\n`);
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
