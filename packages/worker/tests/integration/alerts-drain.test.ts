import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { compileLogIdPattern, type StateStore } from '@logzip/core';
import { createAlerterFromConfig } from '@logzip/core/alerts';
import { createStorage } from '@logzip/core/runtime';
import {
  buildZip,
  createMotoS3Client,
  createTestBucket,
  deleteTestBucket,
  describeWithMoto,
  MOTO_CREDENTIALS,
  MOTO_REGION,
  requireMoto,
  type S3FaultProxy,
  startS3FaultProxy,
  startWebhookReceiver,
  uniquePrefix,
  type WebhookReceiver,
} from '@logzip/test-utils';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Drain, readWorkerConfig, startSqsDrain } from '../../src/index.js';
import { type CapturedLogger, captureLogger, waitFor, workerEnv } from '../helpers/harness.js';

const run = promisify(execFile);

/** The deployed Lambda bundle (`pnpm build`), run as Lambda runs it: a process importing dist/index.mjs. */
const LAMBDA_BUNDLE = fileURLToPath(new URL('../../../lambda/dist/index.mjs', import.meta.url));

/** One invocation in a fresh process (a cold start): module scope reads `env`, the handler gets `event`. */
async function invokeBundle(
  env: Record<string, string>,
  event: unknown,
  awsRequestId: string,
): Promise<{ ok: boolean; error?: { name: string; message: string; code?: string; stack: string } }> {
  const script = `
    const { handler } = await import(${JSON.stringify(pathToFileURL(LAMBDA_BUNDLE).href)});
    const deadline = Date.now() + 120000;
    const context = { awsRequestId: process.argv[2], getRemainingTimeInMillis: () => deadline - Date.now() };
    try {
      await handler(JSON.parse(process.argv[1]), context);
      process.stdout.write(JSON.stringify({ ok: true }));
    } catch (error) {
      process.stdout.write(JSON.stringify({ ok: false, error: { name: error.name, message: error.message, code: error.code, stack: String(error.stack) } }));
    }`;
  const inherited = Object.fromEntries(
    [
      'PATH',
      'HOME',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED',
    ]
      .filter((name) => process.env[name] !== undefined)
      .map((name) => [name, process.env[name] as string]),
  );
  const { stdout } = await run(
    process.execPath,
    ['--input-type=module', '-e', script, JSON.stringify(event), awsRequestId],
    { env: { ...inherited, ...env }, timeout: 120_000 },
  );
  // The function's EMF metric lines come first on stdout; the outcome is the last line.
  return JSON.parse(stdout.trimEnd().split('\n').at(-1) ?? '');
}

function s3Event(bucket: string, key: string) {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: MOTO_REGION,
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        responseElements: { 'x-amz-request-id': 'S3REQ', 'x-amz-id-2': 'ID2' },
        s3: { bucket: { name: bucket }, object: { key, size: 100, eTag: 'etag' } },
      },
    ],
  };
}

/** What Lambda sends its on-failure destination after the last attempt of an event. */
function destination(options: {
  requestId: string;
  requestPayload: unknown;
  errorType: string;
  errorMessage: string;
  trace: string[];
}) {
  return {
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: {
      requestId: options.requestId,
      functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:logzip:$LATEST',
      condition: 'RetriesExhausted',
      approximateInvokeCount: 3,
    },
    requestPayload: options.requestPayload,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: {
      errorType: options.errorType,
      errorMessage: options.errorMessage,
      trace: options.trace,
    },
  };
}

describeWithMoto("alerts for Lambda failures drained from the function's on-failure queue", () => {
  let s3: S3Client;
  let sqs: SQSClient;
  let bucket: string;
  let queueUrl: string;
  let proxy: S3FaultProxy;
  let receiver: WebhookReceiver;
  let state: StateStore;
  let captured: CapturedLogger;
  let drain: Drain | undefined;

  beforeEach(async () => {
    s3 = createMotoS3Client();
    bucket = await createTestBucket(s3, 'drain-alerts');
    proxy = await startS3FaultProxy({ target: requireMoto() });
    receiver = await startWebhookReceiver('DRAINSECRET');
    sqs = new SQSClient({ endpoint: requireMoto(), region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: uniquePrefix('lambda-failures') })))
      .QueueUrl as string;
    const result = readWorkerConfig(
      workerEnv({
        LOGZIP_INCOMING_BUCKET: bucket,
        AWS_ENDPOINT_URL_S3: requireMoto(),
        AWS_REGION: MOTO_REGION,
        LOGZIP_ALERT_WEBHOOK_URL: receiver.url,
        LOGZIP_PUBLIC_URL: 'https://logzip.example.com',
      }),
    );
    if (result.config === undefined) throw new Error(result.errors.join('\n'));
    const storage = createStorage(result.config);
    state = storage.state;
    captured = captureLogger();
    drain = startSqsDrain({
      sqs,
      queueUrl,
      state,
      logIdPattern: compileLogIdPattern(),
      logger: captured.logger,
      waitSeconds: 1,
      // The worker process's own alerter: a different process from the Lambda's, sharing only S3.
      alerter: createAlerterFromConfig(result.config, { store: storage.store, logger: captured.logger }),
    });
  });

  afterEach(async () => {
    await drain?.stop();
    drain = undefined;
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => {});
    sqs.destroy();
    await receiver.close();
    await proxy.close();
    await deleteTestBucket(s3, bucket);
    s3.destroy();
  });

  async function drained(): Promise<void> {
    await waitFor(async () => {
      const out = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return (
        Number(out.Attributes?.['ApproximateNumberOfMessages'] ?? 1) +
          Number(out.Attributes?.['ApproximateNumberOfMessagesNotVisible'] ?? 1) ===
        0
      );
    }, 'failure queue drained');
  }

  it('alerts once when the handler announced its last attempt and the drain then gets the same event', async () => {
    // Prepare: the deployed bundle, its S3 writes failing (503 SlowDown) on every attempt.
    expect(existsSync(LAMBDA_BUNDLE), `${LAMBDA_BUNDLE} missing: run pnpm build first`).toBe(true);
    const key = 'incoming/ab/cd/4711-2026-11-28.zip';
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: await buildZip([{ name: 'a.log', data: 'a' }]),
      }),
    );
    proxy.setRules([{ method: 'PUT', path: `/${bucket}/extracted/4711/`, fault: { kind: 'slow-down' } }]);
    const lambdaEnv = {
      LOGZIP_INCOMING_BUCKET: bucket,
      AWS_REGION: MOTO_REGION,
      AWS_ENDPOINT_URL_S3: proxy.url,
      LOGZIP_LAMBDA_SAFETY_MARGIN: '1s',
      LOGZIP_ALERT_WEBHOOK_URL: receiver.url,
      LOGZIP_PUBLIC_URL: 'https://logzip.example.com',
      LOG_LEVEL: 'silent',
    };
    const event = s3Event(bucket, key);
    const awsRequestId = randomUUID();
    const invocations: Array<Awaited<ReturnType<typeof invokeBundle>>> = [];
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      invocations.push(await invokeBundle(lambdaEnv, event, awsRequestId));
    }
    const fromHandler = receiver.posts.length;
    const last = invocations[2]?.error;

    // Act: Lambda gives up and sends the event to the on-failure queue the worker drains.
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify(
          destination({
            requestId: awsRequestId,
            requestPayload: event,
            errorType: last?.name ?? 'Error',
            errorMessage: last?.message ?? '',
            trace: (last?.stack ?? '').split('\n'),
          }),
        ),
      }),
    );
    await drained();
    await sleep(300);

    // Assess
    expect(invocations.map((i) => [i.ok, i.error?.code])).toEqual([
      [false, 'storage_unavailable'],
      [false, 'storage_unavailable'],
      [false, 'storage_unavailable'],
    ]);
    expect(fromHandler).toBe(1);
    expect(receiver.posts).toHaveLength(1);
    expect(JSON.stringify(receiver.posts[0])).toContain('Retries exhausted: attempt 3 on the lambda route');
    const record = await state.getFailure('4711');
    expect(record).toMatchObject({ state: 'failed', code: 'storage_unavailable' });
    expect(record?.attempts.map((a) => [a.attempt, a.requestId])).toEqual([
      [1, awsRequestId],
      [2, awsRequestId],
      [3, awsRequestId],
    ]);
    expect(captured.lines.map((l) => l['msg'])).toContain(
      'failure already announced (alert marker exists): not alerting again',
    );
  });

  it('alerts once for a run that never reached the handler code (a timeout), with the trace Lambda reported', async () => {
    // Prepare
    const requestId = randomUUID();
    const message = JSON.stringify(
      destination({
        requestId,
        requestPayload: s3Event(bucket, 'incoming/ab/cd/8080-big.zip'),
        errorType: 'Sandbox.Timedout',
        errorMessage: '2026-11-28T10:15:00.000Z abc Task timed out after 900.00 seconds',
        trace: ['Error: Task timed out after 900.00 seconds', '    at Runtime.handler (index.mjs:1:1)'],
      }),
    );

    // Act: delivered twice (SQS is at-least-once): still one alert.
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: message }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: message }));
    await drained();
    await sleep(300);

    // Assess
    expect(receiver.posts).toHaveLength(1);
    const text = JSON.stringify(receiver.posts[0]);
    expect(text).toContain('logzip: archive 8080 failed for good (timeout)');
    expect(text).toContain('Lambda gave up on the event (RetriesExhausted) after attempt 3');
    expect(text).toContain('Error: Task timed out after 900.00 seconds');
    expect(text).toContain(`request ${requestId}`);
    expect(text).toContain('https://logzip.example.com/archives/8080');
    expect(JSON.stringify(captured.lines)).not.toContain('DRAINSECRET');
  });
});
