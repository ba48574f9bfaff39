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
} from '@logzip/test-utils';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createBufferedTriggerControl,
  TRIGGER_ID,
  TriggerControlError,
} from '../../src/adapters/aws-trigger/index.js';

// moto plays S3 (it delivers the bucket's notifications to SQS for real), SQS (redrive included)
// and Lambda's control plane (event source mappings keep their Enabled flag). It does not poll a
// queue for a mapping: that part is the local emulator's, tested in packages/lambda.
let s3: S3Client;
const cleanups: Array<() => Promise<void>> = [];

async function setUp(options: { policy?: boolean; mapping?: boolean } = {}) {
  const bucket = await createTestBucket(s3, 'buffered');
  const stack = await createBufferedStack({
    ...(options.policy === false ? {} : { bucket }),
    ...(options.mapping === false ? { mapping: false } : {}),
  });
  cleanups.push(
    () => stack.remove(),
    () => deleteTestBucket(s3, bucket),
  );
  const control = createBufferedTriggerControl({
    s3: s3,
    bucket: bucket,
    prefix: 'incoming/',
    ...stack.triggerOptions,
  });
  return { bucket, stack, control };
}

async function readConfiguration(bucket: string): Promise<NotificationConfiguration> {
  const { $metadata: _, ...configuration } = await s3.send(
    new GetBucketNotificationConfigurationCommand({ Bucket: bucket }),
  );
  return configuration;
}

/** Every message the queue holds now (received, so invisible until its visibility timeout). */
async function receiveAll(stack: BufferedStack): Promise<Array<{ body: unknown; id: string }>> {
  const out: Array<{ body: unknown; id: string }> = [];
  for (;;) {
    const { Messages = [] } = await stack.sqs.receiveMessage({
      QueueUrl: stack.queueUrl,
      MaxNumberOfMessages: 10,
    });
    if (Messages.length === 0) return out;
    for (const m of Messages) out.push({ body: JSON.parse(m.Body ?? 'null'), id: m.MessageId ?? '' });
  }
}

function mappingOf(state: { details: Record<string, unknown> }) {
  return state.details['mapping'] as { state: string; batchSize: number; maximumConcurrency: number } | null;
}

describeWithMoto('createBufferedTriggerControl', () => {
  beforeAll(() => {
    s3 = createMotoS3Client();
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  describe('the notification entry', () => {
    it('is installed by disable(), keeps the foreign entries, and the bucket then sends each upload to the queue', async () => {
      // Prepare
      const { bucket, stack, control } = await setUp();
      const foreign: NotificationConfiguration = {
        TopicConfigurations: [
          {
            Id: 'audit',
            TopicArn: 'arn:aws:sns:us-east-1:123456789012:audit',
            Events: ['s3:ObjectRemoved:*'],
          },
        ],
      };
      await s3.send(
        new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: foreign }),
      );

      // Act
      const state = await control.disable();
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'incoming/ab/cd/54321-a b.zip',
          Body: 'not really a zip',
        }),
      );
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'elsewhere/1.zip', Body: 'x' }));

      // Assess
      const configuration = await readConfiguration(bucket);
      expect(configuration.TopicConfigurations).toEqual(foreign.TopicConfigurations);
      expect(configuration.QueueConfigurations).toHaveLength(1);
      expect(configuration.QueueConfigurations?.[0]).toMatchObject({
        Id: TRIGGER_ID,
        QueueArn: stack.queueArn,
      });
      expect(state.drift).toEqual([]);
      expect(mappingOf(state)?.state).toBe('Disabled');
      const messages = await receiveAll(stack);
      // What the bucket itself sent: a test event when the entry was saved, then the upload's record.
      const records = messages.flatMap((m) => (m.body as { Records?: unknown[] }).Records ?? []);
      expect(messages.some((m) => (m.body as { Event?: string }).Event === 's3:TestEvent')).toBe(true);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: bucket } },
      });
    });

    it('replaces a direct-mode entry of the function in the same write (the migration from direct)', async () => {
      // Prepare
      const { bucket, stack, control } = await setUp();
      await s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: bucket,
          NotificationConfiguration: {
            LambdaFunctionConfigurations: [
              { Id: TRIGGER_ID, LambdaFunctionArn: stack.functionArn, Events: ['s3:ObjectCreated:*'] },
            ],
          },
        }),
      );
      const before = await control.read();

      // Act
      const after = await control.enable();

      // Assess
      expect(before.drift?.join('\n')).toMatch(/direct-mode entry/);
      expect(before.drift?.join('\n')).toMatch(/no notification entry sending/);
      const configuration = await readConfiguration(bucket);
      expect(configuration.LambdaFunctionConfigurations ?? []).toEqual([]);
      expect(configuration.QueueConfigurations?.map((e) => e.QueueArn)).toEqual([stack.queueArn]);
      expect(after.drift).toEqual([]);
    });

    it('is never removed by a route switch', async () => {
      // Prepare
      const { bucket, control } = await setUp();

      // Act
      await control.enable();
      await control.disable();
      await control.enable();
      await control.disable();

      // Assess
      expect((await readConfiguration(bucket)).QueueConfigurations).toHaveLength(1);
    });
  });

  describe('the event source mapping', () => {
    it('is enabled and disabled through the Lambda API, and read back as AWS reports it', async () => {
      // Prepare
      const { stack, control } = await setUp();

      // Act
      const enabled = await control.enable();
      const afterEnable = await stack.lambda.send(
        new GetEventSourceMappingCommand({ UUID: stack.mappingUuid }),
      );
      const disabled = await control.disable();
      const afterDisable = await stack.lambda.send(
        new GetEventSourceMappingCommand({ UUID: stack.mappingUuid }),
      );

      // Assess
      expect(afterEnable.State).toBe('Enabled');
      expect(enabled.enabled).toBe(true);
      expect(mappingOf(enabled)).toMatchObject({ state: 'Enabled', batchSize: 10, maximumConcurrency: 5 });
      expect(afterDisable.State).toBe('Disabled');
      expect(disabled.enabled).toBe(false);
    });

    it('reports the queue depth and the dead-letter queue depth', async () => {
      // Prepare
      const { stack, control } = await setUp();
      await stack.sqs.sendMessage({ QueueUrl: stack.queueUrl, MessageBody: '{}' });
      await stack.sqs.sendMessage({ QueueUrl: stack.queueUrl, MessageBody: '{}' });
      await stack.sqs.sendMessage({ QueueUrl: stack.deadLetterQueueUrl, MessageBody: '{}' });

      // Act
      const state = await control.read();

      // Assess
      expect(state.details['queue']).toMatchObject({ visible: 2, inFlight: 0, oldestAgeSeconds: null });
      expect(state.details['deadLetterQueue']).toMatchObject({ visible: 1, maxReceiveCount: 3 });
      expect(state.problems.join('\n')).toMatch(/1 message\(s\) in the dead-letter queue/);
    });

    it('refuses to switch when no mapping connects the queue to the function, and says so as drift', async () => {
      // Prepare
      const { control } = await setUp({ mapping: false });

      // Act
      const read = await control.read();
      const switching = control.enable();

      // Assess
      expect(read.drift?.join('\n')).toMatch(/no event source mapping/);
      await expect(switching).rejects.toBeInstanceOf(TriggerControlError);
      await expect(switching).rejects.toMatchObject({ failure: 'mapping_not_found' });
    });
  });

  it('reports a queue policy that does not let the bucket send as drift', async () => {
    // Prepare
    const { control } = await setUp({ policy: false });

    // Act
    const state = await control.disable();

    // Assess
    expect(state.details['queuePolicyAllowsBucket']).toBe(false);
    expect(state.drift?.join('\n')).toMatch(/queue policy .* does not let/);
  });
});
