import type { TriggerMigrationRequest, TriggerMigrationResult, TriggerMode } from '@logzip/core/aws-trigger';
import { AdminError } from '../errors.js';
import type { Actor, OperationsContext } from './context.js';
import { describeFailure } from './failure-text.js';

export interface MigrateRouteInput {
  to: TriggerMode;
  reason: string;
  /** Leaving buffered mode: how long to wait for the trigger queue to empty. */
  drainTimeoutMs: number;
  onStep?: (step: string) => void;
}

/** Time for the write and the mapping change on top of the drain, under the switch lock. */
const LOCK_MARGIN_MS = 120_000;

/**
 * `logzip route migrate`: moves the deployment between the direct and buffered trigger modes
 * (core's migrateTrigger does the AWS part), under the route switch's lock (no switch can run in
 * the middle of a move), for the route the flag holds, audited as `route.migrate` either way.
 */
export async function migrateRoute(
  ctx: OperationsContext,
  input: MigrateRouteInput,
  actor: Actor,
  migrate: (request: TriggerMigrationRequest) => Promise<TriggerMigrationResult>,
): Promise<TriggerMigrationResult> {
  if (input.reason.trim() === '') {
    throw new AdminError('invalid_request', 'give a reason for the migration: it goes to the audit log');
  }
  const audit = (outcome: 'ok' | 'error', details: Record<string, unknown>) =>
    ctx.audit
      .record({
        operator: actor.operator,
        action: 'route.migrate',
        outcome,
        details: { channel: actor.channel, to: input.to, reason: input.reason, ...details },
      })
      .catch(() => {});
  const release =
    ctx.lock === undefined
      ? async () => {}
      : await ctx.lock.acquire('route-switch', input.drainTimeoutMs + LOCK_MARGIN_MS);
  if (release === undefined) {
    throw new AdminError('conflict', 'a route switch or migration is in progress; try again in a moment');
  }
  try {
    const route = await ctx.routes.get();
    if (route === undefined || route === null) {
      await audit('error', { refused: 'the route flag is not set' });
      throw new AdminError(
        'conflict',
        'the route flag is not set: set it first (logzip route lambda|queue --reason "…"), the migration keeps it',
      );
    }
    let result: TriggerMigrationResult;
    try {
      result = await migrate({
        to: input.to,
        route,
        drainTimeoutMs: input.drainTimeoutMs,
        ...(input.onStep === undefined ? {} : { onStep: input.onStep }),
      });
    } catch (error) {
      await audit('error', { route, error: describeFailure(error) });
      throw error;
    }
    await audit(result.drained ? 'ok' : 'error', {
      route,
      steps: result.steps,
      drained: result.drained,
      remaining: result.remaining,
    });
    return result;
  } finally {
    await release();
  }
}
