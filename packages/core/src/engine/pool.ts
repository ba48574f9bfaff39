import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/** Longest stretch of synchronous work (inflate + sync small-file writes) between event-loop turns. */
const MAX_BUSY_MS = 20;

/**
 * Runs `work` over `items` with at most `concurrency` in flight, in order of start. The first
 * failure stops new work from starting; the returned promise rejects with it once every started
 * task has settled, so no write is still running when the caller cleans up.
 */
export async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  // One shared turn: every lane waits for the same setImmediate, so the lanes together (not each
  // of them) stay within the busy budget.
  let lastTurn = performance.now();
  let turn: Promise<void> | undefined;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      if (performance.now() - lastTurn > MAX_BUSY_MS) {
        turn ??= yieldToEventLoop().then(() => {
          lastTurn = performance.now();
          turn = undefined;
        });
        await turn;
        continue;
      }
      const index = next++;
      try {
        await work(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
  if (failure !== undefined) throw failure.error;
}
