import type { S3Client } from '@aws-sdk/client-s3';
import { createRedis } from '@logzip/core/bullmq';
import {
  createMotoS3Client,
  createTestBucket,
  deleteTestBucket,
  requireMoto,
  type S3FaultProxy,
  startS3FaultProxy,
  type TempDir,
  tempDir,
} from '@logzip/test-utils';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { type PrivateRedis, startPrivateRedis } from './redis-server.js';

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
export function useFaultEnv(label: string): FaultEnv {
  const env = {} as FaultEnv;
  beforeAll(async () => {
    env.s3 = createMotoS3Client();
    env.bucket = await createTestBucket(env.s3, label);
    env.proxy = await startS3FaultProxy({ target: requireMoto() });
    env.dir = await tempDir(label);
    env.redisServer = await startPrivateRedis({ dir: env.dir.path });
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
