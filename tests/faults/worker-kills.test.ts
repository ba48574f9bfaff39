/**
 * Fault suite, worker deaths: worker processes SIGKILLed at random moments while they extract a
 * batch (reading the archive, writing files, writing the manifest, recording, completing the job),
 * each replaced at once by a fresh process. Every archive must end exactly as a clean run leaves
 * it: its folder holds exactly the archive's files, byte for byte (checked against the files the
 * archive was built from, CRC32s recomputed), and one manifest names the archive.
 */
import { type BullmqProducer, createBullmqProducer } from '@logzip/core/bullmq';
import { describeWithMoto } from '@logzip/test-utils';
import { expect, it } from 'vitest';
import { uploadBatch } from './helpers/corpus.js';
import { faultWorkerEnv, useFaultEnv } from './helpers/fault-env.js';
import { pick, randomInt, readFaultSettings, scenarioTimeoutMs, seededRandom } from './helpers/settings.js';
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
const WORKERS = 3;

describeWithMoto('fault suite: worker processes killed with SIGKILL', () => {
  // Slow writes keep runs in flight long enough for kills to land in the middle of them.
  const fx = useFaultEnv('faults-kill', {
    rules: (bucket: string) => [
      { name: 'slow-put', method: 'PUT', path: `/${bucket}/extracted/`, fault: { kind: 'latency', ms: 80 } },
    ],
  });

  it(
    'every archive ends extracted exactly as a clean run leaves it',
    async () => {
      const { s3, bucket, redis } = fx;
      // Prepare
      const random = seededRandom(settings.seed ^ 0x4b494c4c);
      const figures = newFigures('SIGKILLed workers (queue route)', settings.seed);
      const started = Date.now();
      const env = faultWorkerEnv(fx, {
        // A dead worker's job runs again after about one lock duration; kills must not exhaust
        // the stall budget (a job stalled more often fails, recorded: that is a separate guarantee).
        LOGZIP_WORKER_LOCK_DURATION: '2s',
        LOGZIP_WORKER_MAX_STALLED: '50',
      });
      const pool = new WorkerPool(env, WORKERS, 'kills');
      const producer: BullmqProducer = createBullmqProducer({
        connection: redis,
        prefix: env['LOGZIP_QUEUE_PREFIX'],
        backoffDelayMs: 300,
      });
      let enqueued = 0;
      try {
        await pool.start();
        // A round that finished before any kill landed proves nothing: run another (at most 5).
        for (
          let round = 0;
          round === 0 ||
          Date.now() - started < settings.seconds * 1000 ||
          (pool.midRunKills === 0 && round < 5);
          round++
        ) {
          const archives = await uploadBatch(s3, bucket, random, {
            label: 'k',
            round,
            count: settings.archives,
            maxFiles: 24,
            maxBytes: 16 * 1024,
          });

          // Act: enqueue the batch, then every 0.3–1.5 s SIGKILL a worker that is running a job
          // (picked at random), replacing it at once, until the batch is done.
          for (const a of archives)
            await producer.enqueue({ logId: a.logId, bucket, key: a.key, reason: 'upload' });
          enqueued += archives.length;
          let done = false;
          const idle = waitForQueueIdle(producer, enqueued, 120_000 + archives.length * 10_000).finally(
            () => {
              done = true;
            },
          );
          const killsBefore = pool.kills;
          // At most 3 kills per 4 archives (each costs a stall detection): the batch always finishes.
          while (!done && pool.kills - killsBefore < Math.ceil(archives.length * 0.75)) {
            // The first kill of a batch comes early, so a quick batch still meets one.
            const first = pool.kills === killsBefore;
            await new Promise((resolve) =>
              setTimeout(resolve, first ? randomInt(random, 100, 500) : randomInt(random, 300, 1_500)),
            );
            const busy = pool.busy();
            if (!done && busy.length > 0) await pool.killAndRestart(pick(random, busy), false);
          }
          await idle;

          // Assess
          const verdict = await checkStore(s3, { bucket, ...DEFAULT_LAYOUT }, archives);
          addVerdict(figures, verdict);
          expect(verdict.lost).toEqual([]);
          expect(verdict.halfDone).toEqual([]);
          expect(verdict.inconsistent).toEqual([]);
          expect(verdict.openFailures).toEqual([]);
          expect(verdict.failed).toEqual([]);
          expect(verdict.extracted).toHaveLength(archives.length);
        }
        const { retries, stalls } = await jobRetries(producer);
        figures.retries = retries;
        addFaults(figures, { sigkill: pool.kills });
        figures.detail = { 'kills during a run': pool.midRunKills, 'stalled re-runs': stalls };
      } finally {
        figures.durationMs = Date.now() - started;
        printFigures(figures);
        await pool.stop();
        await producer.close();
      }
      expect(pool.midRunKills).toBeGreaterThan(0);
      expect(figures.lost + figures.halfDone + figures.inconsistent).toBe(0);
    },
    scenarioTimeoutMs(settings, 10_000),
  );
});
