/**
 * Fault suite, Redis restarts: a private redis-server (append-only, `appendfsync always`, its own
 * folder and port; never the shared Redis) is killed with SIGKILL and started again on the same
 * port and data while worker processes run a batch, and again while more jobs arrive. The workers
 * must reconnect by themselves (no restart of theirs), and no job may be lost: every enqueued job
 * completes, every archive is extracted exactly.
 */
import { type BullmqProducer, createBullmqProducer, createRedis } from '@logzip/core/bullmq';
import { describeWithMoto, redisServerAvailable, waitUntil } from '@logzip/test-utils';
import type { Redis } from 'ioredis';
import { beforeAll, expect, it } from 'vitest';
import { type UploadedArchive, uploadBatch } from './helpers/corpus.js';
import { faultWorkerEnv, useFaultEnv } from './helpers/fault-env.js';
import { randomInt, readFaultSettings, scenarioTimeoutMs, seededRandom } from './helpers/settings.js';
import {
  addFaults,
  addVerdict,
  checkStore,
  DEFAULT_LAYOUT,
  newFigures,
  printFigures,
} from './helpers/verdict.js';
import { jobRetries, WorkerPool, waitForQueueIdle } from './helpers/workers.js';

const settings = readFaultSettings();

describeWithMoto('fault suite: Redis restarted mid-batch', () => {
  beforeAll(async () => {
    if (!(await redisServerAvailable())) throw new Error('redis-server is needed for this suite');
  });
  const fx = useFaultEnv('faults-redis', {
    durableRedis: true,
    rules: (bucket: string) => [
      { name: 'slow-put', method: 'PUT', path: `/${bucket}/extracted/`, fault: { kind: 'latency', ms: 150 } },
    ],
  });

  it(
    'workers reconnect by themselves and no job is lost',
    async () => {
      const { s3, bucket, redisServer } = fx;
      // Prepare
      const random = seededRandom(settings.seed ^ 0x52454453);
      const figures = newFigures('Redis restarted mid-batch (queue route)', settings.seed);
      const started = Date.now();
      const env = faultWorkerEnv(fx, {
        LOGZIP_WORKER_LOCK_DURATION: '5s',
      });
      const pool = new WorkerPool(env, 2, 'redis-restart');
      const redis: Redis = createRedis(redisServer.url);
      const producer: BullmqProducer = createBullmqProducer({
        connection: redis,
        prefix: env['LOGZIP_QUEUE_PREFIX'],
        backoffDelayMs: 300,
      });
      const pids: number[] = [];
      let enqueued = 0;
      let activeAtRestart = 0;
      const enqueue = async (archives: readonly UploadedArchive[]) => {
        for (const a of archives) {
          const out = await producer.enqueue({ logId: a.logId, bucket, key: a.key, reason: 'upload' });
          expect(out.outcome).toBe('enqueued');
        }
        enqueued += archives.length;
      };
      try {
        await pool.start();
        pids.push(...pool.slots.map((w) => w?.child.pid ?? 0));
        for (let round = 0; round === 0 || Date.now() - started < settings.seconds * 1000; round++) {
          const archives = await uploadBatch(s3, bucket, random, {
            label: 'r',
            round,
            count: settings.archives,
            maxFiles: 24,
            maxBytes: 16 * 1024,
          });
          const half = Math.ceil(archives.length / 2);
          const completedBefore = (await producer.getCounts())['completed'] ?? 0;

          // Act: half the batch, a restart once a first job is done while others run, the other
          // half, another restart while it runs.
          const whileRunning = async (completed: number) => {
            await waitUntil(
              async () => {
                const counts = await producer.getCounts();
                return (counts['completed'] ?? 0) > completed && (counts['active'] ?? 0) > 0;
              },
              { timeoutMs: 30_000, intervalMs: 50, what: 'a job completed and others running' },
            );
            activeAtRestart += (await producer.getCounts())['active'] ?? 0;
            await redisServer.restart(randomInt(random, 500, 2_500));
          };
          await enqueue(archives.slice(0, half));
          await whileRunning(completedBefore);
          await enqueue(archives.slice(half));
          await whileRunning((await producer.getCounts())['completed'] ?? 0);
          await waitForQueueIdle(producer, enqueued, 60_000 + archives.length * 5_000);

          // Assess
          const completed = await producer.queue.getJobs(['completed'], 0, -1);
          for (const a of archives) expect(completed.map((j) => j.data.logId)).toContain(a.logId);
          const verdict = await checkStore(s3, { bucket, ...DEFAULT_LAYOUT }, archives);
          addVerdict(figures, verdict);
          expect(verdict.lost).toEqual([]);
          expect(verdict.halfDone).toEqual([]);
          expect(verdict.inconsistent).toEqual([]);
          expect(verdict.openFailures).toEqual([]);
          expect(verdict.extracted).toHaveLength(archives.length);
        }
        const { retries, stalls } = await jobRetries(producer);
        figures.retries = retries;
        figures.detail = { 'jobs running at a restart': activeAtRestart, 'stalled re-runs': stalls };
        addFaults(figures, { 'redis-restart': redisServer.restarts });
        // The same worker processes did all the work: they reconnected rather than died.
        expect(pool.slots.map((w) => w?.child.pid ?? 0)).toEqual(pids);
        expect(pool.slots.every((w) => w?.child.exitCode === null)).toBe(true);
      } finally {
        figures.durationMs = Date.now() - started;
        printFigures(figures);
        await pool.stop();
        await producer.close();
        redis.disconnect();
      }
      expect(activeAtRestart).toBeGreaterThan(0);
      expect(figures.lost + figures.halfDone + figures.inconsistent).toBe(0);
    },
    scenarioTimeoutMs(settings, 6_000),
  );
});
