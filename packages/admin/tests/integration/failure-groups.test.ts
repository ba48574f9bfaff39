/**
 * `logzip failures --groups` and /api/failures/groups over a private redis-server and folder
 * storage: records written through the admin context's state store land in their groups.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FailureRecord, LogzipError, silentLogger } from '@logzip/core';
import { recordAttempt } from '@logzip/core/state';
import { findExecutable, isCI } from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { readAdminConfig } from '../../src/config.js';
import { type AdminContext, createAdminContext } from '../../src/context.js';
import type { GroupList, GroupLogIds } from '../../src/operations/groups.js';
import { runCli, startPrivateRedis } from '../helpers/cli.js';
import { TOKEN } from '../helpers/harness.js';

const hasRedisServer = isCI() || (await findExecutable('redis-server')) !== undefined;

function failure(logId: string, entry: string, where: string, at: Date): FailureRecord {
  const error = new LogzipError('crc_mismatch', `entry "${entry}" failed its CRC check`, { entry });
  error.stack = `LogzipError: x\n    at ${where} (/srv/app/zip.js:${logId.length}:3)\n    at extract (/srv/app/engine.js:9:1)`;
  return recordAttempt(undefined, {
    logId,
    source: { bucket: 'logs', key: `incoming/${logId}.zip` },
    route: 'queue',
    error,
    attempt: 3,
    maxAttempts: 3,
    at,
  });
}

describe.runIf(hasRedisServer)('failure groups through the CLI and the API', () => {
  let redis: { url: string; stop(): Promise<void> } | undefined;
  let dir: string;
  let ctx: AdminContext;
  let app: FastifyInstance;
  let env: Record<string, string | undefined>;
  let apiEnv: Record<string, string | undefined>;

  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'logzip-groups-'));
    env = {
      LOGZIP_STORAGE_DIR: dir,
      LOGZIP_INCOMING_BUCKET: 'logs',
      REDIS_URL: redis!.url,
      LOGZIP_OPERATOR: 'dana',
    };
    const config = readAdminConfig({ ...env, LOGZIP_ADMIN_TOKEN: TOKEN });
    if (config.config === undefined) throw new Error(config.errors.join('\n'));
    ctx = await createAdminContext(config.config, { logger: silentLogger });
    await ctx.redis.flushall();
    app = await buildApp({ ctx, adminToken: TOKEN, redis: ctx.redis, logger: false });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    apiEnv = { LOGZIP_ADMIN_URL: address, LOGZIP_ADMIN_TOKEN: TOKEN, LOGZIP_OPERATOR: 'erin' };
  });
  afterEach(async () => {
    await app?.close();
    await ctx?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("prints the groups (directly and through the API), pages one group's log IDs, and a purge leaves its group", async () => {
    // Prepare
    const t0 = Date.UTC(2026, 10, 28, 3, 0);
    for (let i = 0; i < 5; i++)
      await ctx.state.putFailure(failure(`10${i}`, `e${i}.log`, 'verifyEntry', new Date(t0 + i * 1000)));
    for (let i = 0; i < 2; i++)
      await ctx.state.putFailure(failure(`20${i}`, 'a.log', 'readHeader', new Date(t0 + 10_000 + i)));

    // Act
    const direct = await runCli(['failures', '--groups', '--json'], { env });
    const viaApi = await runCli(['failures', '--groups', '--json'], { env: apiEnv });
    const text = await runCli(['failures', '--groups'], { env });
    const big = direct.json<GroupList>().groups.find((g) => g.count === 5);
    const page = await app.inject({
      method: 'GET',
      url: `/api/failures/groups/${big?.fingerprint}/log-ids?limit=3`,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const purged = await runCli(['purge', '104', '--json'], { env });
    const after = await runCli(['failures', '--groups', '--json'], { env });
    const badFingerprint = await app.inject({
      method: 'GET',
      url: '/api/failures/groups/nothex/log-ids',
      headers: { authorization: `Bearer ${TOKEN}` },
    });

    // Assess
    expect(direct.code).toBe(0);
    expect(direct.json<GroupList>()).toEqual({
      groups: [
        expect.objectContaining({
          code: 'crc_mismatch',
          count: 2,
          routes: ['queue'],
          sample: ['201', '200'],
        }),
        expect.objectContaining({
          code: 'crc_mismatch',
          count: 5,
          firstSeen: new Date(t0).toISOString(),
          lastSeen: new Date(t0 + 4000).toISOString(),
          sample: ['104', '103', '102', '101', '100'],
        }),
      ],
      total: 2,
    });
    expect(viaApi.code).toBe(0);
    expect(viaApi.json()).toEqual(direct.json());
    expect(text.stdout).toMatch(/^GROUP\s+CODE\s+COUNT/m);
    expect(text.stdout).toContain('2 group(s)');
    expect(page.statusCode).toBe(200);
    expect(page.json<GroupLogIds>()).toMatchObject({
      logIds: ['104', '103', '102'],
      total: 5,
      nextCursor: expect.any(String),
    });
    expect(purged.code).toBe(0);
    expect(after.json<GroupList>().groups.find((g) => g.fingerprint === big?.fingerprint)?.count).toBe(4);
    expect(badFingerprint.statusCode).toBe(400);
  });
});
