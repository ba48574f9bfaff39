import { setTimeout as sleep } from 'node:timers/promises';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, DeleteTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { jobIdFor, LogzipError, type ObjectStore, type StateStore } from '@logzip/core';
import { createAlerterFromConfig } from '@logzip/core/alerts';
import { type BullmqProducer, createBullmqProducer, createRedis } from '@logzip/core/bullmq';
import { createStorage } from '@logzip/core/runtime';
import {
  buildZip,
  createMotoS3Client,
  createTestBucket,
  deleteTestBucket,
  describeWithMoto,
  describeWithRedis,
  MOTO_CREDENTIALS,
  MOTO_REGION,
  requireMoto,
  type S3FaultProxy,
  startS3FaultProxy,
  startWebhookReceiver,
  type TempDir,
  tempDir,
  uniquePrefix,
  type WebhookReceiver,
} from '@logzip/test-utils';
import { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type RunningWorker, readWorkerConfig, startWorker, type WorkerConfig } from '../../src/index.js';
import { type CapturedLogger, captureLogger, waitFor, workerEnv } from '../helpers/harness.js';

const blocksText = (post: Record<string, unknown> | undefined) => JSON.stringify(post?.['blocks'] ?? []);

describeWithRedis('failure alerts from the queue route', () => {
  let receiver: WebhookReceiver;
  let dir: TempDir;
  let config: WorkerConfig;
  let store: ObjectStore;
  let state: StateStore;
  let redis: Redis;
  let producer: BullmqProducer;
  let running: RunningWorker | undefined;
  let captured: CapturedLogger;

  async function settled(logId: string): Promise<string | undefined> {
    let jobState: string | undefined;
    await waitFor(async () => {
      jobState = await producer.getJobState(logId);
      return jobState === 'completed' || jobState === 'failed';
    }, `job of ${logId} finished`);
    return jobState;
  }

  beforeEach(async () => {
    receiver = await startWebhookReceiver('WORKERSECRET');
    dir = await tempDir('worker-alerts');
    const result = readWorkerConfig(
      workerEnv({
        LOGZIP_STORAGE_DIR: dir.path,
        LOGZIP_ALERT_WEBHOOK_URL: receiver.url,
        LOGZIP_PUBLIC_URL: 'https://logzip.example.com',
      }),
    );
    if (result.config === undefined) throw new Error(result.errors.join('\n'));
    config = result.config;
    ({ store, state } = createStorage(config));
    captured = captureLogger();
    redis = createRedis(config.redisUrl);
    producer = createBullmqProducer({
      connection: redis,
      prefix: config.worker.queuePrefix,
      backoffDelayMs: 50,
    });
  });

  afterEach(async () => {
    await running?.close();
    running = undefined;
    await producer.queue.obliterate({ force: true }).catch(() => {});
    await producer.close();
    redis.disconnect();
    await receiver.close();
    await dir.cleanup();
  });

  it('sends exactly one alert for a corrupt archive, none for a good one, and none when the failed event comes again', async () => {
    // Prepare: the alerter the worker builds itself from LOGZIP_ALERT_WEBHOOK_URL.
    running = await startWorker({ config, logger: captured.logger, store, state, http: false });
    await store.put('logs', 'incoming/good.zip', await buildZip([{ name: 'a.log', data: 'fine\n' }]));
    await store.put('logs', 'incoming/777-2026.zip', Buffer.from('PK\u0003\u0004 not really a zip'));

    // Act
    await producer.enqueue({ logId: 'good', bucket: 'logs', key: 'incoming/good.zip', reason: 'upload' });
    await producer.enqueue({ logId: '777', bucket: 'logs', key: 'incoming/777-2026.zip', reason: 'upload' });
    expect(await settled('good')).toBe('completed');
    expect(await settled('777')).toBe('failed');
    await waitFor(() => receiver.posts.length >= 1, 'alert received');
    const record = await state.getFailure('777');
    // The failed event once more for the same job (a second listener, a handler run twice).
    const job = await Job.fromId(producer.queue, jobIdFor('777'));
    const again = new LogzipError(record?.code ?? 'corrupt', record?.message ?? 'reported again');
    running.worker.emit('failed', job, again, 'active');
    await sleep(500);

    // Assess
    expect(receiver.posts).toHaveLength(1);
    const post = receiver.posts[0];
    expect(record?.state).toBe('failed');
    expect((await state.getFailure('777'))?.state).toBe('failed');
    expect(post?.['text']).toContain(`logzip: archive 777 failed for good (${record?.code})`);
    expect(blocksText(post)).toContain('s3://logs/incoming/777-2026.zip');
    expect(blocksText(post)).toContain('```LogzipError: ');
    expect(blocksText(post)).toContain('https://logzip.example.com/archives/777');
    expect(blocksText(post)).toContain('queue attempt 1');
    expect(blocksText(post)).toContain('job log-777');
    expect(captured.lines.map((l) => l['msg'])).toContain('failure alert sent');
    expect(JSON.stringify(captured.lines)).not.toContain('WORKERSECRET');
  });

  it('keeps working when the webhook answers 500 or hangs: the job fails as it would, the next one completes', async () => {
    // Prepare
    const alerter = createAlerterFromConfig(config, {
      store,
      logger: captured.logger,
      timeoutMs: 300,
      retryDelayMs: 20,
    });
    running = await startWorker({ config, logger: captured.logger, store, state, alerter, http: false });
    for (const name of ['bad1', 'bad2'])
      await store.put('logs', `incoming/${name}.zip`, Buffer.from('not a zip'));
    await store.put('logs', 'incoming/after.zip', await buildZip([{ name: 'ok.log', data: 'ok' }]));

    // Act
    receiver.mode = 'error';
    await producer.enqueue({ logId: 'bad1', bucket: 'logs', key: 'incoming/bad1.zip', reason: 'upload' });
    const first = await settled('bad1');
    await waitFor(() => receiver.posts.length === 2, 'both tries of the first alert');
    receiver.mode = 'hang';
    await producer.enqueue({ logId: 'bad2', bucket: 'logs', key: 'incoming/bad2.zip', reason: 'upload' });
    const second = await settled('bad2');
    await producer.enqueue({ logId: 'after', bucket: 'logs', key: 'incoming/after.zip', reason: 'upload' });
    const third = await settled('after');
    const closing = Date.now();
    await running.close();
    running = undefined;

    // Assess
    expect([first, second, third]).toEqual(['failed', 'failed', 'completed']);
    expect((await producer.queue.getJob(jobIdFor('bad1')))?.attemptsMade).toBe(1);
    expect((await state.getFailure('bad1'))?.state).toBe('failed');
    expect((await state.getFailure('bad2'))?.state).toBe('failed');
    expect(receiver.posts).toHaveLength(4);
    expect(Date.now() - closing).toBeLessThan(5_000);
    const failures = captured.lines.filter((l) => l['msg'] === 'alert channel failed');
    expect(failures.map((l) => l['err'])).toEqual(
      expect.arrayContaining([expect.stringContaining('answered 500'), expect.stringContaining('no answer')]),
    );
    expect(JSON.stringify(captured.lines)).not.toContain('WORKERSECRET');
  });
});

describeWithMoto('failure alerts from the queue route against S3 and SNS (moto)', () => {
  let s3: S3Client;
  let bucket: string;
  let proxy: S3FaultProxy;
  let receiver: WebhookReceiver;
  let running: RunningWorker | undefined;
  let redis: Redis | undefined;
  let producer: BullmqProducer | undefined;

  beforeEach(async () => {
    s3 = createMotoS3Client();
    bucket = await createTestBucket(s3, 'alerts');
    proxy = await startS3FaultProxy({ target: requireMoto() });
    receiver = await startWebhookReceiver('WORKERSECRET');
  });

  afterEach(async () => {
    await running?.close();
    running = undefined;
    await producer?.queue.obliterate({ force: true }).catch(() => {});
    await producer?.close();
    redis?.disconnect();
    await proxy.close();
    await receiver.close();
    await deleteTestBucket(s3, bucket);
    s3.destroy();
  });

  async function start(
    env: Record<string, string>,
  ): Promise<{ state: StateStore; producer: BullmqProducer }> {
    const result = readWorkerConfig(
      workerEnv({
        LOGZIP_INCOMING_BUCKET: bucket,
        AWS_ENDPOINT_URL_S3: proxy.url,
        AWS_REGION: MOTO_REGION,
        ...env,
      }),
    );
    if (result.config === undefined) throw new Error(result.errors.join('\n'));
    const config = result.config;
    const { store, state } = createStorage(config);
    running = await startWorker({ config, logger: captureLogger().logger, store, state, http: false });
    redis = createRedis(config.redisUrl);
    producer = createBullmqProducer({
      connection: redis,
      prefix: config.worker.queuePrefix,
      backoffDelayMs: 100,
    });
    return { state, producer };
  }

  it('alerts once when retries run out, after the last attempt and not during the retrying ones', async () => {
    // Prepare: every GET of the archive fails with 500 InternalError.
    const key = 'incoming/ab/cd/flaky-2026.zip';
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: await buildZip([{ name: 'f.log', data: 'x' }]),
      }),
    );
    proxy.setRules([
      { name: 'archive-500', method: 'GET', path: `/${bucket}/${key}`, fault: { kind: 'internal-error' } },
    ]);
    const { state, producer } = await start({ LOGZIP_ALERT_WEBHOOK_URL: receiver.url });

    // Act
    await producer.enqueue({ logId: 'flaky', bucket, key, reason: 'upload' });
    await waitFor(
      async () => (await state.getFailure('flaky'))?.state === 'retrying',
      'first attempt recorded',
      30_000,
    );
    const duringRetries = receiver.posts.length;
    await waitFor(async () => (await producer.getJobState('flaky')) === 'failed', 'job failed', 60_000);
    await waitFor(() => receiver.posts.length >= 1, 'alert received');
    await sleep(500);

    // Assess
    expect(duringRetries).toBe(0);
    expect(receiver.posts).toHaveLength(1);
    const record = await state.getFailure('flaky');
    expect(record).toMatchObject({ state: 'failed', code: 'storage_unavailable' });
    expect(record?.attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    const post = receiver.posts[0];
    expect(blocksText(post)).toContain('Retries exhausted: attempt 3 on the queue route');
    expect(blocksText(post)).toContain('3 attempts');
  });

  it('publishes one alert to SNS: an SQS queue subscribed to the topic receives subject, text and attributes', async () => {
    // Prepare
    const endpoint = requireMoto();
    const clients = { endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS };
    const sns = new SNSClient(clients);
    const sqs = new SQSClient(clients);
    const topic = await sns.send(new CreateTopicCommand({ Name: uniquePrefix('alerts').slice(0, 200) }));
    const queue = await sqs.send(new CreateQueueCommand({ QueueName: uniquePrefix('alerts-inbox') }));
    const queueArn = (
      await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['QueueArn'] }),
      )
    ).Attributes?.['QueueArn'];
    await sns.send(new SubscribeCommand({ TopicArn: topic.TopicArn, Protocol: 'sqs', Endpoint: queueArn }));
    const key = 'incoming/ab/cd/snsbad.zip';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from('not a zip at all') }));
    try {
      const { producer } = await start({
        LOGZIP_ALERT_SNS_TOPIC_ARN: topic.TopicArn as string,
        AWS_ENDPOINT_URL_SNS: endpoint,
      });

      // Act
      await producer.enqueue({ logId: 'snsbad', bucket, key, reason: 'upload' });
      await waitFor(async () => (await producer.getJobState('snsbad')) === 'failed', 'job failed');
      const messages: Array<Record<string, unknown>> = [];
      await waitFor(async () => {
        const received = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queue.QueueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
          }),
        );
        for (const m of received.Messages ?? []) messages.push(JSON.parse(m.Body ?? '{}'));
        return messages.length > 0;
      }, 'SNS notification in the subscribed queue');
      const more = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue.QueueUrl, WaitTimeSeconds: 1 }),
      );

      // Assess
      expect(messages).toHaveLength(1);
      expect(more.Messages ?? []).toHaveLength(0);
      const envelope = messages[0] as {
        Type: string;
        Subject: string;
        Message: string;
        MessageAttributes: Record<string, { Type: string; Value: string }>;
      };
      expect(envelope.Type).toBe('Notification');
      expect(envelope.Subject).toMatch(/^logzip: snsbad failed \((not_zip|corrupt)\)$/);
      expect(envelope.Subject.length).toBeLessThanOrEqual(100);
      expect(envelope.Message).toContain(`Archive:   s3://${bucket}/${key}`);
      // The heading counts the lines when the stack is longer than an alert shows.
      expect(envelope.Message).toMatch(/^Stack( \(first \d+ of \d+ lines[^)]*\))?:$/m);
      expect(envelope.Message).toContain('LogzipError: ');
      expect(envelope.Message).toContain('http://127.0.0.1:8080/archives/snsbad');
      expect(envelope.MessageAttributes['logId']).toEqual({ Type: 'String', Value: 'snsbad' });
      expect(envelope.MessageAttributes['code']?.Value).toMatch(/^(not_zip|corrupt)$/);
    } finally {
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queue.QueueUrl })).catch(() => {});
      await sns.send(new DeleteTopicCommand({ TopicArn: topic.TopicArn })).catch(() => {});
      sns.destroy();
      sqs.destroy();
    }
  });
});
