import type { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createBufferedTriggerControl } from '@logzip/core/aws-trigger';
import {
  buildZip,
  createBufferedStack,
  createMotoS3Client,
  createTestBucket,
  deleteTestBucket,
  describeWithMoto,
  MOTO_CREDENTIALS,
  MOTO_REGION,
  requireMoto,
  type S3FaultProxy,
  startS3FaultProxy,
  waitUntil,
} from '@logzip/test-utils';
import { afterEach, expect, it } from 'vitest';
import type { EmulatedHandler } from '../../src/emulator/emulator.js';
import { type RunningMappingEmulator, startMappingEmulator } from '../../src/emulator/mapping.js';
import { createHarness, newLogId, upload } from '../helpers/harness.js';

// moto keeps the event source mapping (its Enabled flag, batch size, concurrency) and delivers the
// bucket's notifications to SQS, but never polls the queue for the mapping: the emulator does,
// which is what these tests exercise, with the queue's redrive policy applied by moto.
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describeWithMoto('the local event source mapping (the emulator plays what moto does not)', () => {
  it('takes nothing while the mapping is disabled; once enabled it extracts, retries a returned message, and the redrive moves it to the dead-letter queue', async () => {
    // Prepare
    const s3: S3Client = createMotoS3Client();
    const sqs = new SQSClient({
      endpoint: requireMoto(),
      region: MOTO_REGION,
      credentials: MOTO_CREDENTIALS,
    });
    const bucket = await createTestBucket(s3, 'mapping');
    const stack = await createBufferedStack({
      bucket,
      maxReceiveCount: 2,
      batchSize: 5,
      maximumConcurrency: 2,
    });
    const proxy: S3FaultProxy = await startS3FaultProxy({ target: requireMoto() });
    let emulator: RunningMappingEmulator | undefined;
    cleanups.push(
      () => deleteTestBucket(s3, bucket),
      () => stack.remove(),
      () => proxy.close(),
      async () => sqs.destroy(),
      async () => emulator?.stop(),
    );
    const control = createBufferedTriggerControl({
      s3: s3,
      bucket: bucket,
      prefix: 'incoming/',
      ...stack.triggerOptions,
    });
    await control.disable();
    const good = [newLogId(), newLogId(), newLogId()];
    const bad = newLogId();
    const zip = await buildZip([{ name: 'a.log', data: 'a\n' }]);
    for (const logId of [...good, bad]) await upload(s3, bucket, `incoming/${logId}.zip`, zip);
    proxy.setRules([{ path: `/${bucket}/incoming/${bad}.zip`, fault: { kind: 'internal-error' } }]);
    const { handler, state } = createHarness({ bucket, endpoint: proxy.url });

    // Act
    emulator = startMappingEmulator({
      sqs,
      lambda: stack.lambda,
      functionName: stack.functionName,
      queueUrl: stack.queueUrl,
      handler: handler as EmulatedHandler,
      intervalMs: 50,
      retryDelaySeconds: 1,
      waitSeconds: 1,
    });
    const running = emulator;
    await waitUntil(async () => running.stats().mappingReads >= 10, {
      timeoutMs: 30_000,
      what: 'ten reads of the disabled mapping',
    });
    const whileDisabled = { stats: running.stats(), depth: await stack.depth(stack.queueUrl) };
    await control.enable();
    await waitUntil(
      async () =>
        (await Promise.all(good.map((logId) => state.getManifest(logId)))).every((m) => m !== undefined) &&
        (await stack.depth(stack.deadLetterQueueUrl)) === 1 &&
        (await stack.depth(stack.queueUrl)) === 0,
      {
        timeoutMs: 60_000,
        intervalMs: 100,
        what: 'good archives extracted, the bad one in the dead-letter queue',
      },
    );

    // Assess
    expect(whileDisabled.stats.batches).toBe(0);
    // The test event S3 sent when the entry was saved, and the four uploads.
    expect(whileDisabled.depth).toBe(5);
    expect(running.stats().returned).toBe(2);
    expect(await state.getFailure(bad)).toMatchObject({ code: 'storage_unavailable' });
  });
});
