/**
 * Stored operations in real Redis: the frozen selection, one result per log ID, pause/resume/abort,
 * a runner that continues where another stopped, and the rate limit (a fake clock, no waiting).
 */
import { describeWithRedis, requireRedis, uniquePrefix } from '@logzip/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRedisOperationStore } from '../../src/adapters/redis-index/redis-operation-store.js';
import { runOperation } from '../../src/operations/run-operation.js';
import type { OperationStore } from '../../src/ports/operations.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `log_${i}`);

describeWithRedis('operations (Redis store and runner)', () => {
  let redis: Redis;
  const fresh = () => createRedisOperationStore({ redis, namespace: `${uniquePrefix('ops')}:` });
  const create = (store: OperationStore, logIds: string[], ratePerSecond = 0) =>
    store.create(
      {
        kind: 'reenqueue',
        createdBy: 'dana',
        reason: 'S3 outage',
        selection: { group: 'abc' },
        options: { ratePerSecond },
      },
      logIds,
      new Date(),
    );

  beforeAll(() => {
    redis = new Redis(requireRedis());
  });
  afterAll(async () => {
    await redis?.quit();
  });

  it('performs every log ID of the frozen selection once and finishes with one result each', async () => {
    // Prepare
    const store = fresh();
    const op = await create(store, ids(250));
    const calls = new Map<string, number>();

    // Act
    const { state } = await runOperation({
      store,
      id: op.id,
      batchSize: 40,
      perform: async (logId) => {
        calls.set(logId, (calls.get(logId) ?? 0) + 1);
        if (logId.endsWith('7')) return { outcome: 'skipped', detail: 'not_found' };
        if (logId === 'log_13') throw new Error('Redis went away');
        return { outcome: 'done', detail: 'enqueued' };
      },
    });
    const after = await store.get(op.id);
    const results = await store.results(op.id, { offset: 0, limit: 1000 });

    // Assess
    expect(op).toMatchObject({
      state: 'running',
      total: 250,
      done: 0,
      left: 250,
      createdBy: 'dana',
      reason: 'S3 outage',
    });
    expect(state).toBe('finished');
    expect(after).toMatchObject({
      state: 'finished',
      total: 250,
      done: 224,
      skipped: 25,
      failed: 1,
      left: 0,
    });
    expect([...calls.values()].every((n) => n === 1)).toBe(true);
    expect(results).toHaveLength(250);
    expect(results.find((r) => r.logId === 'log_13')).toMatchObject({
      outcome: 'failed',
      detail: 'error: Redis went away',
    });
  });

  it('stops on pause within the batch, resumes where it stopped, and never repeats a recorded log ID', async () => {
    // Prepare
    const store = fresh();
    const op = await create(store, ids(1000));
    const calls = new Map<string, number>();
    let performed = 0;
    const perform = async (logId: string) => {
      calls.set(logId, (calls.get(logId) ?? 0) + 1);
      performed += 1;
      if (performed === 120) await store.transition(op.id, ['running'], 'paused', new Date());
      // The runner reads the state every STATE_CHECK_MS: give it time to see the pause.
      await new Promise((resolve) => setTimeout(resolve, 2));
      return { outcome: 'done' as const, detail: 'enqueued' };
    };

    // Act
    const { state: first } = await runOperation({ store, id: op.id, batchSize: 500, perform });
    const paused = await store.get(op.id);
    const resumed = await store.transition(op.id, ['paused'], 'running', new Date());
    const { state: second, performed: resumedRun } = await runOperation({
      store,
      id: op.id,
      batchSize: 500,
      perform,
    });
    const finished = await store.get(op.id);

    // Assess
    expect(first).toBe('paused');
    expect(paused?.state).toBe('paused');
    expect(paused?.done).toBeGreaterThanOrEqual(120);
    expect(paused?.done).toBeLessThan(1000);
    expect(resumed?.state).toBe('running');
    expect(second).toBe('finished');
    expect(resumedRun).toBe(1000 - (paused?.done ?? 0));
    expect(finished).toMatchObject({ done: 1000, left: 0 });
    expect(calls.size).toBe(1000);
    expect([...calls.values()].every((n) => n === 1)).toBe(true);
  });

  it('skips log IDs a runner before a restart recorded but did not get past (results kept, position not)', async () => {
    // Prepare: a runner recorded 0..49 and died before it advanced its position
    const store = fresh();
    const op = await create(store, ids(100));
    for (const logId of ids(50))
      await store.record(op.id, { logId, outcome: 'done', detail: 'enqueued', at: new Date().toISOString() });
    const calls: string[] = [];

    // Act
    await runOperation({
      store,
      id: op.id,
      batchSize: 30,
      perform: async (logId) => {
        calls.push(logId);
        return { outcome: 'done', detail: 'enqueued' };
      },
    });
    const twice = await store.record(op.id, {
      logId: 'log_1',
      outcome: 'done',
      detail: 'again',
      at: new Date().toISOString(),
    });

    // Assess
    expect(calls).toEqual(ids(100).slice(50));
    expect(await store.get(op.id)).toMatchObject({ state: 'finished', done: 100 });
    expect(twice).toBe(false);
  });

  it('an aborted operation does nothing more and cannot be resumed', async () => {
    // Prepare
    const store = fresh();
    const op = await create(store, ids(10));
    await store.transition(op.id, ['running', 'paused'], 'aborted', new Date());

    // Act
    const { state } = await runOperation({
      store,
      id: op.id,
      perform: async () => ({ outcome: 'done', detail: 'x' }),
    });
    const resumed = await store.transition(op.id, ['paused'], 'running', new Date());

    // Assess
    expect(state).toBe('aborted');
    expect(resumed).toBeUndefined();
    expect(await store.get(op.id)).toMatchObject({
      state: 'aborted',
      done: 0,
      left: 10,
      finishedAt: expect.any(String),
    });
  });

  it('keeps to the rate limit (a fake clock: 30 items at 10/s wait about 3 s in all)', async () => {
    // Prepare
    const store = fresh();
    const op = await create(store, ids(30), 10);
    let now = Date.now();
    let slept = 0;

    // Act
    await runOperation({
      store,
      id: op.id,
      clock: { now: () => new Date(now) },
      sleep: async (ms) => {
        slept += ms;
        now += ms;
      },
      perform: async () => ({ outcome: 'done', detail: 'enqueued' }),
    });

    // Assess
    expect(slept).toBeGreaterThanOrEqual(2_800);
    expect(slept).toBeLessThanOrEqual(3_000);
  });

  it('lists operations newest first', async () => {
    const store = fresh();
    const a = await create(store, ids(1));
    const b = await store.create(
      {
        kind: 'purge',
        createdBy: 'erin',
        reason: 'privacy',
        selection: { logIds: 1 },
        options: { ratePerSecond: 0 },
      },
      ['x'],
      new Date(Date.now() + 1000),
    );
    expect((await store.list(10)).map((o) => o.id)).toEqual([b.id, a.id]);
  });
});
