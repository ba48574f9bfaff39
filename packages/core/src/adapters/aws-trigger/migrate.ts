import { ListEventSourceMappingsCommand, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import type { Route, TriggerState } from '../../ports/route.js';
import { createAwsTriggerControl, platformError } from './aws.js';
import { type BufferedTriggerControlOptions, createBufferedTriggerControl } from './buffered.js';

export type TriggerMode = 'direct' | 'buffered';

/** What a migration touches: the same resources the buffered trigger control reads. */
export type TriggerMigrationOptions = Pick<
  BufferedTriggerControlOptions,
  's3' | 'lambda' | 'sqs' | 'bucket' | 'prefix' | 'suffix' | 'functionName' | 'queueUrl'
>;

export interface TriggerMigrationRequest {
  to: TriggerMode;
  /** The route flag: which consumer is on after the move (the flag itself does not change). */
  route: Route;
  /** Leaving buffered mode: how long to wait for the queue to empty (default 15 min). */
  drainTimeoutMs?: number;
  /** How often the queue's depth is read while draining (default 5 s). */
  pollMs?: number;
  /** Called with each step as it completes (the CLI prints them). */
  onStep?: (step: string) => void;
}

export interface TriggerMigrationResult {
  to: TriggerMode;
  route: Route;
  /** What was done, in order. */
  steps: string[];
  /** Leaving buffered mode: whether the queue emptied in time (true when entering it). */
  drained: boolean;
  /** Messages still in the queue and its dead-letter queue when the migration returned. */
  remaining: number;
  /** The trigger as the mode moved to reads it. */
  state: TriggerState;
}

type Depth = { visible?: number; inFlight?: number; delayed?: number } | null | undefined;

/** The trigger queue's messages and its dead-letter queue's (the buffered workers record those). */
function depthOf(state: TriggerState): number {
  const { queue, deadLetterQueue } = state.details as { queue?: Depth; deadLetterQueue?: Depth };
  const count = (q: Depth) => (q?.visible ?? 0) + (q?.inFlight ?? 0) + (q?.delayed ?? 0);
  return count(queue) + count(deadLetterQueue);
}

/**
 * Moves a running deployment between the trigger modes without losing an upload: the bucket's
 * notification configuration changes in one write from the old entry to the new one (S3 refuses
 * two overlapping entries, and a single write means each upload is announced by the old
 * configuration or the new one, never by neither; an upload announced to both consumers around the
 * write is extracted once and the other run reports `already_extracted`).
 *
 * - `to: 'buffered'`: the queue's entry replaces the function's direct entry, then the event source
 *   mapping is enabled for route `lambda` (left disabled for `queue`: buffered workers take the
 *   queue). Events already in Lambda's asynchronous queue still run.
 * - `to: 'direct'`: the function's direct entry (route `lambda`; none for `queue`, where the
 *   sweeper finds uploads) replaces the queue's entry; then the queue is drained by whoever consumes
 *   it now (the mapping under `lambda`, a buffered worker under `queue`; the buffered workers also
 *   record the dead-letter queue's messages) and, once both are empty, the mapping is disabled. Not empty within drainTimeoutMs: `drained: false`, the mapping left as it was;
 *   running it again resumes (the write is then a no-op).
 *
 * Idempotent. The route flag is read by the caller and never changed here.
 *
 * @example
 * const result = await migrateTrigger({ s3, lambda, sqs, bucket, prefix: 'incoming/', functionName,
 *   queueUrl }, { to: 'direct', route: 'lambda' });
 */
export async function migrateTrigger(
  options: TriggerMigrationOptions,
  request: TriggerMigrationRequest,
): Promise<TriggerMigrationResult> {
  const steps: string[] = [];
  const step = (text: string) => {
    steps.push(text);
    request.onStep?.(text);
  };
  const buffered = createBufferedTriggerControl(options);

  if (request.to === 'buffered') {
    const state = request.route === 'lambda' ? await buffered.enable() : await buffered.disable();
    step(
      `the bucket's notification sends to the queue (the direct entry of ${options.functionName} removed in the same write)`,
    );
    step(
      request.route === 'lambda'
        ? 'the event source mapping is enabled: Lambda takes the queue'
        : 'the event source mapping is disabled: buffered workers take the queue (route queue)',
    );
    return { to: 'buffered', route: request.route, steps, drained: true, remaining: depthOf(state), state };
  }

  const before = await buffered.read();
  const queueArn = (before.details as { queue: { arn: string } }).queue.arn;
  const direct = createAwsTriggerControl({ ...options, retireQueueArn: queueArn });
  const state = request.route === 'lambda' ? await direct.enable() : await direct.disable();
  step(
    request.route === 'lambda'
      ? `the bucket's notification invokes ${options.functionName} directly (the queue's entry removed in the same write)`
      : "the queue's entry is removed (route queue in direct mode: no entry; the sweeper finds new uploads)",
  );

  const deadline = Date.now() + (request.drainTimeoutMs ?? 15 * 60_000);
  let remaining = depthOf(await buffered.read());
  step(`draining the queue and its dead-letter queue: ${remaining} message(s) left`);
  let last = remaining;
  while (remaining > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, request.pollMs ?? 5_000));
    remaining = depthOf(await buffered.read());
    if (remaining !== last)
      step(`draining the queue and its dead-letter queue: ${remaining} message(s) left`);
    last = remaining;
  }
  if (remaining > 0) {
    step(
      `the queue and its dead-letter queue still hold ${remaining} message(s): the event source mapping is left as it was; keep it enabled (route lambda) and a buffered worker running (it also records the dead letters) and run the migration again`,
    );
    return { to: 'direct', route: request.route, steps, drained: false, remaining, state };
  }

  let mappings: Array<{ UUID?: string; State?: string }>;
  try {
    mappings =
      (
        await options.lambda.send(
          new ListEventSourceMappingsCommand({
            FunctionName: options.functionName,
            EventSourceArn: queueArn,
          }),
        )
      ).EventSourceMappings ?? [];
  } catch (error) {
    throw platformError(
      'find_mapping',
      `listing the event source mappings of ${options.functionName}`,
      error,
    );
  }
  for (const mapping of mappings) {
    if (mapping.UUID === undefined || mapping.State === 'Disabled' || mapping.State === 'Disabling') continue;
    try {
      await options.lambda.send(new UpdateEventSourceMappingCommand({ UUID: mapping.UUID, Enabled: false }));
    } catch (error) {
      throw platformError('update_mapping', `disabling the event source mapping ${mapping.UUID}`, error);
    }
  }
  step(
    'the queue and its dead-letter queue are empty; the event source mapping is disabled (deploy with TriggerMode=direct to remove it)',
  );
  return { to: 'direct', route: request.route, steps, drained: true, remaining: 0, state };
}
