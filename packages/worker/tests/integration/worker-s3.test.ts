import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { jobIdFor } from '@logzip/core';
import { createBullmqProducer, createRedis } from '@logzip/core/bullmq';
import { createStorage } from '@logzip/core/runtime';
import {
  buildZip,
  createMotoS3Client,
  createTestBucket,
  deleteTestBucket,
  describeWithMoto,
  requireMoto,
  type S3FaultProxy,
  startS3FaultProxy,
} from '@logzip/test-utils';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type RunningWorker, readWorkerConfig, startWorker } from '../../src/index.js';
import { captureLogger, waitFor, workerEnv } from '../helpers/harness.js';

describeWithMoto('the extraction worker against S3', () => {
  let s3: S3Client;
  let bucket: string;
  let proxy: S3FaultProxy;
  let running: RunningWorker | undefined;

  beforeEach(async () => {
    s3 = createMotoS3Client();
    bucket = await createTestBucket(s3, 'worker');
    proxy = await startS3FaultProxy({ target: requireMoto() });
  });

  afterEach(async () => {
    await running?.close();
    running = undefined;
    await proxy.close();
    await deleteTestBucket(s3, bucket);
    s3.destroy();
  });

  it('retries a transient storage failure and resolves the failure record', async () => {
    // Prepare
    const key = 'incoming/ab/cd/flaky.zip';
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: await buildZip([{ name: 'f.log', data: 'flaky\n' }]),
      }),
    );
    const result = readWorkerConfig(
      workerEnv({ LOGZIP_INCOMING_BUCKET: bucket, AWS_ENDPOINT_URL_S3: proxy.url, AWS_REGION: 'us-east-1' }),
    );
    if (result.config === undefined) throw new Error(result.errors.join('\n'));
    const config = result.config;
    const { store, state } = createStorage(config);
    // Every GET of the archive fails with 500 InternalError until the rule has fired 4 times: more
    // than the SDK's own 3 attempts, so the first job attempt fails as storage_unavailable.
    proxy.setRules([
      {
        name: 'archive-500',
        method: 'GET',
        path: `/${bucket}/${key}`,
        times: 4,
        fault: { kind: 'internal-error' },
      },
    ]);
    running = await startWorker({ config, logger: captureLogger().logger, store, state, http: false });
    const redis = createRedis(config.redisUrl);
    const producer = createBullmqProducer({
      connection: redis,
      prefix: config.worker.queuePrefix,
      backoffDelayMs: 100,
    });

    try {
      // Act
      await producer.enqueue({ logId: 'flaky', bucket, key, reason: 'upload' });
      await waitFor(
        async () => (await producer.getJobState('flaky')) === 'completed',
        'flaky job completed',
        30_000,
      );

      // Assess
      const job = await producer.queue.getJob(jobIdFor('flaky'));
      expect(job?.attemptsMade).toBeGreaterThanOrEqual(2);
      expect(proxy.stats.byRule['archive-500']).toBe(4);
      expect((await state.getManifest('flaky'))?.entries.map((e) => e.path)).toEqual(['f.log']);
      const record = await state.getFailure('flaky');
      expect(record?.state).toBe('resolved');
      expect(record?.code).toBe('storage_unavailable');
      expect(record?.attempts[0]).toMatchObject({
        route: 'queue',
        jobId: 'log-flaky',
        attempt: 1,
        code: 'storage_unavailable',
      });
    } finally {
      await producer.queue.obliterate({ force: true }).catch(() => {});
      await producer.close();
      redis.disconnect();
    }
  });
});
