/**
 * Fault suite, Lambda execution environments killed: the container running an invocation (the
 * deployed bundle in its own process) is SIGKILLed at random moments while it extracts (reading
 * the archive, writing files, writing the manifest, recording), as Lambda's runtime dies on an
 * out-of-memory kill or a host failure. Lambda reports the invocation as failed, retries the event
 * with the same awsRequestId and starts a fresh container for it. Every archive must end exactly as
 * a clean run leaves it: no half-written folder, one manifest, the archive's files byte for byte.
 */
import { describeWithMoto } from '@logzip/test-utils';
import { expect, it } from 'vitest';
import { uploadBatch } from './helpers/corpus.js';
import { useFaultEnv } from './helpers/fault-env.js';
import { type DeliveryOutcome, type LambdaService, s3Event, startLambdaService } from './helpers/lambda.js';
import { randomInt, readFaultSettings, scenarioTimeoutMs, seededRandom } from './helpers/settings.js';
import {
  addFaults,
  addVerdict,
  checkStore,
  DEFAULT_LAYOUT,
  newFigures,
  printFigures,
} from './helpers/verdict.js';

const settings = readFaultSettings();

/**
 * A killed run keeps its per-log-ID lease until it expires: 60 s after its last renewal (the
 * engine's lease TTL), and a new run waits up to 30 s for it (the lease wait). Lambda retries an
 * event about 1 and 2 minutes later; here the first retry comes 35 s after the failure, so its
 * 30 s wait always outlasts the dead run's lease, whatever the machine's speed.
 */
const RETRY_DELAYS_MS = [35_000, 35_000];

describeWithMoto('fault suite: Lambda execution environments killed with SIGKILL', () => {
  // Slow writes make the extraction the longest part of an invocation (8 writes at once), so most
  // kills land in the middle of one rather than in the reads before it.
  const fx = useFaultEnv('faults-lambda-kill', {
    rules: (bucket: string) => [
      { name: 'slow-put', method: 'PUT', path: `/${bucket}/extracted/`, fault: { kind: 'latency', ms: 300 } },
    ],
  });

  it(
    'retries finish every archive exactly as a clean run leaves it, nothing half-done',
    async () => {
      const { s3, bucket, proxy, redis } = fx;
      // Prepare
      const random = seededRandom(settings.seed ^ 0x4c4b494c);
      const figures = newFigures('SIGKILLed Lambda containers (Lambda route)', settings.seed);
      const started = Date.now();
      let lambda: LambdaService | undefined;
      try {
        lambda = await startLambdaService({
          env: { LOGZIP_INCOMING_BUCKET: bucket, AWS_ENDPOINT_URL_S3: proxy.url, AWS_REGION: 'us-east-1' },
          containers: 3,
          retryDelaysMs: RETRY_DELAYS_MS,
          destination: redis,
          logName: 'lambda-kills',
        });
        const service = lambda;
        // A round that finished before any kill landed proves nothing: run another (at most 5).
        for (
          let round = 0;
          round === 0 ||
          Date.now() - started < settings.seconds * 1000 ||
          (service.stats.kills === 0 && round < 5);
          round++
        ) {
          const archives = await uploadBatch(s3, bucket, random, {
            label: 'l',
            round,
            count: settings.archives,
            maxFiles: 24,
            maxBytes: 16 * 1024,
          });

          // Act: deliver every event, then every 0.3–1.5 s SIGKILL a container running a first
          // attempt (picked at random) until every delivery has ended. A retry is never killed:
          // a second death of the same event could exhaust Lambda's attempts, which is the
          // destination's guarantee (s3-faults.test.ts), not this one.
          let done = false;
          const deliveries: Promise<DeliveryOutcome[]> = Promise.all(
            archives.map((archive) => {
              const first = archive.versions[0]!;
              return service.deliver(
                s3Event({ bucket, key: archive.key, size: first.size, etag: first.etag }),
              );
            }),
          ).finally(() => {
            done = true;
          });
          const killsBefore = service.stats.kills;
          while (!done && service.stats.kills - killsBefore < Math.ceil(archives.length / 2)) {
            const firstKill = service.stats.kills === killsBefore;
            await new Promise((resolve) =>
              setTimeout(resolve, firstKill ? randomInt(random, 100, 500) : randomInt(random, 300, 1_500)),
            );
            if (!done) service.killBusy((n) => randomInt(random, 0, n - 1), { firstAttemptsOnly: true });
          }
          const outcomes = await deliveries;

          // Assess
          expect(outcomes.filter((o) => o.outcome !== 'returned')).toEqual([]);
          const verdict = await checkStore(s3, { bucket, ...DEFAULT_LAYOUT }, archives);
          addVerdict(figures, verdict);
          expect(verdict.lost).toEqual([]);
          expect(verdict.halfDone).toEqual([]);
          expect(verdict.inconsistent).toEqual([]);
          expect(verdict.failed).toEqual([]);
          expect(verdict.extracted).toHaveLength(archives.length);
        }
        figures.retries = service.stats.retries;
        addFaults(figures, { sigkill: service.stats.kills });
        figures.detail = {
          'Lambda invocations': service.stats.invocations,
          'Lambda retries': service.stats.retries,
          'kills while extracting': service.stats.midExtractionKills,
          'destination payloads': service.stats.destinations,
        };
      } finally {
        figures.durationMs = Date.now() - started;
        printFigures(figures);
        await lambda?.close();
      }
      expect(lambda?.stats.midExtractionKills).toBeGreaterThan(0);
      expect(lambda?.stats.destinations).toBe(0);
      expect(figures.lost + figures.halfDone + figures.inconsistent).toBe(0);
    },
    // Each round: the slowest killed archive waits out its retry delay and the dead run's lease.
    scenarioTimeoutMs(settings, 5_000, 60_000 + 2 * (RETRY_DELAYS_MS[0]! + 35_000)),
  );
});
