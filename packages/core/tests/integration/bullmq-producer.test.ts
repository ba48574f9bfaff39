import { describeWithRedis, requireRedis, uniquePrefix } from '@logzip/test-utils';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  type BullmqProducer,
  createBullmqProducer,
  createRedis,
  createRedisRouteStore,
} from '../../src/adapters/bullmq/index.js';
import type { ExtractJob } from '../../src/job.js';

function job(logId: string): ExtractJob {
  return { logId, bucket: 'logs', key: `incoming/${logId}.zip`, reason: 'upload' };
}

async function cleanup(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
}

describeWithRedis('createBullmqProducer', () => {
  let redis: Redis;
  let prefix: string;
  let producer: BullmqProducer;
  const workers: Worker[] = [];

  beforeEach(() => {
    redis = createRedis(requireRedis());
    prefix = uniquePrefix('producer');
    producer = createBullmqProducer({ connection: redis, prefix, backoffDelayMs: 10 });
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close(true)));
    await producer.close();
    await cleanup(redis, prefix);
    redis.disconnect();
  });

  function runWorker(processor: () => Promise<unknown>): Worker {
    const worker = new Worker(producer.queue.name, processor, {
      connection: createRedis(requireRedis(), { forWorker: true }),
      prefix,
    });
    workers.push(worker);
    return worker;
  }

  it('enqueues a job under jobIdFor(logId) with retries, backoff and bounded retention', async () => {
    // Prepare
    const logId = '54321';

    // Act
    const result = await producer.enqueue(job(logId));

    // Assess
    expect(result).toEqual({ outcome: 'enqueued', jobId: 'log-54321' });
    const stored = await producer.queue.getJob('log-54321');
    expect(stored?.data).toEqual(job(logId));
    expect(stored?.opts.attempts).toBe(3);
    expect(stored?.opts.backoff).toEqual({ type: 'exponential', delay: 10 });
    expect(stored?.opts.removeOnComplete).toMatchObject({
      age: expect.any(Number),
      count: expect.any(Number),
    });
    expect(stored?.opts.removeOnFail).toMatchObject({ age: expect.any(Number), count: expect.any(Number) });
    expect(await producer.getJobState(logId)).toBe('waiting');
  });

  it('reports already_queued for a log ID whose job is still waiting', async () => {
    // Prepare
    await producer.enqueue(job('a1'));

    // Act
    const second = await producer.enqueue({ ...job('a1'), reason: 'sweep' });

    // Assess
    expect(second).toEqual({ outcome: 'already_queued', jobId: 'log-a1' });
    expect(await producer.queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
  });

  it('lets exactly one of many concurrent enqueues of one log ID through', async () => {
    // Act
    const results = await Promise.all(Array.from({ length: 12 }, () => producer.enqueue(job('race'))));

    // Assess
    expect(results.filter((r) => r.outcome === 'enqueued')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'already_queued')).toHaveLength(11);
    expect(await producer.queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
  });

  it('enqueues again once the previous job completed', async () => {
    // Prepare
    await producer.enqueue(job('done'));
    let runs = 0;
    const worker = runWorker(async () => {
      runs += 1;
      return 'ok';
    });
    await new Promise((resolve) => worker.once('completed', resolve));

    // Act
    const again = await producer.enqueue(job('done'));
    await new Promise((resolve) => worker.once('completed', resolve));

    // Assess
    expect(again.outcome).toBe('enqueued');
    expect(runs).toBe(2);
  });

  it('enqueues again once the previous job failed', async () => {
    // Prepare
    await producer.enqueue(job('bad'));
    const worker = runWorker(async () => {
      throw new Error('boom');
    });
    await new Promise<void>((resolve) => {
      worker.on('failed', (j) => {
        if (j?.finishedOn) resolve();
      });
    });
    expect(await producer.getJobState('bad')).toBe('failed');
    await worker.close();

    // Act
    const again = await producer.enqueue(job('bad'));

    // Assess
    expect(again.outcome).toBe('enqueued');
    expect(await producer.getJobState('bad')).toBe('waiting');
    expect((await producer.queue.getJob('log-bad'))?.attemptsMade).toBe(0);
  });

  it('refuses a job that does not match the job schema', async () => {
    // Act
    const result = await producer.enqueue({ ...job('x'), logId: 'no spaces allowed' });

    // Assess
    expect(result.outcome).toBe('refused');
    expect(result.outcome === 'refused' && result.reason).toMatch(/logId/);
    expect(await producer.queue.getJobCounts('waiting')).toEqual({ waiting: 0 });
  });
});

describeWithRedis('createRedisRouteStore', () => {
  it('reads lambda/queue, and anything else (or nothing) as unknown', async () => {
    // Prepare
    const redis = createRedis(requireRedis());
    const key = `${uniquePrefix('route')}:route`;
    const routes = createRedisRouteStore(redis, key);

    try {
      // Act + Assess
      expect(await routes.get()).toBeUndefined();
      await routes.set('queue');
      expect(await routes.get()).toBe('queue');
      await routes.set('lambda');
      expect(await redis.get(key)).toBe('lambda');
      await redis.set(key, 'sideways');
      expect(await routes.get()).toBeUndefined();
    } finally {
      await redis.del(key);
      redis.disconnect();
    }
  });
});
