import { Writable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { createStateStore } from '@logzip/core';
import { alertMarkerKey, createAlerterFromConfig } from '@logzip/core/alerts';
import { buildS3Event } from '@logzip/core/events';
import { createS3Client, createS3ObjectStore } from '@logzip/core/s3';
import {
  buildZip,
  createMotoS3Client,
  createTestBucket,
  deleteTestBucket,
  describeWithMoto,
  MOTO_REGION,
  requireMoto,
  type S3FaultProxy,
  startS3FaultProxy,
  startWebhookReceiver,
  type WebhookReceiver,
} from '@logzip/test-utils';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { readLambdaConfig } from '../../src/config.js';
import { createHandler, type LogzipHandler } from '../../src/create-handler.js';
import { createLambdaLogger } from '../../src/logger.js';
import { createLambdaRuntime } from '../../src/runtime.js';
import { lambdaContext, newLogId, upload } from '../helpers/harness.js';

const blocksText = (post: Record<string, unknown> | undefined) => JSON.stringify(post?.['blocks'] ?? []);

describeWithMoto('failure alerts from the Lambda handler, against moto', () => {
  let s3: S3Client;
  let bucket: string;
  let proxy: S3FaultProxy;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    s3 = createMotoS3Client();
    bucket = await createTestBucket(s3, 'lambda-alerts');
    proxy = await startS3FaultProxy({ target: requireMoto() });
  });

  afterAll(async () => {
    await proxy?.close();
    if (bucket !== undefined) await deleteTestBucket(s3, bucket);
  });

  beforeEach(async () => {
    proxy.clearRules();
    receiver = await startWebhookReceiver('LAMBDASECRET');
  });

  afterEach(async () => {
    await receiver.close();
  });

  /** The handler as the module scope wires it, with a test logger and alert timeouts of our choice. */
  function buildHandler(alerts: { timeoutMs?: number; retryDelayMs?: number } = {}) {
    const { config, errors } = readLambdaConfig({
      LOGZIP_INCOMING_BUCKET: bucket,
      AWS_REGION: MOTO_REGION,
      AWS_ENDPOINT_URL_S3: proxy.url,
      LOGZIP_LAMBDA_SAFETY_MARGIN: '1s',
      LOGZIP_ALERT_WEBHOOK_URL: receiver.url,
      LOGZIP_PUBLIC_URL: 'https://logzip.example.com',
    });
    if (config === undefined) throw new Error(errors.join('\n'));
    const store = createS3ObjectStore({ client: createS3Client(config.env, { maxAttempts: 1 }) });
    const state = createStateStore({ store, bucket: config.output.bucket, prefix: config.statePrefix });
    const lines: string[] = [];
    const logger = createLambdaLogger({
      level: 'debug',
      destination: new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    });
    const alerter = createAlerterFromConfig(config, { store, logger, ...alerts });
    const handler: LogzipHandler = createHandler({ config, store, state, logger, alerter });
    return { handler, state, store, config, lines };
  }

  it('alerts once for a permanent error through the module-scope wiring, and never for a success', async () => {
    // Prepare: createLambdaRuntime reads the environment exactly as the deployed function does.
    const deps = createLambdaRuntime({
      LOGZIP_INCOMING_BUCKET: bucket,
      AWS_REGION: MOTO_REGION,
      AWS_ENDPOINT_URL_S3: requireMoto(),
      LOGZIP_ALERT_WEBHOOK_URL: receiver.url,
      LOGZIP_PUBLIC_URL: 'https://logzip.example.com',
      LOG_LEVEL: 'silent',
    });
    const handler = createHandler(deps);
    const bad = newLogId();
    const good = newLogId();
    const badObject = await upload(
      s3,
      bucket,
      `incoming/ab/cd/${bad}-2026.zip`,
      Buffer.from('PK\u0003\u0004 broken'),
    );
    const goodObject = await upload(
      s3,
      bucket,
      `incoming/ab/cd/${good}.zip`,
      await buildZip([{ name: 'a.log', data: 'fine' }]),
    );
    const context = lambdaContext();

    // Act
    const failed = await handler(buildS3Event(badObject), context);
    const extracted = await handler(buildS3Event(goodObject), lambdaContext());
    const duplicate = await handler(buildS3Event(goodObject), lambdaContext());

    // Assess
    expect(failed.results[0]).toMatchObject({ outcome: 'failed', logId: bad });
    expect(extracted.results[0]).toMatchObject({ outcome: 'extracted' });
    expect(duplicate.results[0]).toMatchObject({ outcome: 'already_extracted' });
    expect(receiver.posts).toHaveLength(1);
    const record = await deps.state.getFailure(bad);
    const post = receiver.posts[0];
    expect(post?.['text']).toContain(`logzip: archive ${bad} failed for good (${record?.code})`);
    expect(blocksText(post)).toContain(`s3://${bucket}/incoming/ab/cd/${bad}-2026.zip`);
    expect(blocksText(post)).toContain('A permanent error');
    expect(blocksText(post)).toContain('```LogzipError: ');
    expect(blocksText(post)).toContain(`request ${context.awsRequestId}`);
    expect(blocksText(post)).toContain(`https://logzip.example.com/archives/${bad}`);
    // The marker the worker's drain would find for the same event.
    const marker = alertMarkerKey('logzip-state/', bad, badObject.key, `lambda:${context.awsRequestId}`);
    expect(await deps.store.head(bucket, marker)).toBeDefined();
  });

  it('alerts once when retries are exhausted: not on the retrying attempts, once on the last', async () => {
    // Prepare
    const logId = newLogId();
    const object = await upload(
      s3,
      bucket,
      `incoming/${logId}.zip`,
      await buildZip([{ name: 'a.log', data: 'abc' }]),
    );
    const { handler, state } = buildHandler();
    proxy.setRules([{ method: 'PUT', path: `/${bucket}/extracted/${logId}/`, fault: { kind: 'slow-down' } }]);
    const context = lambdaContext();
    const seen: Array<[string | undefined, number]> = [];

    // Act: Lambda runs the event three times with one awsRequestId.
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      await expect(handler(buildS3Event(object), lambdaContext(context.awsRequestId))).rejects.toMatchObject({
        code: 'storage_unavailable',
      });
      seen.push([(await state.getFailure(logId))?.state, receiver.posts.length]);
    }

    // Assess
    expect(seen).toEqual([
      ['retrying', 0],
      ['retrying', 0],
      ['failed', 1],
    ]);
    const post = receiver.posts[0];
    expect(blocksText(post)).toContain('Retries exhausted: attempt 3 on the lambda route');
    expect(blocksText(post)).toContain('3 attempts');
    expect(blocksText(post)).toContain(
      `lambda attempt 3  storage_unavailable  request ${context.awsRequestId}`,
    );
  });

  it('returns as it would without alerts when the webhook answers 500 or hangs', async () => {
    // Prepare
    const { handler, lines } = buildHandler({ timeoutMs: 300, retryDelayMs: 20 });
    const bad1 = newLogId();
    const bad2 = newLogId();
    const flaky = newLogId();
    const o1 = await upload(s3, bucket, `incoming/${bad1}.zip`, Buffer.from('not a zip'));
    const o2 = await upload(s3, bucket, `incoming/${bad2}.zip`, Buffer.from('not a zip either'));
    const o3 = await upload(s3, bucket, `incoming/${flaky}.zip`, await buildZip([{ name: 'x', data: 'x' }]));
    proxy.setRules([
      { method: 'PUT', path: `/${bucket}/extracted/${flaky}/`, fault: { kind: 'internal-error' } },
    ]);

    // Act
    receiver.mode = 'error';
    const answered500 = await handler(buildS3Event(o1), lambdaContext());
    receiver.mode = 'hang';
    const started = Date.now();
    const hung = await handler(buildS3Event(o2), lambdaContext());
    const hungMs = Date.now() - started;
    const lastAttempt = lambdaContext();
    const outcomes: unknown[] = [];
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      outcomes.push(await handler(buildS3Event(o3), lambdaContext(lastAttempt.awsRequestId)).catch((e) => e));
    }

    // Assess
    expect(answered500.results[0]).toMatchObject({ outcome: 'failed', logId: bad1 });
    expect(hung.results[0]).toMatchObject({ outcome: 'failed', logId: bad2 });
    expect(hungMs).toBeLessThan(3_000);
    // The last attempt still throws its own error, so Lambda hands the event to the destination.
    expect(outcomes[2]).toMatchObject({ name: 'LogzipError', code: 'storage_unavailable' });
    expect(receiver.posts).toHaveLength(6);
    expect(lines.join('')).not.toContain('LAMBDASECRET');
    expect(lines.join('')).toContain('alert channel failed');
  });

  it('keeps the alert within the invocation: it never runs the function into its timeout', async () => {
    // Prepare: 2 s left, a 1 s safety margin, and a webhook that never answers (5 s per try otherwise).
    const { handler } = buildHandler({ timeoutMs: 5_000 });
    const logId = newLogId();
    const object = await upload(s3, bucket, `incoming/${logId}.zip`, Buffer.from('definitely not a zip'));
    receiver.mode = 'hang';
    const context = lambdaContext(undefined, 2_000);

    // Act
    const summary = await handler(buildS3Event(object), context);

    // Assess
    expect(summary.results[0]).toMatchObject({ outcome: 'failed', logId });
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });

  it('refuses alert settings it cannot use at cold start (exit 78 material)', () => {
    // Act
    const { config, errors } = readLambdaConfig({
      LOGZIP_INCOMING_BUCKET: 'logs',
      LOGZIP_ALERT_SNS_TOPIC_ARN: 'my-topic',
      LOGZIP_ALERT_WEBHOOK_URL: 'mailto:ops@example.com',
    });

    // Assess
    expect(config).toBeUndefined();
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^LOGZIP_ALERT_SNS_TOPIC_ARN: /),
        expect.stringMatching(/^LOGZIP_ALERT_WEBHOOK_URL: /),
      ]),
    );
  });
});
