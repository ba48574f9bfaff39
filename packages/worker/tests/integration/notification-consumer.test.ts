import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  compileLogIdPattern,
  type ExtractJob,
  LogzipError,
  type RouteStore,
  recordFailedAttempt,
  type StateStore,
} from '@logzip/core';
import { createBufferedTriggerControl } from '@logzip/core/aws-trigger';
import {
  type BullmqProducer,
  createBullmqProducer,
  createRedis,
  createRedisRouteStore,
} from '@logzip/core/bullmq';
import { createStorage } from '@logzip/core/runtime';
import {
  type BufferedStack,
  buildZip,
  createBufferedStack,
  createMotoS3Client,
  createTestBucket,
  deleteTestBucket,
  describeWithMoto,
  MOTO_CREDENTIALS,
  MOTO_REGION,
  requireMoto,
  type TempDir,
  tempDir,
  uniquePrefix,
} from '@logzip/test-utils';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startBufferedConsumers } from '../../src/buffered.js';
import type { Drain } from '../../src/drain.js';
import { readWorkerConfig } from '../../src/index.js';
import { startNotificationConsumer } from '../../src/notification-consumer.js';
import { captureLogger, waitFor, workerEnv, workerRedisUrl } from '../helpers/harness.js';

// moto's S3 sends the notifications to the queue for real; the consumer reads them over HTTP and
// stores jobs in a real Redis (BullMQ with a unique prefix, no worker running them).
const pattern = compileLogIdPattern();
let s3: S3Client;
let sqs: SQSClient;
let redis: Redis;
let producer: BullmqProducer;
let routes: RouteStore;
let bucket: string;
let stack: BufferedStack;
let running: Drain | undefined;
let dir: TempDir;
let state: StateStore;

async function waitingJobs(): Promise<ExtractJob[]> {
  return (await producer.queue.getJobs(['waiting'])).map((job) => job.data as ExtractJob);
}

/** The route store, counting its reads: the consumer's progress while it must stay idle. */
function countingRoutes(inner: RouteStore): RouteStore & { reads: number } {
  const wrapped = {
    reads: 0,
    async get() {
      wrapped.reads += 1;
      return inner.get();
    },
    set: (route: Parameters<RouteStore['set']>[0]) => inner.set(route),
  };
  return wrapped;
}

describeWithMoto('the trigger-queue consumer of buffered mode (route queue)', () => {
  beforeEach(async () => {
    s3 = createMotoS3Client();
    sqs = new SQSClient({ endpoint: requireMoto(), region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
    bucket = await createTestBucket(s3, 'notifications');
    stack = await createBufferedStack({ bucket, maxReceiveCount: 2 });
    await createBufferedTriggerControl({
      s3: s3,
      bucket: bucket,
      prefix: 'incoming/',
      ...stack.triggerOptions,
    }).disable();
    redis = createRedis(workerRedisUrl(), { forWorker: true });
    producer = createBullmqProducer({ connection: redis, prefix: uniquePrefix('notify') });
    routes = createRedisRouteStore(redis, uniquePrefix('route'));
    dir = await tempDir('notifications');
    state = createStorage(readWorkerConfig(workerEnv({ LOGZIP_STORAGE_DIR: dir.path })).config!).state;
  });

  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await producer.queue.obliterate({ force: true }).catch(() => {});
    await producer.close();
    redis.disconnect();
    await stack.remove();
    await deleteTestBucket(s3, bucket);
    sqs.destroy();
    await dir.cleanup();
  });

  it('stores each announced upload as one job, collapses a duplicate, ignores the test event, deletes every message', async () => {
    // Prepare
    await routes.set('queue');
    const zip = await buildZip([{ name: 'a.log', data: 'a\n' }]);
    const keys = ['incoming/ab/1001.zip', 'incoming/ab/1002-x.zip', 'incoming/ab/1003.zip'];
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: zip }));
    // S3 announces at least once: the same upload twice must make one job.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: keys[0], Body: zip }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'elsewhere/9.zip', Body: zip }));
    const captured = captureLogger();

    // Act
    running = startNotificationConsumer({
      sqs,
      queueUrl: stack.queueUrl,
      producer,
      routes,
      incoming: { bucket, prefix: 'incoming/' },
      logIdPattern: pattern,
      logger: captured.logger,
      waitSeconds: 1,
    });
    await waitFor(async () => (await stack.depth(stack.queueUrl)) === 0, 'every message deleted');

    // Assess
    const jobs = await waitingJobs();
    expect(jobs.map((job) => job.key).sort()).toEqual(keys);
    expect(
      jobs.every((job) => job.reason === 'notification' && job.requestIds?.['sqsMessageId'] !== undefined),
    ).toBe(true);
    expect(captured.lines.some((l) => l['msg'] === 's3:TestEvent ignored')).toBe(true);
    expect(captured.lines.filter((l) => String(l['msg']).includes('collapsed'))).toHaveLength(1);
    expect(await stack.depth(stack.deadLetterQueueUrl)).toBe(0);
  });

  it('takes nothing while the route is lambda, and takes the waiting messages once it is queue', async () => {
    // Prepare
    await routes.set('lambda');
    const counted = countingRoutes(routes);
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'incoming/2001.zip',
        Body: await buildZip([{ name: 'b', data: 'b' }]),
      }),
    );

    // Act
    running = startNotificationConsumer({
      sqs,
      queueUrl: stack.queueUrl,
      producer,
      routes: counted,
      incoming: { bucket, prefix: 'incoming/' },
      logIdPattern: pattern,
      waitSeconds: 1,
      routeCheckMs: 50,
    });
    await waitFor(() => counted.reads >= 10, 'the consumer read the route ten times');
    const idleDepth = await stack.depth(stack.queueUrl);
    const idleJobs = await waitingJobs();
    await routes.set('queue');
    await waitFor(
      async () => (await stack.depth(stack.queueUrl)) === 0,
      'messages taken under the queue route',
    );

    // Assess
    expect(idleDepth).toBe(2);
    expect(idleJobs).toEqual([]);
    expect((await waitingJobs()).map((job) => job.key)).toEqual(['incoming/2001.zip']);
  });

  it('drains the dead-letter queue into failed records, keeping the code the handler recorded', async () => {
    // Prepare
    await routes.set('lambda');
    const notification = (key: string) =>
      JSON.stringify({
        Records: [
          {
            eventVersion: '2.1',
            eventSource: 'aws:s3',
            eventName: 'ObjectCreated:Put',
            s3: { bucket: { name: bucket }, object: { key, size: 1 } },
          },
        ],
      });
    const known = await stack.sqs.sendMessage({
      QueueUrl: stack.deadLetterQueueUrl,
      MessageBody: notification('incoming/3001.zip'),
    });
    await stack.sqs.sendMessage({
      QueueUrl: stack.deadLetterQueueUrl,
      MessageBody: notification('incoming/3002.zip'),
    });
    // What the handler wrote on the message's receives (its id is the attempt's request id).
    await recordFailedAttempt(state, {
      logId: '3001',
      source: { bucket, key: 'incoming/3001.zip' },
      route: 'lambda',
      error: new LogzipError('storage_unavailable', 'S3 answered 503'),
      attempt: 1,
      maxAttempts: 3,
      requestId: known.MessageId as string,
    });

    // Act
    running = await startBufferedConsumers({
      sqs,
      queueUrl: stack.queueUrl,
      producer,
      routes,
      incoming: { bucket, prefix: 'incoming/' },
      logIdPattern: pattern,
      logger: captureLogger().logger,
      drainOptions: { state, logIdPattern: pattern },
      waitSeconds: 1,
    });
    await waitFor(
      async () => (await stack.depth(stack.deadLetterQueueUrl)) === 0,
      'dead-letter queue drained',
    );

    // Assess
    expect(await state.getFailure('3001')).toMatchObject({ state: 'failed', code: 'storage_unavailable' });
    expect(await state.getFailure('3002')).toMatchObject({ state: 'failed', code: 'internal' });
  });
});
