/**
 * Operations through the CLI (direct and through the admin API): a group retry's dry run, its
 * creation, list/show/pause/resume/abort with their contract shapes and audit, and --follow's JSON
 * lines with the workers' operation runner in this process. A private redis-server, folder storage.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FailureRecord, LogzipError, silentLogger } from '@logzip/core';
import { startOperationsWorker } from '@logzip/core/bullmq';
import type { Operation } from '@logzip/core/operations';
import { fingerprintFailure, recordAttempt } from '@logzip/core/state';
import { findExecutable, isCI } from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { readAdminConfig } from '../../src/config.js';
import { type AdminContext, createAdminContext } from '../../src/context.js';
import { createOperation } from '../../src/operations/bulk-operations.js';
import { runCli, startPrivateRedis } from '../helpers/cli.js';
import { TOKEN } from '../helpers/harness.js';

const hasRedisServer = isCI() || (await findExecutable('redis-server')) !== undefined;

function failure(logId: string): FailureRecord {
  const error = new LogzipError('storage_unavailable', `S3 GetObject failed for ${logId}`);
  error.stack = `LogzipError: x\n    at getObject (/srv/app/s3.js:${logId.length}:3)`;
  return recordAttempt(undefined, {
    logId,
    source: { bucket: 'logs', key: `incoming/${logId}.zip` },
    route: 'queue',
    error,
    attempt: 3,
    maxAttempts: 3,
    at: new Date(),
  });
}

describe.runIf(hasRedisServer)('operations through the CLI and the API', () => {
  let redis: { url: string; stop(): Promise<void> } | undefined;
  let dir: string;
  let ctx: AdminContext;
  let app: FastifyInstance;
  let env: Record<string, string | undefined>;
  let apiEnv: Record<string, string | undefined>;
  let fingerprint: string;

  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'logzip-ops-'));
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
    for (let i = 0; i < 40; i++) await ctx.state.putFailure(failure(`g${i}`));
    fingerprint = fingerprintFailure(failure('g0')).fingerprint;
  });
  afterEach(async () => {
    await app?.close();
    await ctx?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('dry-runs, creates, lists, shows, pauses, resumes and aborts a group retry, audited with the reason', async () => {
    // Act
    const dry = await runCli(['reenqueue', '--group', fingerprint, '--dry-run', '--json'], { env });
    const created = await runCli(
      ['reenqueue', '--group', fingerprint, '--reason', 'S3 outage', '--rate', '5', '--json'],
      { env },
    );
    const id = created.json<{ operation: Operation }>().operation.id;
    await ctx.state.putFailure(failure('g_late'));
    const list = await runCli(['ops', 'list', '--json'], { env: apiEnv });
    const shown = await runCli(['ops', 'show', id, '--json'], { env: apiEnv });
    const paused = await runCli(['ops', 'pause', id, '--reason', 'still throttled', '--json'], {
      env: apiEnv,
    });
    const pausedAgain = await runCli(['ops', 'pause', id, '--json'], { env });
    const resumed = await runCli(['ops', 'resume', id, '--json'], { env });
    const aborted = await runCli(['ops', 'abort', id, '--json'], { env });
    const unknown = await runCli(['ops', 'show', 'op_nope', '--json'], { env });
    const audit = await ctx.audit.list({ limit: 10 });

    // Assess
    expect(dry.code).toBe(0);
    expect(dry.json()).toMatchObject({
      dryRun: true,
      kind: 'reenqueue',
      count: 40,
      sample: expect.any(Array),
    });
    expect((await ctx.operations?.store.list(10))?.length).toBe(1);
    expect(created.code).toBe(0);
    expect(created.json()).toEqual({
      operation: expect.objectContaining({
        id,
        kind: 'reenqueue',
        state: 'running',
        total: 40,
        createdBy: 'dana',
        reason: 'S3 outage',
      }),
    });
    expect(list.json<{ operations: Operation[] }>().operations.map((o) => o.id)).toEqual([id]);
    const show = shown.json<Record<string, unknown>>();
    for (const field of [
      'id',
      'kind',
      'state',
      'total',
      'done',
      'failed',
      'skipped',
      'left',
      'rate',
      'createdBy',
      'reason',
      'selection',
    ]) {
      expect(show).toHaveProperty(field);
    }
    // Frozen at creation: the failure that came later is not in it.
    expect(show).toMatchObject({ total: 40, left: 40, selection: { group: fingerprint } });
    expect((await ctx.groups?.get(fingerprint))?.count).toBe(41);
    expect(paused.json()).toMatchObject({ state: 'paused' });
    expect(pausedAgain.code).toBe(1);
    expect(pausedAgain.json()).toMatchObject({ error: { code: 'conflict' } });
    expect(resumed.json()).toMatchObject({ state: 'running' });
    expect(aborted.json()).toMatchObject({ state: 'aborted' });
    expect(unknown.code).toBe(2);
    expect(audit.map((e) => [e.operator, e.action, e.details['channel']])).toEqual([
      ['dana', 'operation.abort', 'cli'],
      ['dana', 'operation.resume', 'cli'],
      ['erin', 'operation.pause', 'api'],
      ['dana', 'operation.reenqueue', 'cli'],
    ]);
    expect(audit[2]?.details['reason']).toBe('still throttled');
    expect(audit[3]?.details).toMatchObject({
      reason: 'S3 outage',
      count: 40,
      selection: { group: fingerprint },
    });
  });

  it('--follow --json prints the operation, then JSON lines of progress until the workers finish it', async () => {
    // Prepare: the workers' operation runner, in this process
    const worker = startOperationsWorker({
      redis: ctx.redis.duplicate({ maxRetriesPerRequest: null }),
      prefix: 'bull',
      logger: silentLogger,
      operations: ctx.operations?.store,
      store: ctx.store,
      state: ctx.state,
      producer: ctx.producer,
      incoming: ctx.settings.incoming,
      output: ctx.settings.output,
      logIdPattern: ctx.settings.logIdPattern,
    });
    try {
      // Act
      const run = await runCli(['purge', '--group', fingerprint, '--rate', '40', '--follow', '--json'], {
        env,
      });

      // Assess
      const lines = run.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { operation: Operation });
      expect(run.code).toBe(0);
      expect(lines[0]?.operation).toMatchObject({ kind: 'purge', state: 'running', total: 40 });
      expect(lines.at(-1)?.operation).toMatchObject({ state: 'finished', done: 40, left: 0 });
      expect(lines.length).toBeGreaterThan(2);
      expect(await ctx.state.getFailure('g7')).toBeUndefined();
      expect((await ctx.groups?.list({ limit: 10 }))?.total).toBe(0);
    } finally {
      await worker.close();
    }
  });

  it('a re-enqueue operation with --encoding stores it and enqueues its jobs with it (forced, run `operation`); an unknown one is refused', async () => {
    // Prepare: the archive of g1 exists; the workers' operation runner, in this process.
    await ctx.store.put('logs', 'incoming/g1.zip', Buffer.from('PK\u0003\u0004 an archive'), {});
    const worker = startOperationsWorker({
      redis: ctx.redis.duplicate({ maxRetriesPerRequest: null }),
      prefix: 'bull',
      logger: silentLogger,
      operations: ctx.operations?.store,
      store: ctx.store,
      state: ctx.state,
      producer: ctx.producer,
      incoming: ctx.settings.incoming,
      output: ctx.settings.output,
      logIdPattern: ctx.settings.logIdPattern,
    });
    try {
      // Act
      const unknown = await runCli(['reenqueue', '--group', fingerprint, '--encoding', 'klingon', '--json'], {
        env: apiEnv,
      });
      const created = await runCli(
        ['reenqueue', '--group', fingerprint, '--encoding', 'cp437', '--rate', '0', '--follow', '--json'],
        { env },
      );
      const job = await ctx.producer.queue.getJob('log-g1');

      // Assess
      expect(unknown.code).not.toBe(0);
      expect(unknown.json()).toMatchObject({ error: { code: 'unknown_encoding' } });
      const lines = created.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { operation: Operation });
      expect(lines[0]?.operation.options).toMatchObject({ encoding: 'cp437' });
      expect(lines.at(-1)?.operation).toMatchObject({ state: 'finished', done: 1, skipped: 39 });
      expect(job?.data).toMatchObject({
        logId: 'g1',
        key: 'incoming/g1.zip',
        reason: 'reenqueue',
        run: 'operation',
        force: true,
        encoding: 'cp437',
      });
    } finally {
      await worker.close();
    }
  });

  it('a selection by code, route and time comes from the index pages, never from reading every failure record', async () => {
    // Prepare: the index built (reindex), two Lambda failures beside the 40 queue ones, and a
    // state store that counts every way of reading failure records.
    for (const logId of ['l1', 'l2']) {
      const record = failure(logId);
      await ctx.state.putFailure({ ...record, route: 'lambda' });
    }
    expect((await runCli(['reindex'], { env })).code).toBe(0);
    let reads = 0;
    const counted = {
      ...ctx,
      state: {
        ...ctx.state,
        listFailures: (filter?: Parameters<typeof ctx.state.listFailures>[0]) => {
          reads += 1;
          return ctx.state.listFailures(filter);
        },
        getFailure: (logId: string) => {
          reads += 1;
          return ctx.state.getFailure(logId);
        },
      },
    };
    const actor = { operator: 'dana', channel: 'cli' as const };

    // Act
    const byCode = await createOperation(
      counted,
      { kind: 'reenqueue', code: 'storage_unavailable', dryRun: true },
      actor,
    );
    const byRoute = await createOperation(
      counted,
      { kind: 'reenqueue', route: 'lambda', since: new Date(Date.now() - 3_600_000), dryRun: true },
      actor,
    );
    const created = await createOperation(
      counted,
      { kind: 'purge', route: 'lambda', ratePerSecond: 1 },
      actor,
    );

    // Assess
    expect(reads).toBe(0);
    expect(byCode).toMatchObject({ dryRun: true, count: 42 });
    expect(byRoute).toMatchObject({ dryRun: true, count: 2, sample: ['l1', 'l2'] });
    expect(created).toMatchObject({ operation: { total: 2, selection: { route: 'lambda' } } });
  });
});
