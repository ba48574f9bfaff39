import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQS } from '@aws-sdk/client-sqs';
import { type Logger, systemClock, type TriggerControl } from '@logzip/core';
import {
  createAwsTriggerControl,
  createBufferedTriggerControl,
  createLocalTriggerControl,
  migrateTrigger,
  type TriggerMigrationRequest,
  type TriggerMigrationResult,
} from '@logzip/core/aws-trigger';
import {
  type BullmqProducer,
  createBullmqProducer,
  createRedis,
  createRedisRouteStore,
  enqueueOperationRun,
  OPERATIONS_QUEUE_NAME,
  readHeartbeats,
  readSweepSnapshot,
  redisKeys,
  waitForRedis,
} from '@logzip/core/bullmq';
import {
  createFailureIndexFromConfig,
  createRedisFailureGroups,
  createRedisOperationStore,
} from '@logzip/core/redis-index';
import { createStorage } from '@logzip/core/runtime';
import { createS3Client } from '@logzip/core/s3';
import { createGroupedStateStore, type FailureIndex } from '@logzip/core/state';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createAuditLog } from './adapters/audit-log.js';
import { createLambdaInvoker } from './adapters/lambda-invoker.js';
import { createQueueView } from './adapters/queue-view.js';
import { createRedisLock } from './adapters/switch-lock.js';
import { createUnconfiguredTriggerControl } from './adapters/unconfigured-trigger.js';
import type { AdminConfig } from './config.js';
import type { BacklogView, OperationsContext } from './operations/context.js';

/** The operations' context with the clients behind it, built once per process from the configuration. */
export interface AdminContext extends OperationsContext {
  redis: Redis;
  index: FailureIndex;
  producer: BullmqProducer;
  close(): Promise<void>;
}

export interface CreateAdminContextOptions {
  logger: Logger;
  /** How long to wait for Redis at start (default 10 s). */
  redisTimeoutMs?: number;
}

function awsClientConfig(config: AdminConfig, endpoint: string | undefined) {
  return {
    ...(config.env.AWS_REGION === undefined ? {} : { region: config.env.AWS_REGION }),
    ...(endpoint === undefined ? {} : { endpoint }),
  };
}

/**
 * What `logzip route migrate` runs: core's migrateTrigger on this configuration's bucket, function
 * and trigger queue, whatever LOGZIP_TRIGGER_MODE says (the move is between the modes). Undefined
 * when LOGZIP_LAMBDA_FUNCTION or LOGZIP_TRIGGER_QUEUE_URL is missing.
 */
export function createTriggerMigration(
  config: AdminConfig,
): ((request: TriggerMigrationRequest) => Promise<TriggerMigrationResult>) | undefined {
  const functionName = config.admin.functionName;
  const queueUrl = config.env.LOGZIP_TRIGGER_QUEUE_URL;
  if (functionName === undefined || queueUrl === undefined) return undefined;
  return async (request) => {
    const s3 = createS3Client(config.env);
    const lambda = new LambdaClient(awsClientConfig(config, config.env.AWS_ENDPOINT_URL_LAMBDA));
    const sqs = new SQS(awsClientConfig(config, config.env.AWS_ENDPOINT_URL_SQS));
    try {
      return await migrateTrigger(
        {
          s3,
          lambda,
          sqs,
          bucket: config.incoming.bucket,
          prefix: config.incoming.prefix,
          functionName,
          queueUrl,
        },
        request,
      );
    } finally {
      s3.destroy();
      lambda.destroy();
      sqs.destroy();
    }
  };
}

/**
 * Builds every client the admin needs from a validated configuration: storage (folders with
 * LOGZIP_STORAGE_DIR, else S3), Redis (route flag, audit, queue, locks), the trigger control (the
 * local one for folders, the AWS one when LOGZIP_LAMBDA_FUNCTION is set) and the Lambda invoker.
 * Throws `storage_unavailable` when Redis cannot be reached.
 */
export async function createAdminContext(
  config: AdminConfig,
  options: CreateAdminContextOptions,
): Promise<AdminContext> {
  const { logger } = options;
  const redis = createRedis(config.redisUrl, { logger });
  try {
    await waitForRedis(redis, options.redisTimeoutMs ?? 10_000);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  const index = createFailureIndexFromConfig(config, redis);
  const storage = createStorage(config, { logger, index });
  const keys = redisKeys(config.keyNamespace);
  const routes = createRedisRouteStore(redis, keys.route);
  const producer = createBullmqProducer({ connection: redis, prefix: config.admin.queuePrefix, keys });
  const { functionName, failureQueueUrl, queuePrefix } = config.admin;

  let trigger: TriggerControl;
  let lambda: LambdaClient | undefined;
  const queueUrl = config.env.LOGZIP_TRIGGER_QUEUE_URL;
  if (config.env.LOGZIP_TRIGGER_MODE === 'buffered' && functionName !== undefined && queueUrl !== undefined) {
    // Buffered mode needs S3's notifications even locally (the emulator plays the mapping over moto).
    lambda = new LambdaClient(awsClientConfig(config, config.env.AWS_ENDPOINT_URL_LAMBDA));
    trigger = createBufferedTriggerControl({
      s3: createS3Client(config.env),
      lambda,
      sqs: new SQS(awsClientConfig(config, config.env.AWS_ENDPOINT_URL_SQS)),
      bucket: config.incoming.bucket,
      prefix: config.incoming.prefix,
      functionName,
      queueUrl,
    });
  } else if (config.env.LOGZIP_STORAGE_DIR !== undefined) {
    trigger = createLocalTriggerControl({ routeStore: routes });
  } else if (functionName !== undefined) {
    lambda = new LambdaClient(awsClientConfig(config, config.env.AWS_ENDPOINT_URL_LAMBDA));
    const sqs =
      failureQueueUrl === undefined
        ? undefined
        : new SQS(awsClientConfig(config, config.env.AWS_ENDPOINT_URL_SQS));
    trigger = createAwsTriggerControl({
      s3: createS3Client(config.env),
      lambda,
      bucket: config.incoming.bucket,
      prefix: config.incoming.prefix,
      functionName,
      ...(sqs === undefined || failureQueueUrl === undefined ? {} : { sqs, failureQueueUrl }),
    });
  } else {
    trigger = createUnconfiguredTriggerControl(config.incoming.bucket);
  }
  if (lambda === undefined && functionName !== undefined) {
    lambda = new LambdaClient(awsClientConfig(config, config.env.AWS_ENDPOINT_URL_LAMBDA));
  }

  const backlog = async (): Promise<BacklogView | undefined> => {
    const snapshot = await readSweepSnapshot(redis, queuePrefix, keys);
    if (snapshot === undefined) return undefined;
    return {
      at: snapshot.at,
      count: snapshot.backlog.count,
      oldestLastModified: snapshot.backlog.oldestLastModified ?? null,
    };
  };

  const namespace = config.indexNamespace;
  const groups = createRedisFailureGroups({ redis, namespace });
  // Runs of stored operations go to the workers' queue; built on first use (most commands never do).
  let operationsQueue: Queue | undefined;
  const enqueueRun = async (operationId: string) => {
    operationsQueue ??= new Queue(OPERATIONS_QUEUE_NAME, { connection: redis, prefix: queuePrefix });
    await enqueueOperationRun(operationsQueue, operationId);
  };
  // Purges and resolves made here leave their groups as they happen.
  const state = createGroupedStateStore(storage.state, groups, { logger });

  return {
    settings: {
      incoming: config.incoming,
      output: config.output,
      logIdPattern: config.logIdPattern,
      triggerMode: config.env.LOGZIP_TRIGGER_MODE,
      health: config.admin.health,
    },
    store: storage.store,
    state,
    index,
    groups,
    operations: { store: createRedisOperationStore({ redis, namespace }), enqueueRun },
    routes,
    trigger,
    producer,
    queue: createQueueView(producer.queue),
    audit: createAuditLog({ redis, key: keys.audit, state, clock: systemClock, logger, index }),
    ...(lambda === undefined || functionName === undefined
      ? {}
      : { lambda: createLambdaInvoker(lambda, functionName) }),
    lock: createRedisLock(redis, keys.lockPrefix),
    backlog,
    heartbeats: () => readHeartbeats(redis, queuePrefix, keys),
    logger,
    clock: systemClock,
    redis,
    async close() {
      await operationsQueue?.close().catch(() => {});
      await producer.close().catch(() => {});
      await redis.quit().catch(() => redis.disconnect());
      lambda?.destroy();
    },
  };
}
