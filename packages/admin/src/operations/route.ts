import type { Route, TriggerState } from '@logzip/core';
import { AdminError } from '../errors.js';
import type { Actor, OperationsContext } from './context.js';
import { describeFailure, isUnavailable } from './failure-text.js';

/** How loudly the admin must show the difference between the desired and the actual route. */
export type DriftLevel = 'ok' | 'warning' | 'danger';

export interface Drift {
  /** Whether the actual route differs from the desired one (or either is unknown). */
  detected: boolean;
  /** `danger` for drift, `warning` for problems that keep a route from working well, else `ok`. */
  level: DriftLevel;
  /** What differs, for operators. */
  messages: string[];
  /** Problems of the active route (throttling, missing permission or destination...). */
  warnings: string[];
}

export interface RouteStatus {
  /** How S3 reaches the function: `direct` (a notification entry per route) or `buffered` (an SQS queue). */
  mode: 'direct' | 'buffered';
  /** The route flag; null when nobody set it (unknown: never guessed). */
  desired: Route | null;
  /** What the platform actually has, read back now; null when it could not be read. */
  actual: TriggerState | null;
  /** Why the actual state could not be read. */
  actualError: string | null;
  /** The route the actual trigger state amounts to: lambda when the trigger fires, else queue. */
  effective: Route | null;
  drift: Drift;
  checkedAt: string;
}

function expectedFilterOf(actual: TriggerState): { prefix: string; suffix: string } | undefined {
  const expected = actual.details['expectedFilter'] as { prefix?: unknown; suffix?: unknown } | undefined;
  if (typeof expected?.prefix !== 'string' || typeof expected.suffix !== 'string') return undefined;
  return { prefix: expected.prefix, suffix: expected.suffix };
}

/**
 * Compares the desired route with what the platform has. Pure: the dashboard, the API and the CLI
 * show the same verdict.
 */
export function computeDrift(
  desired: Route | null,
  actual: TriggerState | null,
  actualError: string | null,
): Drift {
  const messages: string[] = [];
  const warnings: string[] = [];
  if (actual === null) {
    messages.push(`the actual trigger state could not be read: ${actualError ?? 'unknown error'}`);
  }
  if (desired === null) {
    const now = actual === null ? 'unknown' : actual.enabled ? 'on (lambda)' : 'off (queue)';
    messages.push(
      `the route flag is not set: nobody decided the route. The S3 trigger is ${now}; choose lambda or queue.`,
    );
  } else if (actual !== null) {
    if (desired === 'lambda' && !actual.enabled) {
      messages.push(
        'the route says lambda but the S3 trigger is missing: new archives wait for the sweeper instead of being extracted',
      );
    } else if (desired === 'queue' && actual.enabled) {
      messages.push(
        'the route says queue but the S3 trigger is still on: archives are extracted by both routes',
      );
    }
    const expected = expectedFilterOf(actual);
    if (desired === 'lambda' && actual.enabled && actual.filter !== undefined && expected !== undefined) {
      if (actual.filter.prefix !== expected.prefix || actual.filter.suffix !== expected.suffix) {
        messages.push(
          `the trigger fires for prefix "${actual.filter.prefix}" suffix "${actual.filter.suffix}", ` +
            `not for the incoming archives (prefix "${expected.prefix}" suffix "${expected.suffix}")`,
        );
      }
    }
  }
  // Buffered mode: the entry, the queue policy and the mapping must be there whatever the route.
  if (actual !== null) messages.push(...(actual.drift ?? []));
  if (actual !== null && (desired === 'lambda' || actual.enabled)) warnings.push(...actual.problems);
  const level: DriftLevel = messages.length > 0 ? 'danger' : warnings.length > 0 ? 'warning' : 'ok';
  return { detected: messages.length > 0, level, messages, warnings };
}

/** The desired route beside the actual trigger state, read back now, and any drift between them. */
export async function getRouteStatus(ctx: OperationsContext): Promise<RouteStatus> {
  const [desired, actual] = await Promise.all([
    ctx.routes.get(),
    ctx.trigger.read().then(
      (state) => ({ state, error: null }),
      (error: unknown) => ({ state: null, error: describeFailure(error) }),
    ),
  ]);
  return statusOf(ctx, desired ?? null, actual.state, actual.error);
}

function statusOf(
  ctx: OperationsContext,
  desired: Route | null,
  actual: TriggerState | null,
  actualError: string | null,
): RouteStatus {
  return {
    mode: ctx.settings.triggerMode ?? 'direct',
    desired,
    actual,
    actualError,
    effective: actual === null ? null : actual.enabled ? 'lambda' : 'queue',
    drift: computeDrift(desired, actual, actualError),
    checkedAt: ctx.clock.now().toISOString(),
  };
}

export interface SwitchRouteInput {
  to: Route;
  reason: string;
}

export interface SwitchRouteResult {
  /** Whether the trigger and the flag both now say `to`. */
  ok: boolean;
  from: Route | null;
  to: Route;
  /** Where the switch stopped: `done`, or the step that failed (`trigger`: nothing changed, `flag`: the trigger changed). */
  phase: 'done' | 'trigger' | 'flag';
  /** Whether the trigger or the flag had to change. */
  changed: boolean;
  message: string;
  status: RouteStatus;
}

const SWITCH_LOCK_MS = 120_000;

/**
 * Switches the route: the trigger first (disable for `queue`, check-and-enable for `lambda`),
 * then the flag. A failed trigger step leaves the flag as it was, so the flag never claims a route
 * whose trigger is not in place; a failed flag write after a trigger change is reported as such
 * (the status then shows the drift until the switch is run again). Idempotent; audited either way.
 */
export async function switchRoute(
  ctx: OperationsContext,
  input: SwitchRouteInput,
  actor: Actor,
): Promise<SwitchRouteResult> {
  // Every door (UI, API, CLI) needs a reason: a switch at 3 a.m. must say why in the audit log.
  // A refusal is recorded too, so the log shows the attempt.
  if (input.reason.trim() === '') {
    await ctx.audit
      .record({
        operator: actor.operator,
        action: 'route.switch',
        outcome: 'error',
        details: { channel: actor.channel, to: input.to, refused: 'no reason given' },
      })
      .catch(() => {});
    throw new AdminError('invalid_request', 'give a reason for the switch: it goes to the audit log');
  }
  const release =
    ctx.lock === undefined ? async () => {} : await ctx.lock.acquire('route-switch', SWITCH_LOCK_MS);
  if (release === undefined) {
    throw new AdminError('conflict', 'another route switch is in progress; try again in a moment');
  }
  try {
    return await doSwitch(ctx, input, actor);
  } finally {
    await release();
  }
}

async function doSwitch(
  ctx: OperationsContext,
  input: SwitchRouteInput,
  actor: Actor,
): Promise<SwitchRouteResult> {
  const { to, reason } = input;
  const audit = (outcome: 'ok' | 'error', details: Record<string, unknown>) =>
    ctx.audit.record({
      operator: actor.operator,
      action: 'route.switch',
      outcome,
      details: { channel: actor.channel, to, reason, ...details },
    });

  let from: Route | null;
  try {
    from = (await ctx.routes.get()) ?? null;
  } catch (error) {
    await audit('error', { from: null, phase: 'read_flag', error: describeFailure(error) });
    throw error;
  }

  let before: TriggerState | null = null;
  try {
    before = await ctx.trigger.read();
  } catch {
    // The switch itself says what went wrong if the platform cannot be reached.
  }

  let actual: TriggerState;
  try {
    actual = to === 'lambda' ? await ctx.trigger.enable() : await ctx.trigger.disable();
  } catch (error) {
    const text = describeFailure(error);
    const message =
      `could not switch the trigger to ${to}: ${text}. Nothing was changed by this step's failure; ` +
      `the route flag still says ${from ?? 'nothing (unknown)'}.`;
    await audit('error', { from, phase: 'trigger', error: text, unavailable: isUnavailable(error) });
    const status = await getRouteStatus(ctx).catch(() => statusOf(ctx, from, null, text));
    return { ok: false, from, to, phase: 'trigger', changed: false, message, status };
  }

  const triggerChanged = before === null || before.enabled !== actual.enabled;
  try {
    if (from !== to) await ctx.routes.set(to);
  } catch (error) {
    const text = describeFailure(error);
    const message =
      `the trigger is now ${actual.enabled ? 'on' : 'off'} but the route flag could not be set to ${to} (${text}); ` +
      `it still says ${from ?? 'nothing'}. Run the switch again once Redis is back.`;
    await audit('error', { from, phase: 'flag', error: text, triggerChanged });
    return {
      ok: false,
      from,
      to,
      phase: 'flag',
      changed: triggerChanged,
      message,
      status: statusOf(ctx, from, actual, null),
    };
  }

  const changed = triggerChanged || from !== to;
  const status = statusOf(ctx, to, actual, null);
  await audit('ok', {
    from,
    phase: 'done',
    changed,
    trigger: { enabled: actual.enabled, filter: actual.filter ?? null, problems: actual.problems },
  });
  const message = changed
    ? `switched the route from ${from ?? 'unknown'} to ${to}`
    : `the route already was ${to}; nothing changed`;
  return { ok: true, from, to, phase: 'done', changed, message, status };
}
