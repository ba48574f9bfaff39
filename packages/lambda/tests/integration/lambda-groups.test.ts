import type { S3Client } from '@aws-sdk/client-s3';
import { createRedis } from '@logzip/core/bullmq';
import { buildS3Event } from '@logzip/core/events';
import { createRedisFailureGroups, createRedisFailureIndex } from '@logzip/core/redis-index';
import {
  createMotoS3Client,
  createTestBucket,
  deleteTestBucket,
  describeWithMoto,
  MOTO_REGION,
  requireMoto,
  requireRedis,
  uniquePrefix,
} from '@logzip/test-utils';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHandler } from '../../src/create-handler.js';
import { createLambdaRuntime } from '../../src/runtime.js';
import { lambdaContext, newLogId, upload } from '../helpers/harness.js';

// A permanent error on the Lambda route is not retried, so it never reaches the on-failure
// destination the worker drains (whose writes are grouped): the function's own state writes must
// put it in its failure group, or a Lambda-only incident shows no groups at all.

describeWithMoto('failure groups of the Lambda route (module-scope wiring, moto, real Redis)', () => {
  let s3: S3Client;
  let bucket: string;
  let redis: Redis;

  beforeAll(async () => {
    s3 = createMotoS3Client();
    bucket = await createTestBucket(s3, 'lambda-groups');
    redis = createRedis(requireRedis());
  });

  afterAll(async () => {
    await redis?.quit();
    if (bucket !== undefined) await deleteTestBucket(s3, bucket);
  });

  it('regression: a Lambda-only permanent failure was indexed but never grouped; it joins its group', async () => {
    // Prepare: createLambdaRuntime reads the environment as the deployed function does.
    const namespace = `${uniquePrefix('lambda-groups')}:`;
    const handler = createHandler(
      createLambdaRuntime({
        LOGZIP_INCOMING_BUCKET: bucket,
        AWS_REGION: MOTO_REGION,
        AWS_ENDPOINT_URL_S3: requireMoto(),
        REDIS_URL: requireRedis(),
        LOGZIP_INDEX_PREFIX: namespace,
        LOG_LEVEL: 'silent',
      }),
    );
    const ids = [newLogId(), newLogId()];
    const events = [];
    for (const logId of ids) {
      const object = await upload(s3, bucket, `incoming/${logId}.zip`, Buffer.from('not a zip at all'));
      events.push(buildS3Event(object));
    }
    const groups = createRedisFailureGroups({ redis, namespace });
    const index = createRedisFailureIndex({ redis, namespace });

    // Act
    const summaries = [];
    for (const event of events) summaries.push(await handler(event, lambdaContext()));
    const listed = await groups.list({ limit: 10 });

    // Assess
    expect(summaries.map((s) => s.results[0]?.outcome)).toEqual(['failed', 'failed']);
    expect(listed.items).toHaveLength(1);
    expect(listed.items[0]).toMatchObject({ code: 'not_zip', count: 2, routes: ['lambda'] });
    expect([...(listed.items[0]?.sample ?? [])].sort()).toEqual([...ids].sort());
    expect((await index.lookup(ids[0] as string))?.failure?.state).toBe('failed');
  });
});
