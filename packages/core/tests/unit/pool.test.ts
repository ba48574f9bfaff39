import { describe, expect, it } from 'vitest';
import { runPool } from '../../src/engine/pool.js';

describe('runPool', () => {
  it('keeps the event loop turning while every task completes synchronously', async () => {
    // Prepare: 400 tasks of ~1 ms busy work each that never yield (like sync small-file writes).
    const busy = () => {
      const end = performance.now() + 1;
      while (performance.now() < end) {}
    };
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    // Act
    await runPool(
      Array.from({ length: 400 }, (_, i) => i),
      8,
      async () => busy(),
    );
    clearInterval(timer);
    // Assess: ~400 ms of work; without yielding the interval would never have fired.
    expect(ticks).toBeGreaterThan(10);
  });

  it('starts no new work after a failure and rejects with the first error', async () => {
    const started: number[] = [];
    const error = await runPool([1, 2, 3, 4, 5, 6], 2, async (n) => {
      started.push(n);
      if (n === 2) throw new Error(`boom ${n}`);
      await new Promise((r) => setTimeout(r, 5));
    }).catch((e: Error) => e);
    expect((error as Error).message).toBe('boom 2');
    expect(started.length).toBeLessThan(6);
  });
});
