import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  type NotificationConfiguration,
  PutBucketNotificationConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  createStateStore,
  DEFAULT_LIMITS,
  DEFAULT_LOG_ID_PATTERN,
  extractAndRecord,
  type ObjectStore,
  type RecordedOutcome,
  type RouteStore,
  type StateStore,
  silentLogger,
  systemClock,
  type TriggerControl,
} from '@logzip/core';
import {
  createAwsTriggerControl,
  createBufferedTriggerControl,
  createLocalTriggerControl,
} from '@logzip/core/aws-trigger';
import { type BullmqProducer, createBullmqProducer, createRedisRouteStore } from '@logzip/core/bullmq';
import { createFsObjectStore } from '@logzip/core/fs';
import { createRedisFailureIndex } from '@logzip/core/redis-index';
import { createS3ObjectStore } from '@logzip/core/s3';
import { createIndexedStateStore, reindex } from '@logzip/core/state';
import {
  type BufferedStack,
  buildZip,
  createBufferedStack,
  createMotoS3Client,
  createTestBucket,
  deleteTestBucket,
  MOTO_CREDENTIALS,
  MOTO_REGION,
  motoLambdaRole,
  requireMoto,
  requireRedis,
} from '@logzip/test-utils';
import { Redis } from 'ioredis';
import { createAuditLog } from '../../src/adapters/audit-log.js';
import { createLambdaInvoker } from '../../src/adapters/lambda-invoker.js';
import { createQueueView } from '../../src/adapters/queue-view.js';
import { createRedisLock } from '../../src/adapters/switch-lock.js';
import type { OperationsContext } from '../../src/operations/context.js';

export const TOKEN = 'test-admin-token-0123456789abcdef-0123456789';
export const INCOMING_PREFIX = 'incoming/';
export const OUTPUT_PREFIX = 'extracted/';
export const STATE_PREFIX = 'logzip-state/';

export interface Harness {
  ctx: OperationsContext;
  /** Route flag, audit list, locks and rate limits live under a unique ioredis keyPrefix. */
  redis: Redis;
  keyPrefix: string;
  /** BullMQ's connection (BullMQ refuses ioredis key prefixes: it gets its own `prefix`). */
  bullRedis: Redis;
  queuePrefix: string;
  producer: BullmqProducer;
  routes: RouteStore;
  store: ObjectStore;
  state: StateStore;
  bucket: string;
  s3?: S3Client;
  lambda?: LambdaClient;
  functionName?: string;
  /** The queue, dead-letter queue and mapping of the `buffered` trigger. */
  buffered?: BufferedStack;
  /** Uploads an archive under the incoming prefix. */
  upload(key: string, body: Buffer): Promise<void>;
  /** Runs the engine once on a log ID's archive, as a route would (and records a failure). */
  extract(logId: string, key: string, options?: { force?: boolean }): Promise<RecordedOutcome>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  storage: 'fs' | 's3';
  /**
   * `aws`: the AWS trigger control on moto (needs s3 storage); `buffered`: the buffered one (a queue,
   * its dead-letter queue and an event source mapping in moto); `local`: the route flag.
   */
  trigger?: 'aws' | 'buffered' | 'local';
}

/** A function in moto (it never runs: moto without Docker does not execute Lambdas). */
export async function createMotoFunction(
  lambda: LambdaClient,
  endpoint: string,
  name: string,
): Promise<string> {
  const code = await buildZip([
    { name: 'index.mjs', data: 'export const handler = async () => ({ ok: true });\n' },
  ]);
  const created = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs20.x',
      Role: await motoLambdaRole(endpoint),
      Handler: 'index.handler',
      Code: { ZipFile: code },
    }),
  );
  return created.FunctionArn!;
}

/** Someone else's entries on the incoming bucket, which every switch must keep. */
export const FOREIGN_ENTRIES: NotificationConfiguration = {
  QueueConfigurations: [
    {
      Id: 'audit-deletes',
      QueueArn: 'arn:aws:sqs:us-east-1:123456789012:audit',
      Events: ['s3:ObjectRemoved:*'],
    },
  ],
  TopicConfigurations: [
    {
      Id: 'reports',
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:reports',
      Events: ['s3:ObjectCreated:*'],
      Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'reports/' }] } },
    },
  ],
};

/**
 * A complete, isolated admin context on real Redis (unique key prefixes) and real storage (a
 * moto bucket or a temp folder), with the AWS trigger control against moto when asked.
 */
export async function createHarness(options: HarnessOptions): Promise<Harness> {
  const redisUrl = requireRedis();
  const keyPrefix = `test-${randomUUID()}:`;
  const redis = new Redis(redisUrl, { keyPrefix, maxRetriesPerRequest: 2 });
  const bullRedis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queuePrefix = `test-${randomUUID()}`;
  const producer = createBullmqProducer({
    connection: bullRedis,
    prefix: queuePrefix,
    backoffDelayMs: 10,
    attempts: 1,
  });
  const routes = createRedisRouteStore(redis);

  let store: ObjectStore;
  let bucket: string;
  let s3: S3Client | undefined;
  let dir: string | undefined;
  if (options.storage === 's3') {
    s3 = createMotoS3Client();
    bucket = await createTestBucket(s3, 'admin');
    store = createS3ObjectStore({ client: s3 });
  } else {
    dir = await mkdtemp(join(tmpdir(), 'logzip-admin-'));
    bucket = 'logs';
    store = createFsObjectStore({ rootDir: dir });
  }
  // The index lives under the same unique key prefix; built once (empty) so views answer.
  const index = createRedisFailureIndex({ redis });
  const plainState = createStateStore({ store, bucket, prefix: STATE_PREFIX });
  await reindex({ store, bucket, prefix: STATE_PREFIX, index });
  const state = createIndexedStateStore(plainState, index);

  let trigger: TriggerControl;
  let lambda: LambdaClient | undefined;
  let functionName: string | undefined;
  let buffered: BufferedStack | undefined;
  if (options.trigger === 'aws') {
    if (s3 === undefined) throw new Error('the AWS trigger needs s3 storage');
    const endpoint = requireMoto();
    lambda = new LambdaClient({ endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
    functionName = `logzip-extract-${randomUUID().slice(0, 8)}`;
    await createMotoFunction(lambda, endpoint, functionName);
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: FOREIGN_ENTRIES,
      }),
    );
    trigger = createAwsTriggerControl({ s3, lambda, bucket, prefix: INCOMING_PREFIX, functionName });
  } else if (options.trigger === 'buffered') {
    if (s3 === undefined) throw new Error('the buffered trigger needs s3 storage');
    buffered = await createBufferedStack({ bucket });
    lambda = buffered.lambda;
    functionName = buffered.functionName;
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: FOREIGN_ENTRIES,
      }),
    );
    trigger = createBufferedTriggerControl({
      s3,
      lambda,
      sqs: buffered.sqs,
      bucket,
      prefix: INCOMING_PREFIX,
      functionName,
      queueUrl: buffered.queueUrl,
    });
  } else {
    trigger = createLocalTriggerControl({ routeStore: routes });
  }

  const ctx: OperationsContext = {
    settings: {
      incoming: { bucket, prefix: INCOMING_PREFIX },
      output: { bucket, prefix: OUTPUT_PREFIX },
      logIdPattern: new RegExp(DEFAULT_LOG_ID_PATTERN, 'i'),
      triggerMode: buffered === undefined ? 'direct' : 'buffered',
    },
    store,
    state,
    index,
    routes,
    trigger,
    producer,
    queue: createQueueView(producer.queue),
    audit: createAuditLog({ redis, state, clock: systemClock, logger: silentLogger, index }),
    ...(lambda === undefined || functionName === undefined
      ? {}
      : { lambda: createLambdaInvoker(lambda, functionName) }),
    lock: createRedisLock(redis),
    logger: silentLogger,
    clock: systemClock,
  };

  return {
    ctx,
    redis,
    keyPrefix,
    bullRedis,
    queuePrefix,
    producer,
    routes,
    store,
    state,
    bucket,
    ...(s3 === undefined ? {} : { s3 }),
    ...(lambda === undefined ? {} : { lambda }),
    ...(functionName === undefined ? {} : { functionName }),
    ...(buffered === undefined ? {} : { buffered }),
    async upload(key, body) {
      await store.put(bucket, key, body, { size: body.length });
    },
    extract(logId, key, extractOptions = {}) {
      return extractAndRecord(
        { source: store, output: store, state, logger: silentLogger },
        {
          logId,
          source: { bucket, key },
          output: { bucket, prefix: OUTPUT_PREFIX },
          limits: DEFAULT_LIMITS,
          fallbackEncoding: 'cp932',
          ...(extractOptions.force ? { force: true } : {}),
        },
        { route: 'queue', attempt: 1, maxAttempts: 1 },
      );
    },
    async close() {
      await producer.close().catch(() => {});
      const bullKeys = await bullRedis.keys(`${queuePrefix}:*`);
      if (bullKeys.length > 0) await bullRedis.del(...bullKeys);
      const ours = await bullRedis.keys(`${keyPrefix}*`);
      if (ours.length > 0) await bullRedis.del(...ours);
      redis.disconnect();
      bullRedis.disconnect();
      if (buffered !== undefined) await buffered.remove();
      else lambda?.destroy();
      if (s3 !== undefined) {
        await deleteTestBucket(s3, bucket).catch(() => {});
        s3.destroy();
      }
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An archive whose log ID is `logId`, with a couple of files. */
export async function goodArchive(logId: string): Promise<Buffer> {
  return buildZip([
    { name: 'app.log', data: `log of ${logId}\n` },
    { name: 'logs/system.log', data: 'system\n' },
  ]);
}

/** Bytes that are not a ZIP: the engine rejects them with `not_zip` and records the failure. */
export const NOT_A_ZIP = Buffer.from('this is not a zip archive, it is a plain text upload\n');
