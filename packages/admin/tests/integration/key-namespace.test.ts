/**
 * Regression (issue 17, item 12): two stacks on one Redis database saw each other's queue, route
 * flag and audit. With their own LOGZIP_KEY_NAMESPACE they share nothing, and the keys of one are
 * what `pnpm start` of the other recognises as another deployment's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@logzip/core';
import { otherDeployments, readHeartbeats, redisKeys, writeHeartbeat } from '@logzip/core/bullmq';
import { claimEmptyDatabase, describeWithRedis, requireRedis } from '@logzip/test-utils';
import { afterEach, expect, it } from 'vitest';
import { readAdminConfig } from '../../src/config.js';
import { type AdminContext, createAdminContext } from '../../src/context.js';
import { TOKEN } from '../helpers/harness.js';

async function contextFor(
  redisUrl: string,
  dir: string,
  namespace: string | undefined,
): Promise<AdminContext> {
  const result = readAdminConfig({
    LOGZIP_STORAGE_DIR: dir,
    LOGZIP_INCOMING_BUCKET: 'logs',
    REDIS_URL: redisUrl,
    LOGZIP_ADMIN_TOKEN: TOKEN,
    ...(namespace === undefined ? {} : { LOGZIP_KEY_NAMESPACE: namespace }),
  });
  if (result.config === undefined) throw new Error(result.errors.join('\n'));
  return createAdminContext(result.config, { logger: silentLogger });
}

describeWithRedis('two deployments on one Redis database (LOGZIP_KEY_NAMESPACE)', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("sees neither the other's route flag, audit nor queue", async () => {
    // Prepare: the default namespace and `staging:`, each with its own storage, on one database
    const db = await claimEmptyDatabase(requireRedis());
    cleanups.push(() => db.release());
    const dirs = await Promise.all([
      mkdtemp(join(tmpdir(), 'logzip-ns-a-')),
      mkdtemp(join(tmpdir(), 'logzip-ns-b-')),
    ]);
    cleanups.push(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
    const live = await contextFor(db.url, dirs[0] as string, undefined);
    cleanups.push(() => live.close());
    const staging = await contextFor(db.url, dirs[1] as string, 'staging:');
    cleanups.push(() => staging.close());

    // Act
    await live.routes.set('queue');
    await live.audit.record({ operator: 'dana', action: 'route', details: { to: 'queue' }, outcome: 'ok' });
    await live.producer.enqueue({
      logId: '54321',
      bucket: 'logs',
      key: 'incoming/54321.zip',
      reason: 'upload',
    });
    const names = await live.redis.keys('*');
    // A staging worker that shares the BullMQ prefix (LOGZIP_QUEUE_PREFIX=bull set on both)
    const beat = { name: 'h:1', host: 'h', pid: 1, startedAt: '', at: '', concurrency: 1, activeJobs: 0 };
    await writeHeartbeat(staging.redis, 'bull', beat, 60_000, redisKeys('staging:'));

    // Assess
    expect(await live.routes.get()).toBe('queue');
    expect(await staging.routes.get()).toBeUndefined();
    expect((await live.audit.list()).map((e) => e.action)).toEqual(['route']);
    expect(await staging.audit.list()).toEqual([]);
    expect(await live.producer.getJobState('54321')).toBeDefined();
    expect(await staging.producer.getJobState('54321')).toBeUndefined();
    expect(names).toContain('logzip:route');
    expect(names).not.toContain('staging:route');
    expect(names).not.toContain('staging:audit');
    expect(otherDeployments(names, 'staging:')).toEqual(['logzip:']);
    expect(otherDeployments(names, 'logzip:')).toEqual([]);
    expect(await live.heartbeats?.()).toEqual([]);
    expect((await readHeartbeats(staging.redis, 'bull', redisKeys('staging:'))).map((b) => b.name)).toEqual([
      'h:1',
    ]);
  });
});
