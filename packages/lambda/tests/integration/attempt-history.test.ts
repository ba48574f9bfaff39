import { DEFAULT_LIMITS, type FailureRecord, silentLogger } from '@logzip/core';
import {
  type BullmqProducer,
  createBullmqProducer,
  createExtractProcessor,
  createRedis,
} from '@logzip/core/bullmq';
import { buildS3Event } from '@logzip/core/events';
import { createS3Client, createS3ObjectStore } from '@logzip/core/s3';
import {
  createMotoS3Client,
  createTestBucket,
  deleteTestBucket,
  describeWithMoto,
  MOTO_REGION,
  requireMoto,
  requireRedis,
  uniquePrefix,
  waitUntil,
} from '@logzip/test-utils';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createHarness, lambdaContext, newLogId, upload } from '../helpers/harness.js';

// One archive tried six times across runs (its upload on the Lambda route, then five re-enqueues
// on the queue, each reusing the job id `log-<logId>`) keeps six attempts numbered 1..6, each
// with its run. The previous version kept two, both numbered 1.

describeWithMoto('attempt history across runs (the Lambda handler, BullMQ, moto S3)', () => {
  let s3: ReturnType<typeof createMotoS3Client>;
  let bucket: string;
  let redis: Redis;
  let producer: BullmqProducer;
  let worker: Worker | undefined;

  beforeEach(async () => {
    s3 = createMotoS3Client();
    bucket = await createTestBucket(s3, 'attempt-history');
    redis = createRedis(requireRedis());
    producer = createBullmqProducer({ connection: redis, queueName: uniquePrefix('history') });
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await producer.queue.obliterate({ force: true });
    await producer.close();
    await redis.quit();
    await deleteTestBucket(s3, bucket);
  });

  it('regression: a re-enqueue lost the attempt history; six attempts are kept, numbered 1..6 with their runs', async () => {
    // Prepare: an upload that is not a ZIP fails for good at its first attempt, wherever it runs.
    const logId = newLogId();
    const object = await upload(s3, bucket, `incoming/${logId}.zip`, Buffer.from('not a zip at all'));
    const { handler, state } = createHarness({ bucket, endpoint: requireMoto(), producer });
    const store = createS3ObjectStore({
      client: createS3Client({ AWS_REGION: MOTO_REGION, AWS_ENDPOINT_URL_S3: requireMoto() }),
    });
    const processor = createExtractProcessor({
      source: store,
      output: store,
      state,
      outputLocation: { bucket, prefix: 'extracted/' },
      limits: DEFAULT_LIMITS,
      fallbackEncoding: 'cp932',
      logger: silentLogger,
    });
    worker = new Worker(producer.queue.name, processor.process, {
      connection: redis.duplicate({ maxRetriesPerRequest: null }),
      prefix: 'bull',
    });
    worker.on('failed', (job, error) => void processor.onFailed(job, error).catch(() => {}));
    worker.on('error', () => {});
    const attemptsRecorded = async (n: number): Promise<FailureRecord> => {
      let record: FailureRecord | undefined;
      await waitUntil(
        async () => {
          record = await state.getFailure(logId);
          return (record?.attempts.length ?? 0) >= n && (await producer.getJobState(logId)) === 'failed';
        },
        { timeoutMs: 20_000, intervalMs: 50, what: `${n} attempts recorded` },
      );
      return record as FailureRecord;
    };

    // Act: the upload's Lambda run, then five re-enqueues, each after the previous job failed.
    const first = await handler(buildS3Event(object), lambdaContext());
    for (let n = 2; n <= 6; n++) {
      const queued = await producer.enqueue({ logId, bucket, key: object.key, reason: 'reenqueue' });
      expect(queued.outcome).toBe('enqueued');
      await attemptsRecorded(n);
    }
    const record = await state.getFailure(logId);

    // Assess
    expect(first.results[0]).toMatchObject({ outcome: 'failed', code: 'not_zip' });
    expect(record?.state).toBe('failed');
    expect(record?.attempts.map((a) => [a.attempt, a.run, a.route, a.runAttempt])).toEqual([
      [1, 'upload', 'lambda', 1],
      [2, 'reenqueue', 'queue', 1],
      [3, 'reenqueue', 'queue', 1],
      [4, 'reenqueue', 'queue', 1],
      [5, 'reenqueue', 'queue', 1],
      [6, 'reenqueue', 'queue', 1],
    ]);
    // Each queue run has its own run id (the reused job id with the job's creation time).
    const runIds = record?.attempts.slice(1).map((a) => a.runId);
    expect(new Set(runIds).size).toBe(5);
    expect(runIds?.every((id) => id?.startsWith(`log-${logId}@`))).toBe(true);
  });
});
