import { GetEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import {
  GetBucketNotificationConfigurationCommand,
  type NotificationConfiguration,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  type BufferedStack,
  createBufferedStack,
  createMotoS3Client,
  createTestBucket,
  deleteTestBucket,
  describeWithMoto,
  type MotoServer,
  startMotoServer,
  waitUntil,
} from '@logzip/test-utils';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import {
  createAwsTriggerControl,
  filterOf,
  migrateTrigger,
  type TriggerMigrationOptions,
} from '../../src/adapters/aws-trigger/index.js';

// moto's S3 delivers the bucket's notifications to the queue for real; its Lambda API keeps the
// mapping's Enabled flag. The mapping lives in a second moto (startMotoServer): an enabled mapping in
// the run's moto would make its SQS consume the messages itself. moto cannot run the function, so
// the direct entry is checked in the configuration, and the test plays the consumer that drains the
// queue (the enabled mapping's part).
let s3: S3Client;
let controlPlane: MotoServer;
const cleanups: Array<() => Promise<void>> = [];

const FOREIGN: NotificationConfiguration = {
  TopicConfigurations: [
    { Id: 'audit', TopicArn: 'arn:aws:sns:us-east-1:123456789012:audit', Events: ['s3:ObjectRemoved:*'] },
  ],
};

async function setUp(): Promise<{ bucket: string; stack: BufferedStack; options: TriggerMigrationOptions }> {
  const bucket = await createTestBucket(s3, 'migrate');
  const stack = await createBufferedStack({ bucket, controlPlane: controlPlane.url });
  cleanups.push(
    () => stack.remove(),
    () => deleteTestBucket(s3, bucket),
  );
  await s3.send(
    new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: FOREIGN }),
  );
  return {
    bucket,
    stack,
    options: {
      s3,
      lambda: stack.lambda,
      sqs: stack.sqs,
      bucket,
      prefix: 'incoming/',
      functionName: stack.functionName,
      queueUrl: stack.queueUrl,
    },
  };
}

async function readConfiguration(bucket: string): Promise<NotificationConfiguration> {
  const { $metadata: _, ...configuration } = await s3.send(
    new GetBucketNotificationConfigurationCommand({ Bucket: bucket }),
  );
  return configuration;
}

/** Who the configuration announces an `incoming/*.zip` creation to: the function, the queue, or both. */
function announcers(configuration: NotificationConfiguration, stack: BufferedStack): string[] {
  const direct = (configuration.LambdaFunctionConfigurations ?? []).filter((e) =>
    e.LambdaFunctionArn?.endsWith(`:function:${stack.functionName}`),
  );
  const queue = (configuration.QueueConfigurations ?? []).filter((e) => e.QueueArn === stack.queueArn);
  return [...direct.map(() => 'function'), ...queue.map(() => 'queue')];
}

/** Receives and deletes every message the queue holds; the upload records among them. */
async function consumeAll(stack: BufferedStack): Promise<number> {
  let records = 0;
  for (;;) {
    const { Messages = [] } = await stack.sqs.receiveMessage({
      QueueUrl: stack.queueUrl,
      MaxNumberOfMessages: 10,
    });
    if (Messages.length === 0) return records;
    for (const message of Messages) {
      records += ((JSON.parse(message.Body ?? '{}') as { Records?: unknown[] }).Records ?? []).length;
      await stack.sqs.deleteMessage({ QueueUrl: stack.queueUrl, ReceiptHandle: message.ReceiptHandle });
    }
  }
}

async function upload(bucket: string, key: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'PK' }));
}

async function mappingState(stack: BufferedStack): Promise<string | undefined> {
  return (await stack.lambda.send(new GetEventSourceMappingCommand({ UUID: stack.mappingUuid }))).State;
}

describeWithMoto('migrateTrigger (logzip route migrate)', () => {
  beforeAll(async () => {
    s3 = createMotoS3Client();
    controlPlane = await startMotoServer('moto-migrate-control-plane');
  });
  afterAll(async () => {
    await controlPlane?.stop();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('moves direct → buffered → direct under route lambda: one announcer at every step, the queue drained before the mapping is disabled', async () => {
    // Prepare: a direct-mode deployment, the function's entry beside a foreign one.
    const { bucket, stack, options } = await setUp();
    await createAwsTriggerControl(options).enable();
    const direct = await readConfiguration(bucket);

    // Act 1: into buffered mode; uploads then reach the queue.
    const intoBuffered = await migrateTrigger(options, { to: 'buffered', route: 'lambda' });
    const buffered = await readConfiguration(bucket);
    const enabled = await mappingState(stack);
    await upload(bucket, 'incoming/aa/bb/1001.zip');
    await upload(bucket, 'incoming/aa/bb/1002.zip');
    const waiting = await stack.depth(stack.queueUrl);

    // Act 2: back to direct. The test drains the queue as the enabled mapping would, once the
    // migration says it waits for it.
    let consumed: Promise<number> | undefined;
    const steps: string[] = [];
    const intoDirect = await migrateTrigger(options, {
      to: 'direct',
      route: 'lambda',
      drainTimeoutMs: 60_000,
      pollMs: 100,
      onStep: (step) => {
        steps.push(step);
        if (step.startsWith('draining') && consumed === undefined) consumed = consumeAll(stack);
      },
    });
    const back = await readConfiguration(bucket);
    const disabled = await mappingState(stack);
    await upload(bucket, 'incoming/aa/bb/1003.zip');

    // Assess
    expect(announcers(direct, stack)).toEqual(['function']);
    expect(intoBuffered).toMatchObject({ to: 'buffered', drained: true });
    expect(announcers(buffered, stack)).toEqual(['queue']);
    expect(buffered.TopicConfigurations).toEqual(FOREIGN.TopicConfigurations);
    expect(enabled).toBe('Enabled');
    expect(waiting).toBeGreaterThanOrEqual(2); // the two uploads (and the test event of the write)
    expect(await consumed).toBe(2);
    expect(intoDirect).toMatchObject({ to: 'direct', drained: true, remaining: 0 });
    expect(steps[0]).toMatch(/invokes .* directly \(the queue's entry removed in the same write\)/);
    expect(steps.at(-1)).toMatch(
      /the queue and its dead-letter queue are empty; the event source mapping is disabled/,
    );
    expect(announcers(back, stack)).toEqual(['function']);
    expect(back.TopicConfigurations).toEqual(FOREIGN.TopicConfigurations);
    const entry = back.LambdaFunctionConfigurations?.[0];
    expect(entry === undefined ? undefined : filterOf(entry)).toEqual({
      prefix: 'incoming/',
      suffix: '.zip',
    });
    expect(disabled).toBe('Disabled');
    // Direct again: a new upload is the function's, nothing more reaches the queue.
    expect(await stack.depth(stack.queueUrl)).toBe(0);
  }, 120_000);

  it('leaving buffered mode with messages nobody takes: not drained after the timeout, the mapping left as it was, and running it again resumes', async () => {
    // Prepare: buffered under route queue (mapping disabled, workers would take the queue).
    const { bucket, stack, options } = await setUp();
    await migrateTrigger(options, { to: 'buffered', route: 'queue' });
    await upload(bucket, 'incoming/cc/dd/2001.zip');
    await waitUntil(async () => (await stack.depth(stack.queueUrl)) > 0, {
      timeoutMs: 10_000,
      what: 'the upload in the queue',
    });

    // Act
    const first = await migrateTrigger(options, {
      to: 'direct',
      route: 'queue',
      drainTimeoutMs: 500,
      pollMs: 100,
    });
    const afterFirst = await readConfiguration(bucket);
    const stateAfterFirst = await mappingState(stack);
    const records = await consumeAll(stack); // a buffered worker takes the queue meanwhile
    const second = await migrateTrigger(options, {
      to: 'direct',
      route: 'queue',
      drainTimeoutMs: 10_000,
      pollMs: 100,
    });

    // Assess
    expect(first.drained).toBe(false);
    expect(first.remaining).toBeGreaterThan(0);
    expect(first.steps.at(-1)).toMatch(/still hold \d+ message\(s\)/);
    // Route queue in direct mode: no entry at all (the sweeper finds new uploads); foreign kept.
    expect(announcers(afterFirst, stack)).toEqual([]);
    expect(afterFirst.TopicConfigurations).toEqual(FOREIGN.TopicConfigurations);
    expect(stateAfterFirst).toBe('Disabled');
    expect(records).toBe(1);
    expect(second).toMatchObject({ drained: true, remaining: 0 });
  }, 60_000);
});
