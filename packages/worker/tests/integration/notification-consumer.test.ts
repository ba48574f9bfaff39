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
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startBufferedConsumers } from '../../src/buffered.js';
import type { Drain } from '../../src/drain.js';
import { readWorkerConfig } from '../../src/index.js';
import { startNotificationConsumer } from '../../src/notification-consumer.js';
import {
  type CapturedLogger,
  captureLogger,
  waitFor,
  workerEnv,
  workerRedisUrl,
} from '../helpers/harness.js';

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

// The route flips to lambda while the consumer holds a message whose log ID has a running job
// (a re-upload while the first upload is being extracted). The consumer must neither lose the
// re-upload nor have it processed twice: it either stores the job once the running one finished
// (and deletes the message, which the event source mapping then never sees), or gives up after
// busyWaitMs and returns the message, untouched, for the mapping to take.
describeWithMoto('the trigger-queue consumer when the route flips to lambda during a running job', () => {
  let worker: Worker | undefined;
  let workerRedis: Redis | undefined;
  let release: () => void = () => {};
  let processed: string[];
  let started: Promise<void>;

  beforeEach(async () => {
    s3 = createMotoS3Client();
    sqs = new SQSClient({ endpoint: requireMoto(), region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
    bucket = await createTestBucket(s3, 'notify-flip');
    stack = await createBufferedStack({ bucket, maxReceiveCount: 5 });
    await createBufferedTriggerControl({
      s3,
      bucket,
      prefix: 'incoming/',
      ...stack.triggerOptions,
    }).disable();
    redis = createRedis(workerRedisUrl(), { forWorker: true });
    producer = createBullmqProducer({ connection: redis, prefix: uniquePrefix('notify-flip') });
    routes = createRedisRouteStore(redis, uniquePrefix('route'));
    processed = [];
    workerRedis = createRedis(workerRedisUrl(), { forWorker: true });
    // A BullMQ worker of the test's own: the job runs until the test releases it.
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let markStarted: () => void = () => {};
    started = new Promise<void>((resolve) => {
      markStarted = resolve;
    });
    worker = new Worker(
      producer.queue.name,
      async (job) => {
        processed.push(`${job.id}:${(job.data as ExtractJob).requestIds?.['sqsMessageId']}`);
        markStarted();
        await gate;
      },
      { connection: workerRedis, prefix: producer.queue.opts.prefix },
    );
  });

  afterEach(async () => {
    release();
    await running?.stop();
    running = undefined;
    await worker?.close();
    worker = undefined;
    workerRedis?.disconnect();
    await producer.queue.obliterate({ force: true }).catch(() => {});
    await producer.close();
    redis.disconnect();
    await stack.remove();
    await deleteTestBucket(s3, bucket);
    sqs.destroy();
  });

  /** Visible and in-flight messages of the trigger queue. */
  async function depths(): Promise<{ visible: number; inFlight: number }> {
    const { Attributes } = await stack.sqs.getQueueAttributes({
      QueueUrl: stack.queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    });
    return {
      visible: Number(Attributes?.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  }

  /** Uploads the first version, lets the consumer store it and the test's worker start it, then re-uploads. */
  async function reuploadDuringTheJob(busyWaitMs: number, captured: CapturedLogger, counted: RouteStore) {
    await routes.set('queue');
    running = startNotificationConsumer({
      sqs,
      queueUrl: stack.queueUrl,
      producer,
      routes: counted,
      incoming: { bucket, prefix: 'incoming/' },
      logIdPattern: pattern,
      logger: captured.logger,
      waitSeconds: 1,
      routeCheckMs: 50,
      busyWaitMs,
      retryDelaySeconds: 1,
    });
    const key = 'incoming/ab/4001.zip';
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: await buildZip([{ name: 'v1', data: '1' }]) }),
    );
    await started;
    await waitFor(
      async () => (await depths()).visible + (await depths()).inFlight === 0,
      'the first message deleted',
    );
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: await buildZip([{ name: 'v2', data: '2' }]) }),
    );
    // The consumer holds the re-upload's message (in flight) while the first job runs.
    await waitFor(async () => (await depths()).inFlight === 1, 'the re-upload taken by the consumer');
    await routes.set('lambda');
    return key;
  }

  it('waits for the running job, then stores the re-upload once and deletes its message: nothing left for the mapping, nothing run twice', async () => {
    // Prepare
    const captured = captureLogger();
    const counted = countingRoutes(routes);
    const key = await reuploadDuringTheJob(30_000, captured, counted);

    // Act: the first job finishes while the message is held; then an upload after the flip.
    release();
    await waitFor(
      async () => (await depths()).inFlight === 0 && (await depths()).visible === 0,
      'message deleted',
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'incoming/ab/4002.zip',
        Body: await buildZip([{ name: 'c', data: 'c' }]),
      }),
    );
    const readsAfter = counted.reads;
    await waitFor(() => counted.reads >= readsAfter + 10, 'the consumer read the route ten more times');
    await waitFor(() => processed.length === 2, 'the re-upload job run by the test worker');

    // Assess
    const stored = captured.lines.filter((l) => l['msg'] === 'notification stored as a job');
    expect(stored.map((l) => l['key'])).toEqual([key, key]);
    expect(new Set(stored.map((l) => l['sqsMessageId'])).size).toBe(2);
    // Each version ran once, each by its own message's job.
    expect(processed).toEqual(stored.map((l) => `log-4001:${String(l['sqsMessageId'])}`));
    // The upload after the flip waits for the event source mapping.
    expect(await depths()).toEqual({ visible: 1, inFlight: 0 });
  });

  it('gives up after busyWaitMs under the lambda route and returns the message untouched for the mapping: no job stored for it', async () => {
    // Prepare
    const captured = captureLogger();
    const counted = countingRoutes(routes);
    const key = await reuploadDuringTheJob(1_000, captured, counted);

    // Act: the first job keeps running past the consumer's wait.
    await waitFor(
      () =>
        captured.lines.some(
          (l) => l['msg'] === 'a job of this log ID is still running: the message comes back later',
        ),
      'the consumer giving the message back',
    );
    await waitFor(async () => (await depths()).visible === 1, 'the message visible again');
    const readsAfter = counted.reads;
    await waitFor(() => counted.reads >= readsAfter + 10, 'the consumer read the route ten more times');
    const stillThere = await depths();
    // What the event source mapping receives now.
    const { Messages = [] } = await stack.sqs.receiveMessage({
      QueueUrl: stack.queueUrl,
      MaxNumberOfMessages: 10,
    });
    release();

    // Assess
    expect(stillThere).toEqual({ visible: 1, inFlight: 0 });
    expect(Messages).toHaveLength(1);
    const record = (
      JSON.parse(Messages[0]?.Body ?? '{}') as { Records: Array<{ s3: { object: { key: string } } }> }
    ).Records[0];
    // Event keys are URL-encoded (moto encodes the slashes too).
    expect(decodeURIComponent(record?.s3.object.key ?? '')).toBe(key);
    expect(captured.lines.filter((l) => l['msg'] === 'notification stored as a job')).toHaveLength(1);
    expect(processed).toHaveLength(1);
    expect(await producer.queue.getJobCounts('waiting', 'delayed')).toEqual({ waiting: 0, delayed: 0 });
  });
});
