import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { compileLogIdPattern, LogzipError, type StateStore } from '@logzip/core';
import { createRedis } from '@logzip/core/bullmq';
import { createStorage } from '@logzip/core/runtime';
import { recordAttempt } from '@logzip/core/state';
import {
  describeWithMoto,
  describeWithRedis,
  MOTO_CREDENTIALS,
  MOTO_REGION,
  requireMoto,
  type TempDir,
  tempDir,
  uniquePrefix,
} from '@logzip/test-utils';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Drain, readWorkerConfig, startRedisDrain, startSqsDrain } from '../../src/index.js';
import { captureLogger, waitFor, workerEnv } from '../helpers/harness.js';

const pattern = compileLogIdPattern();

function s3Event(bucket: string, key: string) {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
        responseElements: { 'x-amz-request-id': 'S3REQ1', 'x-amz-id-2': 'ID2' },
        s3: { bucket: { name: bucket }, object: { key, size: 10, eTag: 'abc' } },
      },
    ],
  };
}

function destination(options: {
  requestId: string;
  requestPayload: unknown;
  errorType?: string;
  errorMessage?: string;
  condition?: string;
}) {
  return {
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: {
      requestId: options.requestId,
      functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:logzip:$LATEST',
      condition: options.condition ?? 'RetriesExhausted',
      approximateInvokeCount: 3,
    },
    requestPayload: options.requestPayload,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: {
      errorType: options.errorType ?? 'Sandbox.Timedout',
      errorMessage:
        options.errorMessage ?? '2026-01-01T00:00:00.000Z abc Task timed out after 900.00 seconds',
      trace: ['Error: Task timed out', '    at somewhere (index.mjs:1:1)'],
    },
  };
}

let dir: TempDir;
let state: StateStore;
let drain: Drain | undefined;

async function setUpState(): Promise<void> {
  dir = await tempDir('drain');
  state = createStorage(readWorkerConfig(workerEnv({ LOGZIP_STORAGE_DIR: dir.path })).config!).state;
}

async function tearDown(): Promise<void> {
  await drain?.stop();
  drain = undefined;
  await dir.cleanup();
}

describeWithMoto("draining the Lambda's on-failure SQS queue", () => {
  let sqs: SQSClient;
  let queueUrl: string;

  beforeEach(async () => {
    await setUpState();
    sqs = new SQSClient({ endpoint: requireMoto(), region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
    const created = await sqs.send(new CreateQueueCommand({ QueueName: uniquePrefix('failures') }));
    queueUrl = created.QueueUrl!;
  });

  afterEach(async () => {
    await tearDown();
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => {});
    sqs.destroy();
  });

  async function visibleAndInFlight(): Promise<number> {
    const out = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(out.Attributes?.['ApproximateNumberOfMessages'] ?? 0) +
      Number(out.Attributes?.['ApproximateNumberOfMessagesNotVisible'] ?? 0)
    );
  }

  it('turns a destination message into a failed record and deletes it; leaves an unparseable one', async () => {
    // Prepare
    const message = destination({
      requestId: 'req-timeout-1',
      requestPayload: s3Event('logs', 'incoming/ab/cd/4242-2026.zip'),
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'this is not JSON' }));
    const captured = captureLogger();

    // Act
    drain = startSqsDrain({
      sqs,
      queueUrl,
      state,
      logIdPattern: pattern,
      logger: captured.logger,
      waitSeconds: 1,
    });
    await waitFor(async () => (await state.getFailure('4242')) !== undefined, 'failure record');
    await waitFor(
      () => captured.lines.some((l) => String(l['msg']).startsWith('unparseable')),
      'unparseable message logged',
    );
    await drain.stop();
    drain = undefined;

    // Assess
    const record = await state.getFailure('4242');
    expect(record).toMatchObject({
      state: 'failed',
      route: 'lambda',
      code: 'timeout',
      source: { bucket: 'logs', key: 'incoming/ab/cd/4242-2026.zip' },
    });
    expect(record?.message).toMatch(/Task timed out/);
    expect(record?.stack).toMatch(/Task timed out/);
    expect(record?.attempts).toEqual([
      expect.objectContaining({
        route: 'lambda',
        requestId: 'req-timeout-1',
        attempt: 1,
        run: 'upload',
        runAttempt: 3,
        code: 'timeout',
      }),
    ]);
    // The recorded message is gone; the unparseable one stays for the queue's redrive to its DLQ.
    expect(await visibleAndInFlight()).toBe(1);
  });
});

describeWithRedis('draining the local destination list in Redis', () => {
  let redis: Redis;
  let key: string;

  beforeEach(async () => {
    await setUpState();
    redis = createRedis(readWorkerConfig(workerEnv()).config!.redisUrl);
    key = `${uniquePrefix('destination')}:list`;
  });

  afterEach(async () => {
    await tearDown();
    await redis.del(key, `${key}:processing`, `${key}:dead`);
    redis.disconnect();
  });

  it('records failures, keeps the precise code the handler recorded, and moves unparseable items aside', async () => {
    // Prepare: the handler already recorded attempt 3 of this request as storage_unavailable.
    await state.putFailure(
      recordAttempt(undefined, {
        logId: 'known',
        source: { bucket: 'logs', key: 'incoming/known.zip' },
        route: 'lambda',
        error: new LogzipError('storage_unavailable', 'S3 503 SlowDown'),
        attempt: 3,
        maxAttempts: 4,
        requestId: 'req-known',
        at: new Date(),
      }),
    );
    const rerun = destination({
      requestId: 'req-known',
      requestPayload: { logId: 'known', bucket: 'logs', key: 'incoming/known.zip' },
      errorType: 'LogzipError',
      errorMessage: 'S3 503 SlowDown',
    });
    const crash = destination({
      requestId: 'req-crash',
      requestPayload: s3Event('logs', 'incoming/crash%5Fme.zip'),
      errorType: 'Runtime.ExitError',
      errorMessage: 'RequestId: x Error: Runtime exited with error: signal: killed',
    });
    await redis.lpush(key, JSON.stringify(rerun), '{"no":"shape"}', JSON.stringify(crash));

    // Act
    drain = startRedisDrain({
      redis: redis.duplicate(),
      key,
      state,
      logIdPattern: pattern,
      blockSeconds: 1,
    });
    await waitFor(
      async () => (await redis.llen(key)) === 0 && (await redis.llen(`${key}:processing`)) === 0,
      'list drained',
    );
    await drain.stop();
    drain = undefined;

    // Assess
    expect(await state.getFailure('known')).toMatchObject({
      state: 'failed',
      route: 'lambda',
      code: 'storage_unavailable',
    });
    expect((await state.getFailure('known'))?.attempts).toHaveLength(1);
    expect(await state.getFailure('crash_me')).toMatchObject({
      state: 'failed',
      code: 'internal',
      source: { key: 'incoming/crash_me.zip' },
      attempts: [expect.objectContaining({ requestId: 'req-crash' })],
    });
    expect(await redis.lrange(`${key}:dead`, 0, -1)).toEqual(['{"no":"shape"}']);
  });
});
