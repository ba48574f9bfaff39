import type { Operation } from '@logzip/core/operations';
import type { CreateOperationAnswer } from '../operations/bulk-operations.js';
import type { Backend } from './backend.js';
import { EXIT } from './exit.js';
import { type CliIo, createProgressBar, printJson } from './io.js';
import { table } from './render.js';

/** How often --follow reads the operation. */
export const FOLLOW_INTERVAL_MS = 500;

/** `op_… reenqueue running 1200/8000 (done 1180, failed 3, skipped 17) 180/s, ETA 38 s` */
export function describeOperation(op: Operation): string {
  const processed = op.done + op.failed + op.skipped;
  const eta = op.etaSeconds === undefined ? '' : `, ETA ${op.etaSeconds} s`;
  return `${op.id} ${op.kind} ${op.state} ${processed}/${op.total} (done ${op.done}, failed ${op.failed}, skipped ${op.skipped}) ${op.rate}/s${eta}`;
}

export function renderOperations(operations: Operation[]): string {
  if (operations.length === 0) return 'no operations\n';
  const rows = operations.map((op) => [
    op.id,
    op.kind,
    op.state,
    `${op.done + op.failed + op.skipped}/${op.total}`,
    String(op.failed),
    op.createdBy,
    op.createdAt,
    op.reason,
  ]);
  return `${table(['OPERATION', 'KIND', 'STATE', 'PROGRESS', 'FAILED', 'BY', 'CREATED', 'REASON'], rows)}\n`;
}

/** 0 finished cleanly; 1 when items failed (a retry may help) or it was aborted. */
export function exitCodeOfOperation(op: Operation): number {
  if (op.state === 'aborted' || op.failed > 0) return EXIT.failed;
  return EXIT.ok;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Follows an operation until it is no longer running: JSON lines (`{"operation":…}`) with --json,
 * else a progress bar on a terminal and a last summary line.
 */
export async function followOperation(
  io: CliIo,
  backend: Backend,
  first: Operation,
  json: boolean,
): Promise<number> {
  const bar = json ? undefined : createProgressBar(io, `${first.kind} ${first.id}`);
  let op = first;
  let last = '';
  try {
    while (op.state === 'running') {
      await sleep(FOLLOW_INTERVAL_MS);
      op = (await backend.operation(op.id)) ?? op;
      const line = JSON.stringify({ operation: op });
      if (json && line !== last) printJson(io, { operation: op });
      last = line;
      bar?.update(op.done + op.failed + op.skipped, op.total);
    }
  } finally {
    bar?.end();
  }
  if (!json) io.stdout.write(`${describeOperation(op)}\n`);
  return exitCodeOfOperation(op);
}

/** Prints what creating an operation answered; follows it with --follow. */
export async function printCreated(
  io: CliIo,
  backend: Backend,
  answer: CreateOperationAnswer,
  flags: { json: boolean; follow: boolean },
): Promise<number> {
  if ('dryRun' in answer) {
    if (flags.json) printJson(io, answer);
    else
      io.stdout.write(
        `${answer.count} log ID(s) would be selected (dry run, nothing created)${answer.sample.length > 0 ? `: ${answer.sample.join(' ')}${answer.count > answer.sample.length ? ' …' : ''}` : ''}\n`,
      );
    return EXIT.ok;
  }
  if (flags.json) printJson(io, answer);
  else
    io.stdout.write(
      `operation ${answer.operation.id} created: ${answer.operation.total} log ID(s); follow it with logzip ops show ${answer.operation.id} --follow\n`,
    );
  if (!flags.follow) return EXIT.ok;
  return followOperation(io, backend, answer.operation, flags.json);
}
