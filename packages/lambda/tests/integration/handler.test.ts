import { randomUUID } from 'node:crypto';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { jobIdFor, noopTracer, type StartSpanOptions, type Tracer } from '@logzip/core';
import { type BullmqProducer, createBullmqProducer, createRedis } from '@logzip/core/bullmq';
import { buildS3Event, encodeS3Key } from '@logzip/core/events';
import { createRedisFailureIndex } from '@logzip/core/redis-index';
import {
  buildZip,
  createMotoS3Client,
  createTestBucket,
  deleteTestBucket,
  describeWithMoto,
  requireMoto,
  requireRedis,
  type S3FaultProxy,
  startS3FaultProxy,
  uniquePrefix,
} from '@logzip/test-utils';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, lambdaContext, listObjects, newLogId, upload } from '../helpers/harness.js';

async function body(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(
    await (response.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

describeWithMoto('Lambda handler, attempt by attempt, against moto over HTTP', () => {
  let s3: S3Client;
  let bucket: string;
  let proxy: S3FaultProxy;

  beforeAll(async () => {
    s3 = createMotoS3Client();
    bucket = await createTestBucket(s3, 'lambda-handler');
    proxy = await startS3FaultProxy({ target: requireMoto() });
  });

  afterAll(async () => {
    await proxy?.close();
    if (bucket !== undefined) await deleteTestBucket(s3, bucket);
  });

  beforeEach(() => {
    proxy.clearRules();
    proxy.resetStats();
  });

  it('extracts an upload whose key has spaces and Japanese characters, URL-encoded as S3 sends it', async () => {
    // Prepare
    const logId = newLogId();
    const key = `incoming/ab/cd/${logId}-ログ ファイル 2026+1.zip`;
    const files = [
      { name: 'app.log', data: 'line 1\nline 2\n' },
      { name: 'logs/ログ.txt', data: Buffer.from('日本語のログ\n') },
      { name: 'empty.txt', data: '' },
    ];
    const object = await upload(s3, bucket, key, await buildZip(files));
    const event = buildS3Event(object);
    const record = event.Records[0]!;
    const { handler, state, logs } = createHarness({ bucket, endpoint: proxy.url });
    const context = lambdaContext();
    // Act
    const summary = await handler(event, context);
    // Assess
    expect(record.s3.object.key).toBe(encodeS3Key(key));
    expect(record.s3.object.key).toContain('+');
    expect(summary.results).toEqual([
      expect.objectContaining({ outcome: 'extracted', logId, bucket, key, attempt: 1, entries: 3 }),
    ]);
    expect(await body(s3, bucket, `extracted/${logId}/app.log`)).toEqual(Buffer.from('line 1\nline 2\n'));
    expect(await body(s3, bucket, `extracted/${logId}/logs/ログ.txt`)).toEqual(Buffer.from('日本語のログ\n'));
    expect(await body(s3, bucket, `extracted/${logId}/empty.txt`)).toHaveLength(0);
    const manifest = await state.getManifest(logId);
    expect(manifest?.source).toEqual({ bucket, key, etag: object.etag, size: object.size });
    expect(manifest?.route).toBe('lambda');
    expect(manifest?.requestId).toBe(context.awsRequestId);
    // One record per event, as S3 sends it: every line can be found by any of the six ids.
    expect(logs.length).toBeGreaterThan(3);
    for (const line of logs) {
      expect(line).toMatchObject({
        awsRequestId: context.awsRequestId,
        logId,
        bucket,
        key,
        s3RequestId: record.responseElements['x-amz-request-id'],
        s3Id2: record.responseElements['x-amz-id-2'],
      });
      expect(Object.keys(line).filter((name) => name === 'logId')).toHaveLength(1);
    }
    expect(logs.map((line) => line['msg'])).toEqual(
      expect.arrayContaining([
        'invocation started',
        'extraction attempt started',
        'archive extracted',
        'invocation finished',
      ]),
    );
  });

  it('takes an eventVersion 2.0 record exactly as the production write-up shows it', async () => {
    // Prepare
    const logId = newLogId();
    const key = `incoming/xx/xx/${logId}-xxxx.zip`;
    const object = await upload(s3, bucket, key, await buildZip([{ name: 'a.log', data: 'a' }]));
    const event = {
      Records: [
        {
          eventVersion: '2.0',
          eventSource: 'aws:s3',
          awsRegion: 'us-east-1',
          eventTime: '2017-12-22',
          eventName: 'ObjectCreated:Put',
          userIdentity: { principalId: 'AWS:xxx' },
          requestParameters: { sourceIPAddress: 'xx.xx.xx.xx' },
          responseElements: { 'x-amz-request-id': '1234567', 'x-amz-id-2': 'xxxxx' },
          s3: {
            s3SchemaVersion: '1.0',
            configurationId: 'ZipUploadedEvent',
            bucket: { name: bucket, ownerIdentity: { principalId: 'xxxxx' }, arn: `arn:aws:s3:::${bucket}` },
            object: { key, size: object.size, eTag: object.etag, sequencer: '12345' },
          },
        },
      ],
    };
    const { handler, logs } = createHarness({ bucket, endpoint: proxy.url });
    // Act
    const summary = await handler(event, lambdaContext());
    // Assess
    expect(summary.results[0]).toMatchObject({ outcome: 'extracted', logId });
    expect(logs.some((l) => l['s3RequestId'] === '1234567' && l['logId'] === logId)).toBe(true);
  });

  it('handles many records in one event and skips test events, other prefixes and non-zip keys with a log line', async () => {
    // Prepare
    const [a, b] = [newLogId(), newLogId()];
    const objects = await Promise.all([
      upload(s3, bucket, `incoming/${a}.zip`, await buildZip([{ name: 'x', data: 'x' }])),
      upload(s3, bucket, `incoming/${b}.ZIP`, await buildZip([{ name: 'y', data: 'y' }])),
      upload(s3, bucket, `incoming/${newLogId()}.txt`, Buffer.from('not a zip')),
      upload(s3, bucket, `uploads/${newLogId()}.zip`, await buildZip([{ name: 'z', data: 'z' }])),
    ]);
    const event = { Records: objects.map((object) => buildS3Event(object).Records[0]) };
    const { handler, logs } = createHarness({ bucket, endpoint: proxy.url });
    // Act
    const summary = await handler(event, lambdaContext());
    const test = await handler(
      { Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: bucket },
      lambdaContext(),
    );
    // Assess
    expect(summary.results.map((r) => r.outcome)).toEqual(['extracted', 'extracted', 'skipped', 'skipped']);
    expect(summary.results[2]?.reason).toBe('not a .zip key');
    expect(summary.results[3]?.reason).toMatch(/outside the incoming prefix/);
    expect(test.results).toEqual([
      expect.objectContaining({ outcome: 'skipped', reason: expect.stringMatching(/TestEvent/) }),
    ]);
    expect(logs.filter((l) => l['msg'] === 'record skipped')).toHaveLength(3);
  });

  it('records a corrupt zip as failed with its stack after one attempt, and does not throw', async () => {
    // Prepare
    const logId = newLogId();
    const zip = await buildZip([{ name: 'a.log', data: 'a'.repeat(1000) }]);
    const corrupt = Buffer.concat([zip.subarray(0, 40), Buffer.alloc(20, 0xff), zip.subarray(60)]);
    const object = await upload(s3, bucket, `incoming/${logId}.zip`, corrupt);
    const { handler, state, metrics } = createHarness({ bucket, endpoint: proxy.url });
    const context = lambdaContext();
    // Act
    const summary = await handler(buildS3Event(object), context);
    // Assess
    expect(summary.results[0]).toMatchObject({ outcome: 'failed', logId, attempt: 1 });
    expect(metrics.map((m) => m._aws.CloudWatchMetrics[0]?.Metrics[0]?.Name)).toEqual([
      'jobs_failed',
      'job_duration_seconds',
    ]);
    expect(metrics[0]).toMatchObject({
      jobs_failed: 1,
      final: 'true',
      code: summary.results[0]?.code,
      logId,
    });
    expect(metrics[1]?.['job_duration_seconds']).toBeGreaterThan(0);
    const record = await state.getFailure(logId);
    expect(record).toMatchObject({ state: 'failed', route: 'lambda', source: { bucket, key: object.key } });
    expect(['corrupt', 'crc_mismatch', 'not_zip']).toContain(record?.code);
    expect(record?.stack).toMatch(/LogzipError/);
    expect(record?.attempts).toEqual([
      expect.objectContaining({ attempt: 1, requestId: context.awsRequestId, route: 'lambda' }),
    ]);
    expect(await listObjects(s3, bucket, `extracted/${logId}/`)).toEqual([]);
  });

  it('throws on a transient storage failure, records retrying, and the same awsRequestId retried succeeds and resolves', async () => {
    // Prepare
    const logId = newLogId();
    const object = await upload(
      s3,
      bucket,
      `incoming/${logId}-x.zip`,
      await buildZip([{ name: 'a.log', data: 'abc' }]),
    );
    const event = buildS3Event(object);
    const { handler, state } = createHarness({ bucket, endpoint: proxy.url });
    const awsRequestId = randomUUID();
    proxy.setRules([
      { method: 'PUT', path: `/${bucket}/extracted/${logId}/`, fault: { kind: 'internal-error' } },
    ]);
    // Act
    const first = handler(event, lambdaContext(awsRequestId));
    // Assess
    await expect(first).rejects.toMatchObject({ name: 'LogzipError', code: 'storage_unavailable' });
    expect(await state.getFailure(logId)).toMatchObject({
      state: 'retrying',
      code: 'storage_unavailable',
      attempts: [expect.objectContaining({ attempt: 1, requestId: awsRequestId })],
    });
    expect(await state.getManifest(logId)).toBeUndefined();

    // Act: Lambda retries the same event with the same awsRequestId once S3 is back.
    proxy.clearRules();
    const second = await handler(event, lambdaContext(awsRequestId));
    // Assess
    expect(second.results[0]).toMatchObject({ outcome: 'extracted', attempt: 2 });
    const record = await state.getFailure(logId);
    expect(record?.state).toBe('resolved');
    expect(record?.attempts).toHaveLength(1);
    expect(await body(s3, bucket, `extracted/${logId}/a.log`)).toEqual(Buffer.from('abc'));
  });

  it('marks the third failed attempt of one event failed, still throwing for the on-failure destination', async () => {
    // Prepare
    const logId = newLogId();
    const object = await upload(
      s3,
      bucket,
      `incoming/${logId}.zip`,
      await buildZip([{ name: 'a.log', data: 'abc' }]),
    );
    const event = buildS3Event(object);
    const { handler, state } = createHarness({ bucket, endpoint: proxy.url });
    const awsRequestId = randomUUID();
    proxy.setRules([{ method: 'PUT', path: `/${bucket}/extracted/${logId}/`, fault: { kind: 'slow-down' } }]);
    const states: Array<string | undefined> = [];
    // Act
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      await expect(handler(event, lambdaContext(awsRequestId))).rejects.toMatchObject({
        code: 'storage_unavailable',
      });
      states.push((await state.getFailure(logId))?.state);
    }
    // Assess
    expect(states).toEqual(['retrying', 'retrying', 'failed']);
    expect((await state.getFailure(logId))?.attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
  });

  it('answers a duplicate event with already_extracted and rewrites nothing', async () => {
    // Prepare
    const logId = newLogId();
    const object = await upload(
      s3,
      bucket,
      `incoming/${logId}.zip`,
      await buildZip([{ name: 'a.log', data: 'abc' }]),
    );
    const { handler, state } = createHarness({ bucket, endpoint: proxy.url });
    await handler(buildS3Event(object), lambdaContext());
    const before = await listObjects(s3, bucket, `extracted/${logId}/`);
    const manifest = await state.getManifest(logId);
    proxy.resetStats();
    // Act: S3 delivers at least once; the duplicate has its own awsRequestId.
    const summary = await handler(buildS3Event(object), lambdaContext());
    // Assess
    expect(summary.results[0]).toMatchObject({ outcome: 'already_extracted', logId });
    expect(proxy.requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD')).toEqual([]);
    expect(await listObjects(s3, bucket, `extracted/${logId}/`)).toEqual(before);
    expect(await state.getManifest(logId)).toEqual(manifest);
  });

  it('re-extracts on a re-run payload with force, and skips one outside the incoming prefix', async () => {
    // Prepare
    const logId = newLogId();
    const object = await upload(
      s3,
      bucket,
      `incoming/${logId}.zip`,
      await buildZip([{ name: 'a.log', data: 'abc' }]),
    );
    const { handler } = createHarness({ bucket, endpoint: proxy.url });
    await handler(buildS3Event(object), lambdaContext());
    // Act
    const rerun = await handler({ logId, bucket, key: object.key, force: true }, lambdaContext());
    const outside = await handler({ logId, bucket, key: `logzip-state/${logId}.zip` }, lambdaContext());
    // Assess
    expect(rerun.results[0]).toMatchObject({ outcome: 'extracted', logId });
    expect(outside.results[0]).toMatchObject({ outcome: 'skipped' });
  });

  it('rejects a key that yields no log ID without retrying', async () => {
    // Prepare
    const object = await upload(
      s3,
      bucket,
      'incoming/no log id here.zip',
      await buildZip([{ name: 'a', data: 'a' }]),
    );
    const { handler, logs } = createHarness({ bucket, endpoint: proxy.url });
    // Act
    const summary = await handler(buildS3Event(object), lambdaContext());
    // Assess
    expect(summary.results[0]).toMatchObject({ outcome: 'rejected', code: 'invalid_key', key: object.key });
    expect(logs.some((l) => l['level'] === 'error' && l['code'] === 'invalid_key')).toBe(true);
  });

  it('records too_large_for_lambda when an archive is over LOGZIP_LAMBDA_MAX_BYTES and no queue is configured', async () => {
    // Prepare
    const logId = newLogId();
    const object = await upload(
      s3,
      bucket,
      `incoming/${logId}.zip`,
      await buildZip([{ name: 'a', data: 'a'.repeat(500) }]),
    );
    const { handler, state } = createHarness({
      bucket,
      endpoint: proxy.url,
      env: { LOGZIP_LAMBDA_MAX_BYTES: '100' },
    });
    // Act
    const summary = await handler(buildS3Event(object), lambdaContext());
    // Assess
    expect(summary.results[0]).toMatchObject({
      outcome: 'failed',
      code: 'too_large_for_lambda',
      reason: 'over_max_bytes',
    });
    expect(await state.getFailure(logId)).toMatchObject({ state: 'failed', code: 'too_large_for_lambda' });
    expect(await listObjects(s3, bucket, `extracted/${logId}/`)).toEqual([]);
  });

  describe('hand-off to the queue (real Redis)', () => {
    let redis: Redis;
    let producer: BullmqProducer;

    beforeEach(() => {
      redis = createRedis(requireRedis());
      producer = createBullmqProducer({ connection: redis, queueName: uniquePrefix('handoff') });
    });

    afterEach(async () => {
      await producer.queue.obliterate({ force: true });
      await producer.close();
      await redis.quit();
    });

    it('hands an archive over LOGZIP_LAMBDA_MAX_BYTES to the queue with the request ids', async () => {
      // Prepare
      const logId = newLogId();
      const object = await upload(
        s3,
        bucket,
        `incoming/${logId}.zip`,
        await buildZip([{ name: 'a', data: 'a'.repeat(500) }]),
      );
      const event = buildS3Event(object);
      const { handler, state, metrics } = createHarness({
        bucket,
        endpoint: proxy.url,
        env: { LOGZIP_LAMBDA_MAX_BYTES: '100' },
        producer,
      });
      const context = lambdaContext();
      // Act
      const summary = await handler(event, context);
      // Assess
      expect(summary.results[0]).toMatchObject({
        outcome: 'handed_off',
        reason: 'over_max_bytes',
        jobId: jobIdFor(logId),
      });
      const job = await producer.queue.getJob(jobIdFor(logId));
      expect(job?.data).toEqual({
        logId,
        bucket,
        key: object.key,
        reason: 'handoff',
        requestIds: {
          awsRequestId: context.awsRequestId,
          s3RequestId: event.Records[0]!.responseElements['x-amz-request-id'],
          s3Id2: event.Records[0]!.responseElements['x-amz-id-2'],
        },
      });
      expect(metrics).toEqual([
        expect.objectContaining({ jobs_handed_off: 1, reason: 'over_max_bytes', logId }),
      ]);
      expect(await state.getFailure(logId)).toBeUndefined();
      expect(await listObjects(s3, bucket, `extracted/${logId}/`)).toEqual([]);
    });

    it('hands off an archive whose estimated run does not fit the remaining time', async () => {
      // Prepare
      const logId = newLogId();
      const object = await upload(
        s3,
        bucket,
        `incoming/${logId}.zip`,
        await buildZip([{ name: 'a', data: 'abc' }]),
      );
      const { handler } = createHarness({
        bucket,
        endpoint: proxy.url,
        env: { LOGZIP_LAMBDA_MIN_THROUGHPUT: '10B' },
        producer,
      });
      // Act: 1 s margin, 5 s left, ~10 s estimated.
      const summary = await handler(buildS3Event(object), lambdaContext(randomUUID(), 5_000));
      // Assess
      expect(summary.results[0]).toMatchObject({ outcome: 'handed_off', reason: 'estimate_exceeds_time' });
      expect(await producer.getJobState(logId)).toBe('waiting');
    });

    it('stops a run that nears the deadline (no manifest, folder cleared) and hands it off instead of timing out', async () => {
      // Prepare: 300 entries at 40 ms per write (8 at a time) do not finish in the 400 ms left before the margin.
      const logId = newLogId();
      const files = Array.from({ length: 300 }, (_, i) => ({ name: `f${i}.log`, data: `file ${i}\n` }));
      const object = await upload(s3, bucket, `incoming/${logId}.zip`, await buildZip(files));
      const event = buildS3Event(object);
      const { handler, state } = createHarness({ bucket, endpoint: proxy.url, producer });
      proxy.setRules([{ method: 'PUT', path: `/${bucket}/extracted/`, fault: { kind: 'latency', ms: 40 } }]);
      const awsRequestId = randomUUID();
      // Act
      const summary = await handler(event, lambdaContext(awsRequestId, 1_400));
      // Assess
      expect(summary.results[0]).toMatchObject({ outcome: 'handed_off', reason: 'deadline_reached' });
      expect(await state.getManifest(logId)).toBeUndefined();
      expect(await listObjects(s3, bucket, `extracted/${logId}/`)).toEqual([]);
      expect(await state.getFailure(logId)).toMatchObject({
        state: 'retrying',
        code: 'timeout',
        attempts: [expect.objectContaining({ requestId: awsRequestId })],
      });
      expect((await producer.queue.getJob(jobIdFor(logId)))?.data).toMatchObject({
        reason: 'handoff',
        logId,
      });

      // Act: were Lambda to deliver the event again, it goes to the queue without another run.
      proxy.resetStats();
      const again = await handler(event, lambdaContext(awsRequestId));
      // Assess
      expect(again.results[0]).toMatchObject({ outcome: 'handed_off', reason: 'timed_out_before' });
      expect(proxy.requests.filter((r) => r.method === 'PUT')).toEqual([]);
    });

    it('throws a timeout when a run out of time cannot be handed off, so the retry hands off without running again', async () => {
      // Prepare: a queue whose Redis refuses connections.
      const logId = newLogId();
      const files = Array.from({ length: 300 }, (_, i) => ({ name: `f${i}.log`, data: `file ${i}\n` }));
      const object = await upload(s3, bucket, `incoming/${logId}.zip`, await buildZip(files));
      const event = buildS3Event(object);
      const unreachable = createRedis('redis://127.0.0.1:1');
      const down = createBullmqProducer({ connection: unreachable, queueName: uniquePrefix('down') });
      const broken = createHarness({ bucket, endpoint: proxy.url, producer: down, handoffTimeoutMs: 2_000 });
      proxy.setRules([{ method: 'PUT', path: `/${bucket}/extracted/`, fault: { kind: 'latency', ms: 40 } }]);
      const awsRequestId = randomUUID();
      try {
        // Act
        const first = broken.handler(event, lambdaContext(awsRequestId, 1_400));
        // Assess
        await expect(first).rejects.toMatchObject({ code: 'timeout' });
        expect(await broken.state.getFailure(logId)).toMatchObject({
          state: 'retrying',
          code: 'timeout',
          attempts: [expect.objectContaining({ attempt: 1, requestId: awsRequestId, code: 'timeout' })],
        });
      } finally {
        await down.close().catch(() => {});
        unreachable.disconnect();
      }

      // Act: Lambda's retry, the queue reachable again.
      proxy.resetStats();
      const { handler } = createHarness({ bucket, endpoint: proxy.url, producer });
      const retry = await handler(event, lambdaContext(awsRequestId));
      // Assess
      expect(retry.results[0]).toMatchObject({
        outcome: 'handed_off',
        reason: 'timed_out_before',
        attempt: 2,
      });
      expect(proxy.requests.filter((r) => r.method === 'PUT')).toEqual([]);
      expect(await listObjects(s3, bucket, `extracted/${logId}/`)).toEqual([]);
    });
  });
});

describeWithMoto('Lambda handler traces without object metadata', () => {
  let s3: S3Client;
  let bucket: string;
  let redis: Redis | undefined;

  beforeAll(async () => {
    s3 = createMotoS3Client();
    bucket = await createTestBucket(s3, 'lambda-trace');
  });

  afterAll(async () => {
    if (bucket !== undefined) await deleteTestBucket(s3, bucket);
  });

  afterEach(async () => {
    redis?.disconnect();
    redis = undefined;
  });

  it('parents its span on the traceparent observed in the pending set when the object has none', async () => {
    // Prepare: ingest (or notify) observed the archive with its span; the object has no metadata,
    // as on folder storage or after a direct upload.
    redis = createRedis(requireRedis());
    const index = createRedisFailureIndex({ redis, namespace: `${uniquePrefix('trace')}:` });
    const logId = newLogId();
    const key = `incoming/ab/cd/${logId}.zip`;
    const object = await upload(s3, bucket, key, await buildZip([{ name: 'app.log', data: 'line\n' }]));
    const ingest = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await index.pending.observe({ logId, bucket, key, traceparent: ingest }, new Date());
    const started: Array<{ name: string; options: StartSpanOptions | undefined }> = [];
    const tracer: Tracer = {
      ...noopTracer,
      enabled: true,
      startSpan(name, options) {
        started.push({ name, options });
        return noopTracer.startSpan(name, options);
      },
    };
    const { handler } = createHarness({ bucket, endpoint: requireMoto(), tracer, index });

    // Act
    const summary = await handler(buildS3Event(object), lambdaContext());

    // Assess
    expect(summary.results).toEqual([expect.objectContaining({ outcome: 'extracted', logId })]);
    expect(started.find((s) => s.name === 'lambda extract')?.options?.parent).toBe(ingest);
  });
});
