import { parseArgs } from 'node:util';
import { LOG_ID_RE } from '@logzip/core';
import type { HealthReport } from '../../operations/health.js';
import type { ArchiveStatus } from '../../operations/status.js';
import { usageOnError } from '../args.js';
import { EXIT, usageError } from '../exit.js';
import { type CliIo, printJson } from '../io.js';
import { withBackend } from '../run-command.js';

function renderArchive(status: ArchiveStatus): string {
  const lines: string[] = [];
  const state = status.extracted
    ? 'extracted'
    : status.failure !== null && status.failure.state !== 'resolved'
      ? `${status.failure.state} (${status.failure.code})`
      : status.queue !== null
        ? `queued (${status.queue.state})`
        : 'not extracted';
  lines.push(`log ID ${status.logId}: ${state}`);
  lines.push(
    status.archive === null
      ? 'archive:  none found'
      : `archive:  s3://${status.archive.bucket}/${status.archive.key} (${status.archive.size} bytes, uploaded ${status.archive.lastModified})`,
  );
  if (status.manifest !== null) {
    const m = status.manifest;
    lines.push(
      `manifest: ${m.entries.length} files, ${m.bytes} bytes, extracted ${m.finishedAt} via ${m.route ?? '?'} from ${m.source.key}`,
    );
  }
  if (status.failure !== null) {
    const f = status.failure;
    lines.push(
      `failure:  ${f.state} ${f.code}: ${f.message}${f.entry === undefined ? '' : ` (entry ${f.entry})`}`,
    );
    lines.push(`          ${f.attempts.length} attempt(s), last ${f.updatedAt}, source ${f.source.key}`);
    if (f.stack !== undefined) lines.push(...f.stack.split('\n').map((line) => `          ${line}`));
  }
  lines.push(
    status.queue === null
      ? 'queue:    no job'
      : `queue:    job ${status.queue.id} ${status.queue.state} (${status.queue.attemptsMade} attempt(s))`,
  );
  if (status.history.length > 0) lines.push(`history:  ${status.history.length} earlier manifest(s)`);
  if (status.timeline.length > 0) {
    lines.push('timeline:');
    for (const event of status.timeline)
      lines.push(`  ${event.at}  ${event.kind.padEnd(14)} ${event.detail}`);
  }
  return `${lines.join('\n')}\n`;
}

function age(ms: number | null): string {
  if (ms === null) return '–';
  if (ms < 120_000) return `${Math.round(ms / 1000)} s ago`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min ago`;
  return `${Math.round(ms / 3_600_000)} h ago`;
}

/** The health strip as text: one line per fact, STALE where the strip is red. */
export function renderHealth(health: HealthReport): string {
  const flag = (stale: boolean) => (stale ? '  STALE' : '');
  const lines = [`health: ${health.ok ? 'ok' : 'PROBLEMS'} (at ${health.at})`];
  if (health.workers === null) lines.push('workers:        cannot be read');
  else if (health.workers.length === 0) lines.push('workers:        none connected  STALE');
  else {
    lines.push(`workers:        ${health.workers.length}`);
    for (const w of health.workers)
      lines.push(
        `  ${w.name}  last heartbeat ${age(w.ageMs)}, ${w.activeJobs}/${w.concurrency} active${flag(w.stale)}`,
      );
  }
  const waiting = health.oldestWaiting;
  lines.push(
    waiting === null
      ? 'oldest waiting: queue cannot be read'
      : waiting.jobId === null
        ? 'oldest waiting: none'
        : `oldest waiting: job ${waiting.jobId}, waiting since ${waiting.since} (${age(waiting.ageMs)})${flag(waiting.stale)}`,
  );
  lines.push(
    `last sweep:     ${health.lastSweep.at ?? 'none yet'}${health.lastSweep.at === null ? '' : ` (${age(health.lastSweep.ageMs)})`}${flag(health.lastSweep.stale)}`,
  );
  const last = health.lastExtraction;
  for (const route of ['lambda', 'queue'] as const) {
    const at = last?.[route] ?? null;
    lines.push(
      `last extracted (${route}):`.padEnd(16) +
        ` ${at ?? 'none recorded'}${at === null ? '' : ` (${age(Date.parse(health.at) - Date.parse(at))})`}`,
    );
  }
  for (const problem of health.problems) lines.push(`problem: ${problem}`);
  return `${lines.join('\n')}\n`;
}

/**
 * `logzip status [--json]`: the health strip (exit 0 healthy, 1 with problems);
 * `logzip status <logId> [--json]`: manifest, failure record, queue state. Unknown log IDs exit 2.
 */
export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = usageOnError(() =>
    parseArgs({ args, allowPositionals: true, strict: true, options: { json: { type: 'boolean' } } }),
  );
  if (positionals.length === 0) {
    return withBackend(io, async (backend) => {
      const health = await backend.health();
      if (values.json) printJson(io, health);
      else io.stdout.write(renderHealth(health));
      return health.ok ? EXIT.ok : EXIT.failed;
    });
  }
  if (positionals.length !== 1) throw usageError('give at most one log ID');
  const logId = positionals[0]!;
  if (!LOG_ID_RE.test(logId))
    throw usageError(`"${logId}" is not a log ID (1-64 characters of [0-9A-Za-z_-])`);
  return withBackend(io, async (backend) => {
    const status = await backend.archiveStatus(logId);
    if (status === undefined) {
      if (values.json) printJson(io, { logId, found: false });
      else io.stderr.write(`log ID ${logId}: not found (no archive, manifest, failure record or job)\n`);
      return EXIT.rejected;
    }
    if (values.json) printJson(io, status);
    else io.stdout.write(renderArchive(status));
    return EXIT.ok;
  });
}
