/**
 * Fault suite, buffered trigger mode: uploads go to moto, whose S3 sends every notification to the
 * trigger queue for real. While they arrive the route switches at random moments (the event source
 * mapping enabled or disabled through moto's Lambda API, then the flag, as the admin does), the
 * sweeper is off and the S3 fault proxy injects background faults into every request of logzip's
 * processes. Two consumers share the queue: the deployed Lambda bundle behind the local emulator,
 * which plays the mapping, and worker processes,
 * which take the queue under the `queue` route. Every archive must end extracted exactly as its
 * bytes say: none lost, none half-done, none waiting for a sweep (there is none).
 *
 * What moto cannot play: it never polls a queue for a mapping, and worse, while a mapping is enabled
 * its SQS runs the mapping's function on every message sent (a no-op without Docker) and deletes the
 * message. So the mapping lives in a second moto (startMotoServer), on a same-named queue, and the
 * local emulator is the only one that takes batches for the function.
 *
 * Size: FAULT_BUFFERED_UPLOADS uploads (default 40, docs/reliability.md has a 500-upload run) and
 * FAULT_BUFFERED_SWITCHES switches (default 10).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Route } from '@logzip/core';
import { createBufferedTriggerControl } from '@logzip/core/aws-trigger';
import { type BullmqProducer, createBullmqProducer, createRedisRouteStore } from '@logzip/core/bullmq';
import {
  type BufferedStack,
  createBufferedStack,
  describeWithMoto,
  MOTO_CREDENTIALS,
  MOTO_REGION,
  type MotoServer,
  requireMoto,
  startMotoServer,
  waitUntil,
} from '@logzip/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type UploadedArchive, uploadBatch } from './helpers/corpus.js';
import { faultWorkerEnv, useFaultEnv } from './helpers/fault-env.js';
import { backgroundRules } from './helpers/s3-rules.js';
import { randomInt, readFaultSettings, seededRandom } from './helpers/settings.js';
import {
  addFaults,
  addVerdict,
  checkStore,
  DEFAULT_LAYOUT,
  newFigures,
  printFigures,
} from './helpers/verdict.js';
import { WorkerPool } from './helpers/workers.js';

const settings = readFaultSettings();
const UPLOADS = Number(process.env['FAULT_BUFFERED_UPLOADS'] || 40);
const SWITCHES = Number(process.env['FAULT_BUFFERED_SWITCHES'] || 10);
const EMULATOR = fileURLToPath(new URL('../../packages/lambda/dist/emulator/main.js', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/faults/', import.meta.url));

/** The local emulator playing the event source mapping around the deployed bundle; resolves once it has read the mapping. */
async function startEmulator(env: Record<string, string>): Promise<ChildProcess> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const log = createWriteStream(`${ARTIFACTS}buffered-emulator.log`);
  const child = spawn(
    process.execPath,
    [EMULATOR, '--interval', '200ms', '--retry-delays', '1s', '--timeout', '60s'],
    {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let ready = false;
  child.stdout?.on('data', (chunk: Buffer) => {
    if (chunk.toString('utf8').includes('event source mapping state')) ready = true;
  });
  await waitUntil(async () => ready, {
    timeoutMs: 60_000,
    what: 'the emulator reading the mapping',
    abort: () => (child.exitCode === null ? undefined : `the emulator exited with ${child.exitCode}`),
  });
  return child;
}

describeWithMoto('fault suite: buffered mode, the route switched at random during uploads', () => {
  const fx = useFaultEnv('faults-buffered', {
    random: seededRandom(settings.seed ^ 0x42554646),
    rules: (bucket) => backgroundRules(bucket, settings.probability),
  });
  let controlPlane: MotoServer;
  beforeAll(async () => {
    controlPlane = await startMotoServer('moto-control-plane');
  });
  afterAll(async () => {
    await controlPlane?.stop();
  });

  it(
    `${UPLOADS} uploads, ${SWITCHES} switches, S3 faults, no sweeper: every archive extracted exactly, none lost`,
    async () => {
      const { s3, bucket, proxy, redis } = fx;
      // Prepare
      const random = seededRandom(settings.seed ^ 0x53574954);
      const figures = newFigures(
        'Buffered mode: route switches during uploads, S3 faults, no sweeper',
        settings.seed,
      );
      const started = Date.now();
      const moto = requireMoto();
      const stack: BufferedStack = await createBufferedStack({
        bucket,
        maxReceiveCount: 3,
        visibilityTimeoutSeconds: 60,
        maximumConcurrency: 3,
        controlPlane: controlPlane.url,
      });
      const control = createBufferedTriggerControl({
        s3: s3,
        bucket: bucket,
        prefix: 'incoming/',
        ...stack.triggerOptions,
      });
      const routes = createRedisRouteStore(redis);
      // What the admin's switch does: the mapping first, then the flag the worker reads.
      const switchTo = async (route: Route) => {
        if (route === 'lambda') await control.enable();
        else await control.disable();
        await routes.set(route);
      };
      await switchTo('lambda');
      const aws = {
        AWS_ENDPOINT_URL_SQS: moto,
        AWS_ENDPOINT_URL_LAMBDA: controlPlane.url,
        AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
        LOGZIP_TRIGGER_MODE: 'buffered',
        LOGZIP_TRIGGER_QUEUE_URL: stack.queueUrl,
      };
      const env = faultWorkerEnv(fx, {
        ...aws,
        LOGZIP_WORKER_LOCK_DURATION: '10s',
        LOGZIP_SWEEP_INTERVAL: '0s',
        LOGZIP_WORKER_CONCURRENCY: '4',
      });
      const producer: BullmqProducer = createBullmqProducer({
        connection: redis,
        prefix: env['LOGZIP_QUEUE_PREFIX'],
      });
      const pool = new WorkerPool(env, 2, 'buffered');
      let emulator: ChildProcess | undefined;
      const archives: UploadedArchive[] = [];
      const switches: Array<{ at: number; to: Route }> = [];
      try {
        await pool.start();
        emulator = await startEmulator({
          ...aws,
          REDIS_URL: fx.redisServer.url,
          LOGZIP_INCOMING_BUCKET: bucket,
          AWS_ENDPOINT_URL_S3: proxy.url,
          AWS_REGION: MOTO_REGION,
          LOGZIP_LAMBDA_FUNCTION: stack.functionName,
          LOGZIP_LAMBDA_SAFETY_MARGIN: '5s',
          LOG_LEVEL: 'info',
        });

        // Act: uploads in chunks of 8; the switches land at random chunks, at a random moment inside them.
        const chunks = Math.ceil(UPLOADS / 8);
        const at = new Set<number>();
        while (at.size < Math.min(SWITCHES, chunks)) at.add(randomInt(random, 0, chunks - 1));
        let route: Route = 'lambda';
        let switching = Promise.resolve();
        for (let chunk = 0; chunk < chunks; chunk++) {
          if (at.has(chunk)) {
            route = route === 'lambda' ? 'queue' : 'lambda';
            const to = route;
            const delay = randomInt(random, 0, 300);
            switching = switching.then(async () => {
              await new Promise((resolve) => setTimeout(resolve, delay));
              await switchTo(to);
              switches.push({ at: Date.now() - started, to });
            });
          }
          archives.push(
            ...(await uploadBatch(s3, bucket, random, {
              label: 'q',
              round: chunk,
              count: Math.min(8, UPLOADS - chunk * 8),
              maxFiles: 4,
            })),
          );
        }
        await switching;
        // Done when both queues are empty and BullMQ has nothing left; progress resets the deadline.
        let lastProgress = Date.now();
        let lastDepth = Number.POSITIVE_INFINITY;
        await waitUntil(
          async () => {
            const counts = await producer.getCounts();
            const pending = ['waiting', 'active', 'delayed', 'prioritized'].reduce(
              (n, s) => n + (counts[s] ?? 0),
              0,
            );
            const left =
              (await stack.depth(stack.queueUrl)) + (await stack.depth(stack.deadLetterQueueUrl)) + pending;
            if (left < lastDepth) lastProgress = Date.now();
            lastDepth = Math.min(lastDepth, left);
            if (Date.now() - lastProgress > 90_000) throw new Error(`no progress for 90 s; ${left} left`);
            return left === 0;
          },
          {
            timeoutMs: 60_000 + UPLOADS * 2_000,
            intervalMs: 500,
            what: 'the trigger queue, its dead-letter queue and BullMQ empty',
          },
        );

        // Assess
        const verdict = await checkStore(s3, { bucket, ...DEFAULT_LAYOUT }, archives);
        const completed = ((await producer.getCounts()) as Record<string, number>)['completed'] ?? 0;
        addVerdict(figures, verdict);
        addFaults(figures, { 'route switches': switches.length, ...proxy.stats.byKind });
        figures.detail = {
          uploads: archives.length,
          'switches to queue': switches.filter((s) => s.to === 'queue').length,
          'switches to lambda': switches.filter((s) => s.to === 'lambda').length,
          'jobs taken by workers': completed,
          'extracted by the Lambda route (at least)': verdict.extracted.length - completed,
        };
        expect(archives).toHaveLength(UPLOADS);
        expect(switches).toHaveLength(Math.min(SWITCHES, chunks));
        expect(verdict.lost).toEqual([]);
        expect(verdict.halfDone).toEqual([]);
        expect(verdict.inconsistent).toEqual([]);
        expect(verdict.failed).toEqual([]);
        expect(verdict.extracted).toHaveLength(UPLOADS);
      } finally {
        figures.durationMs = Date.now() - started;
        printFigures(figures);
        emulator?.kill('SIGTERM');
        await pool.stop();
        await producer.close();
        await stack.remove();
      }
    },
    // A ceiling only: the wait above fails after 90 s without progress.
    120_000 + UPLOADS * 2_000,
  );
});
