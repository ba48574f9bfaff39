import { isErrorCode } from '@logzip/core';
import type {
  Operation,
  OperationKind,
  OperationSelection,
  OperationState,
  OperationStore,
} from '@logzip/core/operations';
import { AdminError } from '../errors.js';
import type { Actor, OperationsContext } from './context.js';
import { assertSupportedEncoding } from './encoding.js';
import { selectFailedLogIds } from './failures.js';
import { assertFingerprint } from './groups.js';
import { isLogId } from './keys.js';

/** What creating an operation needs beside the context's clients. */
export interface OperationRunner {
  store: OperationStore;
  /** Adds a run of the operation to the workers' queue (create and resume). */
  enqueueRun(operationId: string): Promise<void>;
}

export interface OperationRequest {
  kind: OperationKind;
  /** Exactly one way of choosing: a group, failed records by code/route/since, or log IDs. */
  group?: string;
  code?: string;
  route?: string;
  since?: Date;
  allFailed?: boolean;
  logIds?: string[];
  reason?: string;
  /** Items per second (default DEFAULT_OPERATION_RATE, 0 = unlimited). */
  ratePerSecond?: number;
  force?: boolean;
  /** Re-enqueue only: the fallback code page for names without the UTF-8 flag (implies force). */
  encoding?: string;
  dryRun?: boolean;
}

export const DEFAULT_OPERATION_RATE = 100;
export const MAX_OPERATION_RATE = 10_000;
export const DRY_RUN_SAMPLE = 10;
const MAX_LOG_IDS = 1_000_000;

export type CreateOperationAnswer =
  | { operation: Operation }
  | { dryRun: true; kind: OperationKind; count: number; sample: string[]; selection: OperationSelection };

function runnerOf(ctx: OperationsContext): OperationRunner {
  if (ctx.operations === undefined) throw new AdminError('conflict', 'operations need Redis and a worker');
  return ctx.operations;
}

function describeSelection(request: OperationRequest): OperationSelection {
  return {
    ...(request.group === undefined ? {} : { group: request.group }),
    ...(request.code === undefined ? {} : { code: request.code }),
    ...(request.route === undefined ? {} : { route: request.route }),
    ...(request.since === undefined ? {} : { since: request.since.toISOString() }),
    ...(request.allFailed ? { allFailed: true } : {}),
    ...(request.logIds === undefined ? {} : { logIds: request.logIds.length }),
  };
}

/**
 * The selection's log IDs, read once: a group from its members in the index, failed records by
 * code, route and time from the index's pages (no record is read; `index_rebuilding` while the
 * index is not ready), or the list given. The operation stores this list, so failures that come
 * later (of the same cause too) are never swept in.
 */
export async function freezeSelection(ctx: OperationsContext, request: OperationRequest): Promise<string[]> {
  const ways = [
    request.group !== undefined,
    request.logIds !== undefined,
    request.allFailed === true ||
      request.code !== undefined ||
      request.route !== undefined ||
      request.since !== undefined,
  ];
  if (ways.filter(Boolean).length !== 1) {
    throw new AdminError(
      'invalid_request',
      'choose one selection: a group, log IDs, or failed records (all failed, code, route, since)',
    );
  }
  if (request.code !== undefined && !isErrorCode(request.code))
    throw new AdminError('invalid_request', `"${request.code}" is not an error code`);
  if (request.group !== undefined) {
    assertFingerprint(request.group);
    if (ctx.groups === undefined) throw new AdminError('conflict', 'failure groups need the Redis index');
    const ids: string[] = [];
    for await (const page of ctx.groups.scanMembers(request.group)) ids.push(...page);
    return [...new Set(ids)].sort();
  }
  if (request.logIds !== undefined) {
    const bad = request.logIds.find((id) => !isLogId(id));
    if (bad !== undefined) throw new AdminError('invalid_request', `"${bad}" is not a log ID`);
    return [...new Set(request.logIds)];
  }
  const ids = await selectFailedLogIds(ctx, {
    ...(request.code === undefined ? {} : { code: request.code }),
    ...(request.route === undefined ? {} : { route: request.route }),
    ...(request.since === undefined ? {} : { since: request.since }),
  });
  return [...new Set(ids)].sort();
}

/**
 * Creates a re-enqueue or purge operation over a selection: freezes its log IDs, stores it and
 * hands it to the workers; answers at once (the work runs in the worker, never in this call).
 * A dry run answers the count and a sample and creates nothing. Audited with operator and reason.
 */
export async function createOperation(
  ctx: OperationsContext,
  request: OperationRequest,
  actor: Actor,
): Promise<CreateOperationAnswer> {
  const runner = runnerOf(ctx);
  const rate = request.ratePerSecond ?? DEFAULT_OPERATION_RATE;
  if (!Number.isInteger(rate) || rate < 0 || rate > MAX_OPERATION_RATE)
    throw new AdminError(
      'invalid_request',
      `rate must be an integer from 0 to ${MAX_OPERATION_RATE} per second`,
    );
  if (request.encoding !== undefined && request.kind !== 'reenqueue')
    throw new AdminError('invalid_request', 'an encoding goes with a re-enqueue, not a purge');
  await assertSupportedEncoding(request.encoding);
  const logIds = await freezeSelection(ctx, request);
  if (logIds.length > MAX_LOG_IDS)
    throw new AdminError(
      'invalid_request',
      `${logIds.length} log IDs: one operation takes at most ${MAX_LOG_IDS}`,
    );
  const selection = describeSelection(request);
  if (request.dryRun) {
    return {
      dryRun: true,
      kind: request.kind,
      count: logIds.length,
      sample: logIds.slice(0, DRY_RUN_SAMPLE),
      selection,
    };
  }
  const operation = await runner.store.create(
    {
      kind: request.kind,
      createdBy: actor.operator,
      reason: request.reason ?? '',
      selection,
      options: {
        ratePerSecond: rate,
        ...(request.force ? { force: true } : {}),
        ...(request.encoding === undefined ? {} : { encoding: request.encoding }),
      },
    },
    logIds,
    ctx.clock.now(),
  );
  if (logIds.length === 0) {
    await runner.store.transition(operation.id, ['running'], 'finished', ctx.clock.now());
  } else {
    await runner.enqueueRun(operation.id);
  }
  await ctx.audit.record({
    operator: actor.operator,
    action: `operation.${request.kind}`,
    outcome: 'ok',
    details: {
      channel: actor.channel,
      operation: operation.id,
      reason: request.reason ?? '',
      selection,
      count: logIds.length,
      ratePerSecond: rate,
      ...(request.encoding === undefined ? {} : { encoding: request.encoding }),
    },
  });
  return { operation: (await runner.store.get(operation.id)) ?? operation };
}

export async function getOperation(ctx: OperationsContext, id: string): Promise<Operation> {
  const operation = await runnerOf(ctx).store.get(id);
  if (operation === undefined) throw new AdminError('not_found', `no operation ${id}`);
  return operation;
}

export async function listOperations(
  ctx: OperationsContext,
  limit = 50,
): Promise<{ operations: Operation[] }> {
  return { operations: await runnerOf(ctx).store.list(limit) };
}

const MOVES: Record<'pause' | 'resume' | 'abort', { from: OperationState[]; to: OperationState }> = {
  pause: { from: ['running'], to: 'paused' },
  resume: { from: ['paused'], to: 'running' },
  abort: { from: ['running', 'paused'], to: 'aborted' },
};

/** Pauses, resumes or aborts an operation; `conflict` when its state does not allow it. Audited. */
export async function controlOperation(
  ctx: OperationsContext,
  id: string,
  action: 'pause' | 'resume' | 'abort',
  actor: Actor,
  reason = '',
): Promise<Operation> {
  const runner = runnerOf(ctx);
  const before = await getOperation(ctx, id);
  const move = MOVES[action];
  const after = await runner.store.transition(id, move.from, move.to, ctx.clock.now());
  if (after === undefined) {
    throw new AdminError('conflict', `operation ${id} is ${before.state}: it cannot ${action}`);
  }
  // The worker's run ended when it saw the pause: a resume needs a new run.
  if (action === 'resume') await runner.enqueueRun(id);
  await ctx.audit.record({
    operator: actor.operator,
    action: `operation.${action}`,
    outcome: 'ok',
    details: {
      channel: actor.channel,
      operation: id,
      reason,
      from: before.state,
      to: after.state,
      done: after.done,
      left: after.left,
    },
  });
  return after;
}
