import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { PutBucketNotificationConfigurationCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { LogzipError, type ObjectStore, type RouteStore } from '@logzip/core';
import { createAwsTriggerControl } from '@logzip/core/aws-trigger';
import { createRedis, createRedisRouteStore } from '@logzip/core/bullmq';
import { type DestinationPayload, decodeS3Key } from '@logzip/core/events';
import { createFsObjectStore } from '@logzip/core/fs';
import { createS3Client, createS3ObjectStore } from '@logzip/core/s3';
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
  requireRedis,
  type TempDir,
  tempDir,
  uniquePrefix,
} from '@logzip/test-utils';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { redisListDestination, sqsDestination } from '../../src/emulator/destination.js';
import {
  type EmulatedContext,
  type EmulatedHandler,
  startTriggerEmulator,
  type TriggerEmulator,
  type TriggerEmulatorOptions,
} from '../../src/emulator/emulator.js';
import { notificationGate, routeFlagGate } from '../../src/emulator/gate.js';
import { BUNDLE_PATH, ensureBundle } from '../helpers/bundle.js';

interface Call {
  event: {
    Records: Array<{ eventVersion: string; s3: { object: { key: string; eTag: string; size: number } } }>;
  };
  context: EmulatedContext;
}

/** A stand-in function that records its invocations and fails the first `failures` of them. */
function recordingHandler(failures = 0): EmulatedHandler & { calls: Call[] } {
  const calls: Call[] = [];
  const handler = async (event: unknown, context: EmulatedContext) => {
    calls.push({ event: event as Call['event'], context });
    if (calls.length <= failures)
      throw new LogzipError('storage_unavailable', `S3 said 503 (call ${calls.length})`);
    return { ok: true };
  };
  return Object.assign(handler, { calls });
}

async function putFile(root: string, bucket: string, key: string, data: Buffer | string): Promise<void> {
  const path = join(root, bucket, key);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, data);
}

describeWithRedis('trigger emulator on folder storage (route flag in Redis)', () => {
  let redis: Redis;
  let dir: TempDir;
  let store: ObjectStore;
  let routes: RouteStore;
  let keyPrefix: string;
  let emulators: TriggerEmulator[];
  const bucket = 'logzip-local';

  beforeEach(async () => {
    redis = createRedis(requireRedis());
    dir = await tempDir('emulator');
    store = createFsObjectStore({ rootDir: dir.path });
    keyPrefix = `${uniquePrefix('emulator')}:`;
    routes = createRedisRouteStore(redis, `${keyPrefix}route`);
    emulators = [];
  });

  afterEach(async () => {
    await Promise.all(emulators.map((e) => e.stop()));
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    await dir.cleanup();
  });

  async function start(handler: EmulatedHandler, options: Partial<TriggerEmulatorOptions> = {}) {
    const emulator = await startTriggerEmulator({
      store,
      bucket,
      prefix: 'incoming/',
      gate: routeFlagGate(routes),
      handler,
      redis,
      destination: redisListDestination(redis, `${keyPrefix}lambda-destination`),
      keyPrefix,
      intervalMs: 60_000,
      retryDelaysMs: [20, 40],
      ...options,
    });
    emulators.push(emulator);
    await emulator.scanOnce(); // the baseline scan
    return emulator;
  }

  it('fires only while the route flag says lambda, never for what arrived under another route', async () => {
    // Prepare
    const handler = recordingHandler();
    const emulator = await start(handler);
    // Act
    await putFile(dir.path, bucket, 'incoming/ab/cd/1001.zip', 'unset');
    const unset = await emulator.scanOnce();
    await routes.set('queue');
    await putFile(dir.path, bucket, 'incoming/ab/cd/1002.zip', 'queue');
    const queue = await emulator.scanOnce();
    await routes.set('lambda');
    await putFile(dir.path, bucket, 'incoming/ab/cd/1003 ログ.zip', 'lambda');
    const lambda = await emulator.scanOnce();
    await emulator.idle();
    // Assess
    expect(unset).toMatchObject({ enabled: false, fired: [], ignored: ['incoming/ab/cd/1001.zip'] });
    expect(queue).toMatchObject({ enabled: false, fired: [], ignored: ['incoming/ab/cd/1002.zip'] });
    expect(lambda).toMatchObject({ enabled: true, fired: ['incoming/ab/cd/1003 ログ.zip'], ignored: [] });
    expect(handler.calls).toHaveLength(1);
    const record = handler.calls[0]!.event.Records[0]!;
    expect(record.eventVersion).toBe('2.1');
    expect(record.s3.object.key).toBe('incoming/ab/cd/1003+%E3%83%AD%E3%82%B0.zip');
    expect(decodeS3Key(record.s3.object.key)).toBe('incoming/ab/cd/1003 ログ.zip');
    expect(record.s3.object.size).toBe(6);
    expect(record).toMatchObject({
      eventSource: 'aws:s3',
      eventName: 'ObjectCreated:Put',
      responseElements: {
        'x-amz-request-id': expect.stringMatching(/^[0-9A-F]{16}$/),
        'x-amz-id-2': expect.any(String),
      },
      s3: { object: { eTag: expect.stringMatching(/^[0-9a-f]{32}$/), sequencer: expect.any(String) } },
    });
  });

  it('retries a failed invocation twice with one awsRequestId, then sends the destination payload', async () => {
    // Prepare
    await routes.set('lambda');
    const handler = recordingHandler(3);
    const emulator = await start(handler);
    await putFile(dir.path, bucket, 'incoming/2001.zip', 'x');
    // Act
    await emulator.scanOnce();
    const [chain] = await emulator.idle();
    // Assess
    expect(handler.calls).toHaveLength(3);
    expect(new Set(handler.calls.map((c) => c.context.awsRequestId)).size).toBe(1);
    expect(handler.calls.map((c) => c.event)).toEqual([
      handler.calls[0]!.event,
      handler.calls[0]!.event,
      handler.calls[0]!.event,
    ]);
    expect(chain?.sentToDestination).toBe(true);
    const sent = await redis.lrange(`${keyPrefix}lambda-destination`, 0, -1);
    expect(sent).toHaveLength(1);
    const payload = JSON.parse(sent[0]!) as DestinationPayload;
    expect(payload).toEqual({
      version: '1.0',
      timestamp: expect.any(String),
      requestContext: {
        requestId: handler.calls[0]!.context.awsRequestId,
        functionArn: expect.stringMatching(/:function:logzip-extract:\$LATEST$/),
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
      },
      requestPayload: handler.calls[0]!.event,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: {
        errorType: 'LogzipError',
        errorMessage: 'S3 said 503 (call 3)',
        trace: expect.arrayContaining([expect.stringContaining('LogzipError: S3 said 503 (call 3)')]),
      },
    });
  });

  it('sends nothing to the destination when a retry succeeds', async () => {
    // Prepare
    await routes.set('lambda');
    const handler = recordingHandler(1);
    const emulator = await start(handler);
    await putFile(dir.path, bucket, 'incoming/3001.zip', 'x');
    // Act
    await emulator.scanOnce();
    const [chain] = await emulator.idle();
    // Assess
    expect(handler.calls).toHaveLength(2);
    expect(chain?.attempts.map((a) => a.ok)).toEqual([false, true]);
    expect(await redis.llen(`${keyPrefix}lambda-destination`)).toBe(0);
  });

  it('remembers what it fired across restarts, and fires again for a re-upload (new ETag)', async () => {
    // Prepare
    await routes.set('lambda');
    const handler = recordingHandler();
    const first = await start(handler);
    await putFile(dir.path, bucket, 'incoming/4001.zip', 'one');
    await first.scanOnce();
    await first.stop();
    // Act
    const second = await start(handler);
    const again = await second.scanOnce();
    await putFile(dir.path, bucket, 'incoming/4001.zip', 'two');
    const reupload = await second.scanOnce();
    await second.idle();
    // Assess
    expect(again.fired).toEqual([]);
    expect(reupload.fired).toEqual(['incoming/4001.zip']);
    expect(handler.calls.map((c) => c.event.Records[0]!.s3.object.eTag)).toHaveLength(2);
  });

  it('with settle, fires a file only once two scans saw it unchanged (a copy in progress is not an upload)', async () => {
    // Prepare
    await routes.set('lambda');
    const handler = recordingHandler();
    const emulator = await start(handler, { settle: true });
    // Act
    await putFile(dir.path, bucket, 'incoming/4501.zip', 'half');
    const first = await emulator.scanOnce();
    await putFile(dir.path, bucket, 'incoming/4501.zip', 'half and the rest');
    const second = await emulator.scanOnce();
    const third = await emulator.scanOnce();
    await emulator.idle();
    // Assess
    expect(first).toMatchObject({ fired: [], pending: ['incoming/4501.zip'] });
    expect(second).toMatchObject({ fired: [], pending: ['incoming/4501.zip'] });
    expect(third).toMatchObject({ fired: ['incoming/4501.zip'], pending: [] });
    expect(handler.calls.map((c) => c.event.Records[0]!.s3.object.size)).toEqual([17]);
  });

  it('with settle, an upload first seen while the route was queue is not fired when lambda comes back before it settles', async () => {
    // Prepare: the worker owns uploads made under the queue route; S3 would not announce them later.
    await routes.set('queue');
    const handler = recordingHandler();
    const emulator = await start(handler, { settle: true });
    await emulator.scanOnce();
    // Act
    await putFile(dir.path, bucket, 'incoming/4502.zip', 'made under the queue route');
    const first = await emulator.scanOnce();
    await routes.set('lambda');
    const second = await emulator.scanOnce();
    await putFile(dir.path, bucket, 'incoming/4503.zip', 'made under the lambda route');
    const third = await emulator.scanOnce();
    const fourth = await emulator.scanOnce();
    await emulator.idle();
    // Assess
    expect(first).toMatchObject({ fired: [], pending: ['incoming/4502.zip'] });
    expect(second).toMatchObject({ fired: [], ignored: ['incoming/4502.zip'], pending: [] });
    expect(third).toMatchObject({ fired: [], pending: ['incoming/4503.zip'] });
    expect(fourth).toMatchObject({ fired: ['incoming/4503.zip'] });
    expect(handler.calls.map((c) => c.event.Records[0]!.s3.object.key)).toEqual(['incoming/4503.zip']);
  });

  it('runs the built bundle: an archive dropped in the folder is extracted there', async () => {
    // Prepare
    await ensureBundle();
    await routes.set('lambda');
    const saved = { ...process.env };
    Object.assign(process.env, {
      LOGZIP_STORAGE_DIR: dir.path,
      LOGZIP_INCOMING_BUCKET: bucket,
      LOG_LEVEL: 'silent',
    });
    let handler: EmulatedHandler;
    try {
      ({ handler } = (await import(`${pathToFileURL(BUNDLE_PATH).href}?emulator=${randomUUID()}`)) as {
        handler: EmulatedHandler;
      });
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    }
    const emulator = await start(handler);
    await putFile(
      dir.path,
      bucket,
      'incoming/ab/cd/5001-2026 ログ.zip',
      await buildZip([{ name: 'app.log', data: 'hi' }]),
    );
    // Act
    await emulator.scanOnce();
    const [chain] = await emulator.idle();
    // Assess
    expect(chain?.attempts).toEqual([
      {
        ok: true,
        result: expect.objectContaining({
          results: [expect.objectContaining({ outcome: 'extracted', logId: '5001' })],
        }),
      },
    ]);
    expect(await readFile(join(dir.path, bucket, 'extracted/5001/app.log'), 'utf8')).toBe('hi');
  });
});

describeWithMoto('trigger emulator on an S3-compatible server (notification configuration)', () => {
  let s3: S3Client;
  let redis: Redis;
  let bucket: string;
  let keyPrefix: string;
  let emulator: TriggerEmulator | undefined;

  beforeEach(async () => {
    s3 = createMotoS3Client();
    redis = createRedis(requireRedis());
    bucket = await createTestBucket(s3, 'emulator');
    keyPrefix = `${uniquePrefix('emulator-s3')}:`;
  });

  afterEach(async () => {
    await emulator?.stop();
    emulator = undefined;
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    await deleteTestBucket(s3, bucket);
  });

  it("fires while the bucket's configuration holds the function's entry, within its filter, and sends the destination payload to SQS", async () => {
    // Prepare
    const functionName = `logzip-${randomUUID().slice(0, 8)}`;
    const client = createS3Client({ AWS_ENDPOINT_URL_S3: requireMoto(), AWS_REGION: MOTO_REGION });
    const store = createS3ObjectStore({ client });
    const sqs = new SQSClient({
      endpoint: requireMoto(),
      region: MOTO_REGION,
      credentials: MOTO_CREDENTIALS,
    });
    const queue = await sqs.send(
      new CreateQueueCommand({ QueueName: `logzip-dest-${randomUUID().slice(0, 8)}` }),
    );
    const handler = recordingHandler(3);
    emulator = await startTriggerEmulator({
      store,
      bucket,
      prefix: 'incoming/',
      gate: notificationGate(client, bucket, functionName),
      handler,
      redis,
      destination: sqsDestination(sqs, queue.QueueUrl as string),
      keyPrefix,
      intervalMs: 60_000,
      retryDelaysMs: [10, 10],
      functionName,
    });
    await emulator.scanOnce();
    const put = (key: string) => store.put(bucket, key, Buffer.from(key));
    // Act
    await put('incoming/6001.zip');
    const off = await emulator.scanOnce();
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: {
          LambdaFunctionConfigurations: [
            {
              Id: 'logzip-extract',
              LambdaFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
              Events: ['s3:ObjectCreated:*'],
              Filter: { Key: { FilterRules: [{ Name: 'suffix', Value: '.zip' }] } },
            },
          ],
        },
      }),
    );
    await put('incoming/6002.zip');
    await put('incoming/6003.txt');
    const on = await emulator.scanOnce();
    await emulator.idle();
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.QueueUrl, WaitTimeSeconds: 1 }),
    );
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queue.QueueUrl }));
    // Assess
    expect(off).toMatchObject({ enabled: false, fired: [], ignored: ['incoming/6001.zip'] });
    expect(on).toMatchObject({ enabled: true, fired: ['incoming/6002.zip'], ignored: ['incoming/6003.txt'] });
    expect(handler.calls).toHaveLength(3);
    expect(handler.calls[0]!.context.invokedFunctionArn).toMatch(new RegExp(`:function:${functionName}$`));
    expect(received.Messages).toHaveLength(1);
    const payload = JSON.parse(received.Messages![0]!.Body as string) as DestinationPayload;
    expect(payload.requestContext).toMatchObject({
      requestId: handler.calls[0]!.context.awsRequestId,
      approximateInvokeCount: 3,
    });
    expect(payload.requestPayload).toMatchObject({
      Records: [{ s3: { configurationId: 'logzip-extract' } }],
    });
  });

  it("bug: a qualified function ARN read 'on' for the trigger control and 'off' for the emulator", async () => {
    // Prepare
    const functionName = `logzip-${randomUUID().slice(0, 8)}`;
    const client = createS3Client({ AWS_ENDPOINT_URL_S3: requireMoto(), AWS_REGION: MOTO_REGION });
    const lambda = new LambdaClient({
      endpoint: requireMoto(),
      region: MOTO_REGION,
      credentials: MOTO_CREDENTIALS,
    });
    const control = createAwsTriggerControl({
      s3: client,
      lambda,
      bucket,
      prefix: 'incoming/',
      functionName,
    });
    const gate = notificationGate(client, bucket, functionName);
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: {
          LambdaFunctionConfigurations: [
            {
              Id: 'logzip-extract',
              LambdaFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}:live`,
              Events: ['s3:ObjectCreated:*'],
              Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'incoming/' }] } },
            },
          ],
        },
      }),
    );
    try {
      // Act
      const controlled = await control.read();
      const gated = await gate.read();
      // Assess
      expect(controlled.enabled).toBe(true);
      expect(gated.enabled).toBe(controlled.enabled);
      expect(gated.filter).toEqual(controlled.filter);
    } finally {
      lambda.destroy();
    }
  });
});
