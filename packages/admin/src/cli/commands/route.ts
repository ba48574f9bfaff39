import { parseArgs } from 'node:util';
import type { Route, TriggerState } from '@logzip/core';
import { parseDuration } from '@logzip/core';
import { describeBuffered } from '../../operations/buffered-view.js';
import type { RouteStatus } from '../../operations/route.js';
import { usageOnError } from '../args.js';
import { EXIT, usageError } from '../exit.js';
import { type CliIo, printJson } from '../io.js';
import { withBackend } from '../run-command.js';

function describeTrigger(actual: TriggerState | null, error: string | null): string[] {
  if (actual === null) return [`actual:  unreadable (${error ?? 'unknown error'})`];
  const d = actual.details as Record<string, unknown>;
  const lines = [
    `trigger: ${actual.enabled ? 'on' : 'off'}${
      actual.filter === undefined
        ? ''
        : ` (prefix "${actual.filter.prefix}", suffix "${actual.filter.suffix}")`
    }`,
  ];
  if (d['kind'] === 'aws') {
    const fn = d['function'] as Record<string, unknown> | null;
    const retries = d['retries'] as Record<string, unknown> | null;
    const queue = d['failureQueue'] as Record<string, unknown> | null;
    lines.push(
      `function: ${String(d['functionName'])} ${fn === null ? 'unreadable' : String(fn['state'])}, reserved concurrency ${
        d['reservedConcurrency'] === null ? 'unreserved' : String(d['reservedConcurrency'])
      }${d['throttled'] ? ' (THROTTLED)' : ''}`,
      `retries: ${retries === null ? 'unreadable' : String(retries['maximumRetryAttempts'])}, on-failure destination: ${
        retries?.['onFailureDestination'] ?? 'none'
      }`,
      `S3 may invoke: ${d['invokePermission'] === null ? 'unknown' : d['invokePermission'] ? 'yes' : 'NO'}`,
    );
    if (queue !== null)
      lines.push(
        `failure queue: ${String(queue['visible'])} waiting, ${String(queue['inFlight'])} in flight`,
      );
  } else if (d['kind'] === 'aws-buffered') {
    const view = describeBuffered(d);
    lines.push(
      `event source mapping: ${view.mappingState}, batch size ${view.batchSize}, maximum concurrency ${view.maximumConcurrency}${
        view.reportBatchItemFailures ? '' : ' (NO batch item failures)'
      }`,
      `trigger queue: ${view.queue}, oldest ${view.oldestAge}`,
      `dead-letter queue: ${view.deadLetterQueue}`,
      `S3 may send to the queue: ${view.queuePolicyAllowsBucket ? 'yes' : 'NO'}`,
    );
  } else if (d['kind'] === 'local') {
    lines.push('local trigger emulator: fires while the route flag says lambda');
  }
  return lines;
}

export function renderStatus(status: RouteStatus): string {
  const lines = [
    `route:   desired ${status.desired ?? 'UNKNOWN (flag not set)'}, actual ${status.effective ?? 'unreadable'} (${status.mode} mode)`,
    ...describeTrigger(status.actual, status.actualError),
  ];
  if (status.drift.detected) {
    lines.push(
      status.drift.level === 'danger' ? '!!! DRIFT:' : 'problems:',
      ...status.drift.messages.map((m) => `  - ${m}`),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `logzip route migrate --to direct|buffered --reason TEXT [--drain-timeout 15m] [--json]`. */
async function migrate(values: Record<string, string | boolean | undefined>, io: CliIo): Promise<number> {
  const to = values['to'];
  if (to !== 'direct' && to !== 'buffered')
    throw usageError('give the mode to move to: --to direct|buffered');
  const reason = String(values['reason'] ?? '');
  if (reason.trim() === '')
    throw usageError(`give a reason for the audit log: logzip route migrate --to ${to} --reason "…"`);
  const drainText = String(values['drain-timeout'] ?? '15m');
  const drainTimeoutMs = parseDuration(drainText);
  if (drainTimeoutMs === undefined)
    throw usageError(`--drain-timeout "${drainText}" is not a duration like 15m`);
  return withBackend(io, async (backend) => {
    const result = await backend.migrateRoute({
      to,
      reason,
      drainTimeoutMs,
      // Progress to stderr: a drain can take minutes, and --json keeps stdout one document.
      onStep: (step) => io.stderr.write(`• ${step}\n`),
    });
    if (values['json']) printJson(io, result);
    else
      io.stdout.write(
        `${result.drained ? `moved to ${to} mode (route ${result.route})` : `NOT DONE: the queue and its dead-letter queue still hold ${result.remaining} message(s)`}\n` +
          `restart the workers and the admin service with LOGZIP_TRIGGER_MODE=${to}${to === 'direct' ? ' once the queue is empty' : ''}\n`,
      );
    return result.drained ? EXIT.ok : EXIT.failed;
  });
}

/** `logzip route [lambda|queue] [--reason TEXT] [--json]`: show the route, or switch it. */
export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = usageOnError(() =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        reason: { type: 'string' },
        json: { type: 'boolean' },
        to: { type: 'string' },
        'drain-timeout': { type: 'string' },
      },
    }),
  );
  if (positionals[0] === 'migrate') {
    if (positionals.length > 1) throw usageError('logzip route migrate takes no other argument');
    return migrate(values, io);
  }
  if (values.to !== undefined || values['drain-timeout'] !== undefined)
    throw usageError('--to and --drain-timeout go with logzip route migrate');
  if (positionals.length > 1) throw usageError('give at most one route: lambda or queue');
  const target = positionals[0];
  if (target !== undefined && target !== 'lambda' && target !== 'queue') {
    throw usageError(`"${target}" is not a route: lambda or queue`);
  }
  if (target === undefined && values.reason !== undefined)
    throw usageError('--reason goes with a route to switch to');
  if (target !== undefined && (values.reason ?? '').trim() === '')
    throw usageError(`give a reason for the audit log: logzip route ${target} --reason "…"`);
  return withBackend(io, async (backend) => {
    if (target === undefined) {
      const status = await backend.routeStatus();
      if (values.json) printJson(io, status);
      else io.stdout.write(renderStatus(status));
      return status.actual === null ? EXIT.failed : EXIT.ok;
    }
    const result = await backend.switchRoute(target as Route, values.reason ?? '');
    if (values.json) {
      printJson(io, result);
    } else {
      io.stdout.write(`${result.ok ? '' : 'FAILED: '}${result.message}\n${renderStatus(result.status)}`);
    }
    return result.ok ? EXIT.ok : EXIT.failed;
  });
}
