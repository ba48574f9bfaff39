import type { Clock } from '../ports/clock.js';
import { systemClock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import { silentLogger } from '../ports/logger.js';
import type { ItemOutcome, OperationState, OperationStore } from '../ports/operations.js';

/** One log ID's action: what it came to, in the action's own word (enqueued, not_found...). */
export type PerformItem = (logId: string) => Promise<{ outcome: ItemOutcome; detail: string }>;

export interface RunOperationOptions {
  store: OperationStore;
  id: string;
  perform: PerformItem;
  /** Log IDs read per batch; the state (pause/abort) is re-read between batches and every STATE_CHECK_MS. */
  batchSize?: number;
  clock?: Clock;
  /** Waits for the rate limit (tests pass a fake one). */
  sleep?: (ms: number) => Promise<void>;
  logger?: Pick<Logger, 'warn'>;
  /** Stops after the current item (the process is shutting down); the operation stays `running`. */
  signal?: AbortSignal;
}

/** How a run ended, and how many actions it performed (a restart proof counts them). */
export interface OperationRun {
  state: OperationState | 'missing';
  performed: number;
}

/** How often a running batch looks at the stored state: pause and abort land within this. */
export const STATE_CHECK_MS = 250;
const DEFAULT_BATCH = 100;

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs a stored operation from where it stands: takes the next log IDs of its frozen selection
 * that have no result yet, performs each at most `ratePerSecond` per second, records one result
 * per log ID, and finishes when none is left. Returns the state it stopped in: `paused`/`aborted`
 * (an operator), `finished`, or `running` (the signal: another runner continues it later).
 * A runner killed between an action and its record repeats that one action when it runs again,
 * which is why every action must be harmless twice; a recorded result is never repeated.
 */
export async function runOperation(options: RunOperationOptions): Promise<OperationRun> {
  let performed = 0;
  const end = (state: OperationState | 'missing'): OperationRun => ({ state, performed });
  const { store, id, perform } = options;
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? wait;
  const logger = options.logger ?? silentLogger;
  const batchSize = options.batchSize ?? DEFAULT_BATCH;

  let operation = await store.get(id);
  if (operation === undefined) return end('missing');
  const spacingMs = operation.options.ratePerSecond > 0 ? 1000 / operation.options.ratePerSecond : 0;
  let nextAt = clock.now().getTime();
  let checkedAt = nextAt;

  for (;;) {
    operation = await store.get(id);
    if (operation === undefined) return end('missing');
    if (operation.state !== 'running') return end(operation.state);
    const { logIds, position } = await store.nextBatch(id, batchSize);
    if (logIds.length === 0) {
      const finished = await store.transition(id, ['running'], 'finished', clock.now());
      return end(finished?.state ?? (await store.get(id))?.state ?? 'missing');
    }
    for (const logId of logIds) {
      if (options.signal?.aborted) return end('running');
      const now = clock.now().getTime();
      if (now - checkedAt >= STATE_CHECK_MS) {
        checkedAt = now;
        const state = (await store.get(id))?.state;
        if (state !== 'running') return end(state ?? 'missing');
      }
      if (spacingMs > 0) {
        if (nextAt > now) await sleep(nextAt - now);
        nextAt = Math.max(nextAt, now) + spacingMs;
      }
      let result: { outcome: ItemOutcome; detail: string };
      performed += 1;
      try {
        result = await perform(logId);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        logger.warn({ logId, operation: id, err: message }, 'an operation item failed');
        result = { outcome: 'failed', detail: `error: ${message}` };
      }
      await store.record(id, { logId, ...result, at: clock.now().toISOString() });
    }
    await store.advance(id, position);
  }
}
