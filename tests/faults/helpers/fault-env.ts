import type { S3Client } from '@aws-sdk/client-s3';
import { createRedis } from '@logzip/core/bullmq';
import {
  createMotoS3Client,
  createTestBucket,
  deleteTestBucket,
  type FaultRule,
  type PrivateRedis,
  requireMoto,
  type S3FaultProxy,
  startPrivateRedis,
  startS3FaultProxy,
  type TempDir,
  tempDir,
  uniquePrefix,
} from '@logzip/test-utils';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { workerEnv } from '../../../packages/worker/tests/helpers/harness.js';

export interface FaultEnvOptions {
  /** The proxy's standing rules, given the bucket (latency that keeps runs in flight...). */
  rules?: (bucket: string) => FaultRule[];
  /** Random source of the proxy's probabilistic rules (a seeded one replays a run). */
  random?: () => number;
  /** Append-only Redis with `appendfsync always`, for the restart scenario. */
  durableRedis?: boolean;
}

/** What a fault scenario runs against; filled in by the suite's beforeAll. */
export interface FaultEnv {
  s3: S3Client;
  bucket: string;
  proxy: S3FaultProxy;
  dir: TempDir;
  redisServer: PrivateRedis;
  redis: Redis;
}

/**
 * Registers the suite's set-up and clean-up: a bucket in the run's moto, the S3 fault proxy in
 * front of moto (logzip's processes go through it, the test's own checks do not), and a private
 * redis-server with its data in a temp dir (never the shared Redis). Read the fields inside hooks
 * and tests, not at the top of the suite.
 */
export function useFaultEnv(label: string, options: FaultEnvOptions = {}): FaultEnv {
  const env = {} as FaultEnv;
  beforeAll(async () => {
    env.s3 = createMotoS3Client();
    env.bucket = await createTestBucket(env.s3, label);
    env.proxy = await startS3FaultProxy({
      target: requireMoto(),
      ...(options.rules === undefined ? {} : { rules: options.rules(env.bucket) }),
      ...(options.random === undefined ? {} : { random: options.random }),
    });
    env.dir = await tempDir(label);
    env.redisServer = await startPrivateRedis({
      dir: env.dir.path,
      ...(options.durableRedis ? { durable: true } : {}),
    });
    env.redis = createRedis(env.redisServer.url);
  });
  afterAll(async () => {
    env.redis?.disconnect();
    await env.redisServer?.stop();
    await env.proxy?.close();
    if (env.bucket !== undefined) await deleteTestBucket(env.s3, env.bucket);
    await env.dir?.cleanup();
  });
  return env;
}

/**
 * The environment of a scenario's worker processes: its private Redis with a fresh queue prefix,
 * its bucket, S3 through the fault proxy. `extra` adds or overrides variables.
 */
export function faultWorkerEnv(fx: FaultEnv, extra: Record<string, string> = {}): Record<string, string> {
  return workerEnv({
    REDIS_URL: fx.redisServer.url,
    LOGZIP_QUEUE_PREFIX: uniquePrefix('faults'),
    LOGZIP_INCOMING_BUCKET: fx.bucket,
    AWS_ENDPOINT_URL_S3: fx.proxy.url,
    AWS_REGION: 'us-east-1',
    ...extra,
  });
}
