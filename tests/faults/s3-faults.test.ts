/**
 * Fault suite, S3 faults: 500 InternalError, 503 SlowDown, connection resets (before a response and
 * in the middle of a body) and latency, injected at random by the S3 fault proxy between logzip and
 * moto, plus bursts that fail whole attempts and archives whose writes fail for good. Both routes:
 * worker processes taking jobs from the queue, and the deployed Lambda bundle invoked attempt by
 * attempt as Lambda's asynchronous invocation does (same awsRequestId, 3 attempts, then the
 * on-failure destination, drained by a worker). The verdict comes from checkStore (verdict.ts).
 */
import { type BullmqProducer, createBullmqProducer } from '@logzip/core/bullmq';
import { describeWithMoto, waitUntil } from '@logzip/test-utils';
import { beforeAll, expect, it } from 'vitest';
import { type UploadedArchive, uploadBatch } from './helpers/corpus.js';
import { faultWorkerEnv, useFaultEnv } from './helpers/fault-env.js';
import { DESTINATION_KEY, type LambdaService, s3Event, startLambdaService } from './helpers/lambda.js';
import { type ArchivePlan, archiveRules, backgroundRules, planArchives } from './helpers/s3-rules.js';
import { readFaultSettings, scenarioTimeoutMs, seededRandom } from './helpers/settings.js';
import {
  addFaults,
  addVerdict,
  checkStore,
  DEFAULT_LAYOUT,
  type FaultFigures,
  newFigures,
  printFigures,
  type Verdict,
} from './helpers/verdict.js';
import { jobRetries, WorkerPool, waitForQueueIdle } from './helpers/workers.js';

const settings = readFaultSettings();

describeWithMoto('fault suite: S3 faults on both routes', () => {
  const fx = useFaultEnv('faults-s3', { random: seededRandom(settings.seed) });
  let env: Record<string, string>;
  const random = seededRandom(settings.seed ^ 0x53334641);

  beforeAll(() => {
    env = faultWorkerEnv(fx, { LOGZIP_WORKER_LOCK_DURATION: '10s' });
  });

  /** Plans and installs one batch's faults; returns each archive's plan. */
  function injectFaults(archives: readonly UploadedArchive[]): Map<string, ArchivePlan> {
    const { proxy, bucket } = fx;
    const plans = planArchives(
      random,
      archives.map((a) => a.logId),
    );
    proxy.setRules([
      ...archives.flatMap((a) => archiveRules(bucket, a, plans.get(a.logId) ?? 'background')),
      ...backgroundRules(bucket, settings.probability),
    ]);
    proxy.resetStats();
    return plans;
  }

  function assessRound(verdict: Verdict, plans: Map<string, ArchivePlan>): void {
    const doomed = [...plans].filter(([, plan]) => plan === 'exhaust').map(([logId]) => logId);
    expect(verdict.lost).toEqual([]);
    expect(verdict.halfDone).toEqual([]);
    expect(verdict.inconsistent).toEqual([]);
    expect(verdict.failedWithFiles).toEqual([]);
    // Every doomed archive fails for good. The random background faults can, rarely, also use up a
    // healthy archive's three attempts (the SDK's retry quota drains under them): that archive must
    // then end like a doomed one (a `failed` record with a retryable code, an empty folder; lost
    // and half-done above stay 0), never in between.
    for (const logId of doomed) expect(verdict.failed).toContain(logId);
    for (const logId of verdict.failed) {
      expect(verdict.failures.get(logId)?.state).toBe('failed');
      expect(['storage_unavailable', 'timeout']).toContain(verdict.failures.get(logId)?.code);
    }
    const unlucky = verdict.failed.filter((logId) => !doomed.includes(logId));
    if (unlucky.length > 0)
      console.log(`[fault suite] background faults exhausted ${unlucky.join(', ')} too`);
    expect(unlucky.length).toBeLessThanOrEqual(Math.ceil(verdict.archives / 4));
    expect(verdict.extracted).toHaveLength(verdict.archives - verdict.failed.length);
  }

  it(
    'queue route: after retries every archive is extracted exactly with one manifest, or failed with nothing left',
    async () => {
      const { s3, bucket, proxy, redis } = fx;
      // Prepare
      const figures: FaultFigures = newFigures('S3 faults, queue route (worker processes)', settings.seed);
      const started = Date.now();
      const pool = new WorkerPool(env, 2, 's3-queue');
      const producer: BullmqProducer = createBullmqProducer({
        connection: redis,
        prefix: env['LOGZIP_QUEUE_PREFIX'],
        backoffDelayMs: 300,
      });
      let enqueued = 0;
      try {
        await pool.start();
        for (let round = 0; round === 0 || Date.now() - started < settings.seconds * 1000; round++) {
          const archives = await uploadBatch(s3, bucket, random, {
            label: 'q',
            round,
            count: settings.archives,
          });
          const plans = injectFaults(archives);

          // Act
          for (const a of archives) {
            const out = await producer.enqueue({ logId: a.logId, bucket, key: a.key, reason: 'upload' });
            expect(out.outcome).toBe('enqueued');
          }
          enqueued += archives.length;
          await waitForQueueIdle(producer, enqueued, 60_000 + archives.length * 5_000);
          addFaults(figures, proxy.stats.byKind);
          proxy.clearRules();

          // Assess
          figures.retries = (await jobRetries(producer)).retries;
          const verdict = await checkStore(s3, { bucket, ...DEFAULT_LAYOUT }, archives);
          addVerdict(figures, verdict);
          assessRound(verdict, plans);
        }
      } finally {
        figures.durationMs = Date.now() - started;
        printFigures(figures);
        proxy.clearRules();
        await pool.stop();
        await producer.close();
      }
      expect(figures.lost + figures.halfDone + figures.inconsistent).toBe(0);
      expect(figures.retries).toBeGreaterThan(0);
    },
    scenarioTimeoutMs(settings, 6_000),
  );

  it(
    'Lambda route: attempt by attempt with one awsRequestId, the same guarantees; exhausted events reach the destination',
    async () => {
      const { s3, bucket, proxy, redis } = fx;
      // Prepare
      const figures = newFigures('S3 faults, Lambda route (bundle, async retries)', settings.seed);
      const started = Date.now();
      // One worker drains the on-failure destination into failure records, as in production.
      const drain = new WorkerPool(env, 1, 's3-lambda-drain');
      let lambda: LambdaService | undefined;
      try {
        await drain.start();
        lambda = await startLambdaService({
          env: {
            LOGZIP_INCOMING_BUCKET: bucket,
            AWS_ENDPOINT_URL_S3: proxy.url,
            AWS_REGION: 'us-east-1',
            LOG_LEVEL: 'info',
          },
          containers: 3,
          destination: redis,
          logName: 's3-lambda',
        });
        for (let round = 0; round === 0 || Date.now() - started < settings.seconds * 1000; round++) {
          const archives = await uploadBatch(s3, bucket, random, {
            label: 'l',
            round,
            count: settings.archives,
          });
          const plans = injectFaults(archives);

          // Act
          const service = lambda;
          const deliveries = await Promise.all(
            archives.map((a) => {
              const v = a.versions.at(-1)!;
              return service.deliver(s3Event({ bucket, key: a.key, size: v.size, etag: v.etag }));
            }),
          );
          addFaults(figures, proxy.stats.byKind);
          proxy.clearRules();
          await waitUntil(
            async () =>
              (await redis.llen(DESTINATION_KEY)) + (await redis.llen(`${DESTINATION_KEY}:processing`)) === 0,
            { timeoutMs: 30_000, intervalMs: 100, what: 'the destination drained' },
          );

          // Assess
          figures.retries = service.stats.retries;
          const verdict = await checkStore(s3, { bucket, ...DEFAULT_LAYOUT }, archives);
          addVerdict(figures, verdict);
          assessRound(verdict, plans);
          // Every archive that failed for good (the doomed ones, and a healthy one the background
          // faults exhausted, which assessRound allows) reached the destination, and nothing else did.
          const exhausted = deliveries.filter((d) => d.outcome === 'destination').length;
          expect(exhausted).toBe(verdict.failed.length);
        }
        figures.detail = { 'destination payloads': lambda.stats.destinations };
      } finally {
        figures.durationMs = Date.now() - started;
        printFigures(figures);
        proxy.clearRules();
        await lambda?.close();
        await drain.stop();
      }
      expect(figures.lost + figures.halfDone + figures.inconsistent).toBe(0);
      expect(figures.retries).toBeGreaterThan(0);
    },
    scenarioTimeoutMs(settings, 6_000),
  );
});
