#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { EXIT_CONFIG, formatConfigErrors, parseDuration } from '@logzip/core';
import { createRedis, createRedisRouteStore, redisKeys, waitForRedis } from '@logzip/core/bullmq';
import { createLogger } from '@logzip/core/logger';
import { createStorage } from '@logzip/core/runtime';
import { createS3Client } from '@logzip/core/s3';
import { readLambdaConfig } from '../config.js';
import { redisListDestination, sqsDestination } from './destination.js';
import { type EmulatedHandler, startTriggerEmulator } from './emulator.js';
import { notificationGate, routeFlagGate } from './gate.js';
import { startMappingEmulator } from './mapping.js';

const USAGE = `usage: node packages/lambda/dist/emulator/main.js [--interval 2s] [--retry-delays 2s,4s] [--timeout 15m] [--concurrency 4] [--bundle path/to/index.mjs] [--fire-existing]

Plays the S3 trigger for the Lambda bundle locally (configuration from the environment, as the
function reads it). With LOGZIP_STORAGE_DIR it fires while the Redis route flag says "lambda";
against an S3-compatible server (AWS_ENDPOINT_URL_S3) while the incoming bucket's notification
configuration holds the entry of LOGZIP_LAMBDA_FUNCTION. With LOGZIP_TRIGGER_MODE=buffered it plays
the function's SQS event source mapping instead (moto keeps the mapping but never polls): batches
from LOGZIP_TRIGGER_QUEUE_URL while the mapping is Enabled, returned messages visible again after
--retry-delays' first delay.`;

function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let args: ReturnType<typeof parseArgs>['values'];
  try {
    args = parseArgs({
      options: {
        interval: { type: 'string', default: '2s' },
        'retry-delays': { type: 'string', default: '2s,4s' },
        timeout: { type: 'string', default: '15m' },
        concurrency: { type: 'string', default: '4' },
        bundle: { type: 'string' },
        'fire-existing': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    fail(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`, 64);
  }
  if (args['help']) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const problems: string[] = [];
  const duration = (name: string): number => {
    const value = parseDuration(String(args[name]));
    if (value === undefined) problems.push(`--${name}: "${args[name]}" is not a duration like 2s or 15m`);
    return value ?? 0;
  };
  const intervalMs = duration('interval');
  const timeoutMs = duration('timeout');
  const retryDelaysMs = String(args['retry-delays'])
    .split(',')
    .map((part) => parseDuration(part));
  if (retryDelaysMs.some((d) => d === undefined) || retryDelaysMs.length > 2) {
    problems.push(`--retry-delays: "${args['retry-delays']}" is not up to two durations like 2s,4s`);
  }
  const concurrency = Number(args['concurrency']);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    problems.push('--concurrency: not a positive integer');
  if (problems.length > 0) fail(`${problems.join('\n')}\n${USAGE}`, 64);

  // The same environment the function reads, validated the same way.
  const { config, errors } = readLambdaConfig(process.env);
  const configErrors = [...errors];
  if (
    config !== undefined &&
    (config.env.LOGZIP_STORAGE_DIR === undefined || config.env.LOGZIP_TRIGGER_MODE === 'buffered') &&
    !config.env.LOGZIP_LAMBDA_FUNCTION
  ) {
    configErrors.push(
      'LOGZIP_LAMBDA_FUNCTION: required to read the bucket notification entry (or set LOGZIP_STORAGE_DIR)',
    );
  }
  if (config === undefined || configErrors.length > 0) fail(formatConfigErrors(configErrors), EXIT_CONFIG);

  const logger = createLogger({ name: 'logzip-trigger-emulator', level: config.env.LOG_LEVEL });
  const redis = createRedis(config.redisUrl, { logger });
  try {
    await waitForRedis(redis);
  } catch (error) {
    fail(`logzip trigger emulator: ${error instanceof Error ? error.message : String(error)}`, 1);
  }
  const bundle = new URL(
    args['bundle'] === undefined ? '../index.mjs' : String(args['bundle']),
    import.meta.url,
  );
  const loaded = (await import(bundle.href)) as { handler: EmulatedHandler };

  if (config.env.LOGZIP_TRIGGER_MODE === 'buffered') {
    const endpointOf = (endpoint: string | undefined) => ({
      ...(config.env.AWS_REGION === undefined ? {} : { region: config.env.AWS_REGION }),
      ...(endpoint === undefined ? {} : { endpoint }),
    });
    const mapping = startMappingEmulator({
      sqs: new SQSClient(endpointOf(config.env.AWS_ENDPOINT_URL_SQS)),
      lambda: new LambdaClient(endpointOf(config.env.AWS_ENDPOINT_URL_LAMBDA)),
      functionName: config.env.LOGZIP_LAMBDA_FUNCTION as string,
      queueUrl: config.env.LOGZIP_TRIGGER_QUEUE_URL as string,
      handler: loaded.handler,
      intervalMs,
      timeoutMs,
      retryDelaySeconds: Math.max(1, Math.round((retryDelaysMs[0] ?? 2_000) / 1000)),
      logger,
    });
    const stopMapping = () => {
      void mapping
        .stop()
        .catch(() => {})
        .finally(() => {
          redis.disconnect();
          process.exit(0);
        });
    };
    process.once('SIGINT', stopMapping);
    process.once('SIGTERM', stopMapping);
    return;
  }

  const storage = createStorage(config, { logger });
  const bucket = config.incoming.bucket;
  const keys = redisKeys(config.keyNamespace);
  const functionName = config.env.LOGZIP_LAMBDA_FUNCTION ?? 'logzip-extract';
  const gate =
    config.env.LOGZIP_STORAGE_DIR === undefined
      ? notificationGate(createS3Client(config.env), bucket, functionName)
      : routeFlagGate(createRedisRouteStore(redis, keys.route));
  const queueUrl = config.env.LOGZIP_LAMBDA_FAILURE_QUEUE_URL;
  const destination =
    queueUrl === undefined
      ? redisListDestination(redis, keys.lambdaDestination)
      : sqsDestination(
          new SQSClient({
            ...(config.env.AWS_REGION === undefined ? {} : { region: config.env.AWS_REGION }),
            ...(config.env.AWS_ENDPOINT_URL_SQS === undefined
              ? {}
              : { endpoint: config.env.AWS_ENDPOINT_URL_SQS }),
          }),
          queueUrl,
        );

  const emulator = await startTriggerEmulator({
    keyPrefix: config.keyNamespace,
    store: storage.store,
    bucket,
    prefix: config.incoming.prefix,
    gate,
    handler: loaded.handler,
    redis,
    destination,
    intervalMs,
    timeoutMs,
    retryDelaysMs: retryDelaysMs as number[],
    concurrency,
    functionName,
    ...(config.env.AWS_REGION === undefined ? {} : { region: config.env.AWS_REGION }),
    fireExisting: Boolean(args['fire-existing']),
    // A file copied into the folder is visible before it is complete; S3 objects are not.
    settle: config.env.LOGZIP_STORAGE_DIR !== undefined,
    logger,
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    // Retries may be waiting; do not hang forever on them.
    const force = setTimeout(() => process.exit(0), 10_000);
    force.unref();
    void emulator
      .stop()
      .catch(() => {})
      .finally(() => {
        redis.disconnect();
        process.exit(0);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error) => {
  process.stderr.write(
    `logzip trigger emulator: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
