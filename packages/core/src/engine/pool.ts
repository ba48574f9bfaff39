import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { ConcurrencyLimit } from './concurrency.js';

/** Longest stretch of synchronous work (inflate + sync small-file writes) between event-loop turns. */
const MAX_BUSY_MS = 20;

/**
 * Runs `work` over `items` with at most `concurrency` in flight, in order of start. A
 * ConcurrencyLimit is read before each start, so a limit that moves (AdaptiveConcurrency) takes
 * effect at once. The first failure stops new work from starting; the returned promise rejects
 * with it once every started task has settled, so no write is still running when the caller
 * cleans up.
 */
export async function runPool<T>(
  items: readonly T[],
  concurrency: number | ConcurrencyLimit,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  const limit = typeof concurrency === 'number' ? { current: concurrency, max: concurrency } : concurrency;
  let next = 0;
  let active = 0;
  let failure: { error: unknown } | undefined;
  const waiting: Array<() => void> = [];
  // Woken lanes re-check the limit before they start: waking one too many costs nothing.
  const wake = () => {
    for (let free = Math.max(1, limit.current) - active; free > 0 && waiting.length > 0; free--) {
      waiting.shift()!();
    }
  };
  // One shared turn: every lane waits for the same setImmediate, so the lanes together (not each
  // of them) stay within the busy budget.
  let lastTurn = performance.now();
  let turn: Promise<void> | undefined;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      if (active >= Math.max(1, limit.current)) {
        await new Promise<void>((resolve) => waiting.push(resolve));
        continue;
      }
      if (performance.now() - lastTurn > MAX_BUSY_MS) {
        turn ??= yieldToEventLoop().then(() => {
          lastTurn = performance.now();
          turn = undefined;
        });
        await turn;
        continue;
      }
      const index = next++;
      active += 1;
      try {
        await work(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      } finally {
        active -= 1;
        wake();
      }
    }
    // A lane that leaves lets the waiting ones see the end (or the failure) too.
    for (const resume of waiting.splice(0)) resume();
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit.max, items.length)) }, lane));
  if (failure !== undefined) throw failure.error;
}
