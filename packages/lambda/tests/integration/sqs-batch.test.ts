import type { S3Client } from '@aws-sdk/client-s3';
import { createBufferedTriggerControl } from '@logzip/core/aws-trigger';
import {
  type BufferedStack,
  buildZip,
  createBufferedStack,
  createMotoS3Client,
  createTestBucket,
  deleteTestBucket,
  describeWithMoto,
  requireMoto,
  type S3FaultProxy,
  startS3FaultProxy,
} from '@logzip/test-utils';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { SqsBatchEvent } from '../../src/sqs-batch.js';
import { createHarness, lambdaContext, newLogId, upload } from '../helpers/harness.js';

// The messages are the ones moto's S3 sent to the queue for real uploads; moto does not invoke a
// function from an event source mapping, so the test hands the batch to the handler as the
// mapping would (the local emulator does the same in `pnpm start`).
let s3: S3Client;
let proxy: S3FaultProxy;
const cleanups: Array<() => Promise<void>> = [];

async function bucketSendingTo(): Promise<{ bucket: string; stack: BufferedStack }> {
  const bucket = await createTestBucket(s3, 'sqs-batch');
  const stack = await createBufferedStack({ bucket });
  cleanups.push(
    () => stack.remove(),
    () => deleteTestBucket(s3, bucket),
  );
  await createBufferedTriggerControl({
    s3: s3,
    bucket: bucket,
    prefix: 'incoming/',
    ...stack.triggerOptions,
  }).disable();
  return { bucket, stack };
}

/** Every message the bucket sent, shaped as the event source mapping hands them to the function. */
async function receiveBatch(stack: BufferedStack, expected: number): Promise<SqsBatchEvent> {
  const records: SqsBatchEvent['Records'] = [];
  while (records.length < expected) {
    const { Messages = [] } = await stack.sqs.receiveMessage({
      QueueUrl: stack.queueUrl,
      MaxNumberOfMessages: Math.min(10, expected - records.length),
      MessageSystemAttributeNames: ['All'],
    });
    if (Messages.length === 0) break;
    for (const m of Messages) {
      records.push({
        messageId: m.MessageId as string,
        receiptHandle: m.ReceiptHandle as string,
        body: m.Body as string,
        attributes: { ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1' },
        eventSource: 'aws:sqs',
        eventSourceARN: stack.queueArn,
      });
    }
  }
  return { Records: records };
}

function messageIdOf(batch: SqsBatchEvent, key: string): string {
  const found = batch.Records.find((r) =>
    r.body.includes(encodeURIComponent(key.split('/').at(-1) as string)),
  );
  if (found === undefined) throw new Error(`no message for ${key}`);
  return found.messageId;
}

describeWithMoto('the handler on SQS batches (buffered mode), with the messages moto’s S3 sent', () => {
  beforeAll(async () => {
    s3 = createMotoS3Client();
    proxy = await startS3FaultProxy({ target: requireMoto() });
  });

  afterEach(async () => {
    proxy.clearRules();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  afterAll(async () => {
    await proxy?.close();
  });

  it('a batch of 10 with 2 archives S3 cannot serve returns exactly those 2 message ids', async () => {
    // Prepare
    const { bucket, stack } = await bucketSendingTo();
    const keys = Array.from({ length: 10 }, () => `incoming/${newLogId()}.zip`);
    const zip = await buildZip([{ name: 'app.log', data: 'line\n' }]);
    for (const key of keys) await upload(s3, bucket, key, zip);
    // The test event S3 sent when the entry was saved comes first: the handler ignores it.
    const testEvent = await receiveBatch(stack, 1);
    const batch = await receiveBatch(stack, 10);
    const bad = [keys[2] as string, keys[7] as string];
    proxy.setRules(
      bad.map((key) => ({ path: `/${bucket}/${key}`, fault: { kind: 'internal-error' as const } })),
    );
    const { handler, state, logs } = createHarness({ bucket, endpoint: proxy.url });

    // Act
    const ignored = await handler(testEvent, lambdaContext());
    const result = await handler(batch, lambdaContext('invocation-1'));

    // Assess
    expect(testEvent.Records[0]?.body).toContain('s3:TestEvent');
    expect(ignored.batchItemFailures).toEqual([]);
    expect(batch.Records).toHaveLength(10);
    expect(result.batchItemFailures?.map((f) => f.itemIdentifier).sort()).toEqual(
      bad.map((key) => messageIdOf(batch, key)).sort(),
    );
    const good = keys.filter((key) => !bad.includes(key));
    for (const key of good) {
      const logId = (key.split('/').at(-1) as string).replace('.zip', '');
      expect((await state.getManifest(logId))?.source.key).toBe(key);
    }
    const badKey = bad[0] as string;
    const badRecord = await state.getFailure((badKey.split('/').at(-1) as string).replace('.zip', ''));
    expect(badRecord).toMatchObject({ state: 'retrying', code: 'storage_unavailable' });
    expect(badRecord?.attempts.at(-1)?.requestId).toBe(messageIdOf(batch, badKey));
    // Every line about an archive names the invocation, the message and the log ID.
    const archiveLines = logs.filter((line) => typeof line['key'] === 'string');
    expect(archiveLines.length).toBeGreaterThan(10);
    for (const line of archiveLines) {
      expect(line).toMatchObject({ awsRequestId: 'invocation-1' });
      expect(typeof line['sqsMessageId']).toBe('string');
      expect(typeof line['logId']).toBe('string');
    }
  });

  it('settles an archive that is rejected for good: recorded failed with its code, the message not returned', async () => {
    // Prepare
    const { bucket, stack } = await bucketSendingTo();
    const logId = newLogId();
    await upload(s3, bucket, `incoming/${logId}.zip`, Buffer.from('this is not a zip archive'));
    await receiveBatch(stack, 1);
    const batch = await receiveBatch(stack, 1);
    const { handler, state } = createHarness({ bucket, endpoint: proxy.url });

    // Act
    const result = await handler(batch, lambdaContext());

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(await state.getFailure(logId)).toMatchObject({ state: 'failed', code: 'not_zip' });
  });
});
