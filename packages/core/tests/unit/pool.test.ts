import { describe, expect, it } from 'vitest';
import { AdaptiveConcurrency } from '../../src/engine/concurrency.js';
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

  it('follows a limit that moves: never more in flight than it allows at each start', async () => {
    // Prepare: the limit rises to 6, then drops to 2 halfway through.
    const limit = { current: 1, max: 8 };
    let active = 0;
    const seen: Array<{ active: number; allowed: number }> = [];
    // Act
    await runPool(
      Array.from({ length: 60 }, (_, i) => i),
      limit,
      async (i) => {
        active += 1;
        seen.push({ active, allowed: limit.current });
        limit.current = i < 30 ? Math.min(6, limit.current + 1) : 2;
        await new Promise((r) => setTimeout(r, 2));
        active -= 1;
      },
    );
    // Assess
    expect(seen).toHaveLength(60);
    expect(Math.max(...seen.map((s) => s.active))).toBe(6);
    expect(seen.slice(45).every((s) => s.active <= 2)).toBe(true);
  });
});

describe('AdaptiveConcurrency', () => {
  it('doubles per clean window up to its cap, halves on a slow-down, then grows by one per window', () => {
    // Prepare
    const limit = new AdaptiveConcurrency({ initial: 8, max: 64 });
    const clean = (n: number) => {
      for (let i = 0; i < n; i++) limit.succeeded();
    };
    // Act + Assess
    clean(8);
    expect(limit.current).toBe(16);
    clean(16 + 32);
    expect(limit.current).toBe(64);
    clean(1000);
    expect(limit.current).toBe(64);
    limit.throttled();
    expect(limit.current).toBe(32);
    limit.throttled();
    expect(limit.current).toBe(16);
    clean(16);
    expect(limit.current).toBe(17);
    for (let i = 0; i < 10; i++) limit.throttled();
    expect(limit.current).toBe(1);
  });
});
