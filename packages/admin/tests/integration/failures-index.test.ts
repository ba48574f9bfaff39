/**
 * The failures and audit views over the index (app.inject, real Redis, folder storage): pages with
 * a cursor, filters, log-ID prefix search, counts; "index_rebuilding" when Redis lost the index,
 * and the worker's keeper bringing it back.
 */
import { LogzipError, silentLogger } from '@logzip/core';
import { recordAttempt, resolveRecord, startIndexKeeper } from '@logzip/core/state';
import { describeWithRedis } from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { InjectSession } from '../helpers/browser-session.js';
import { createHarness, type Harness, STATE_PREFIX, TOKEN } from '../helpers/harness.js';

const asAlice = { authorization: `Bearer ${TOKEN}`, 'x-logzip-operator': 'alice' };

function failed(logId: string, minute: number, code: 'corrupt' | 'not_zip' = 'corrupt') {
  return recordAttempt(undefined, {
    logId,
    source: { bucket: 'logs', key: `incoming/${logId}.zip` },
    route: 'queue',
    error: new LogzipError(code, `${code} in ${logId}`),
    attempt: 1,
    maxAttempts: 1,
    at: new Date(Date.UTC(2026, 10, 28, 10, minute)),
  });
}

describeWithRedis('failures and audit views over the index', () => {
  let h: Harness;
  let app: FastifyInstance;

  beforeEach(async () => {
    h = await createHarness({ storage: 'fs', trigger: 'local' });
    app = await buildApp({ ctx: h.ctx, adminToken: TOKEN, redis: h.redis, logger: false });
  });

  afterEach(async () => {
    await app?.close();
    await h.close();
  });

  const get = async (url: string) => {
    const response = await app.inject({ method: 'GET', url, headers: asAlice });
    return { status: response.statusCode, headers: response.headers, body: response.json() };
  };

  it('pages failures newest first with an opaque cursor, filters, a log-ID prefix and the total', async () => {
    // Prepare
    for (let i = 1; i <= 5; i++) await h.state.putFailure(failed(`12${i}`, i));
    await h.state.putFailure(failed('999', 10, 'not_zip'));
    await h.state.putFailure(resolveRecord(failed('998', 11), new Date(Date.UTC(2026, 10, 28, 10, 12))));

    // Act
    const first = await get('/api/failures?limit=2');
    const second = await get(`/api/failures?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    const byCode = await get('/api/failures?code=not_zip');
    const byPrefix = await get('/api/failures?logId=12&limit=50');
    const all = await get('/api/failures?state=all&limit=500');
    const tooMany = await get('/api/failures?limit=501');
    const badCursor = await get('/api/failures?cursor=nonsense');
    const counts = await get('/api/failures/counts');

    // Assess
    expect(first.body.failures.map((r: { logId: string }) => r.logId)).toEqual(['999', '125']);
    expect(first.body.total).toBe(6);
    expect(second.body.failures.map((r: { logId: string }) => r.logId)).toEqual(['124', '123']);
    expect(byCode.body).toMatchObject({
      total: 1,
      failures: [{ logId: '999', code: 'not_zip', attemptCount: 1 }],
    });
    expect(byCode.body.nextCursor).toBeUndefined();
    expect(byPrefix.body.total).toBe(5);
    expect(all.body.total).toBe(7);
    expect(tooMany.status).toBe(400);
    expect(badCursor).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect(counts.body).toEqual({
      byState: { retrying: 0, failed: 6, resolved: 1 },
      byCode: {
        corrupt: { retrying: 0, failed: 5, resolved: 1 },
        not_zip: { retrying: 0, failed: 1, resolved: 0 },
      },
    });
  });

  it('pages the audit log, and the UI pages link to the next page', async () => {
    // Prepare
    for (let i = 0; i < 55; i++) {
      await h.ctx.audit.record({ operator: 'alice', action: `act-${i}`, outcome: 'ok', details: {} });
    }
    for (let i = 1; i <= 60; i++) await h.state.putFailure(failed(`7${String(i).padStart(3, '0')}`, i % 60));
    const browser = new InjectSession(app);
    await browser.login(TOKEN, 'alice');

    // Act
    const firstPage = await get('/api/audit?limit=50');
    const lastPage = await get(`/api/audit?limit=50&cursor=${encodeURIComponent(firstPage.body.nextCursor)}`);
    const failuresHtml = await browser.get('/failures?logId=70');
    const auditHtml = await browser.get('/audit');

    // Assess: 55 records + the login entry.
    expect(firstPage.body.entries).toHaveLength(50);
    expect(firstPage.body.total).toBe(56);
    expect(lastPage.body.entries).toHaveLength(6);
    expect(lastPage.body.nextCursor).toBeUndefined();
    expect(failuresHtml.body).toContain('id="next-page"');
    expect(failuresHtml.body).toContain('60 record(s)');
    expect(auditHtml.body).toContain('id="next-page"');
  });

  it('answers index_rebuilding (never an empty list) when Redis lost the index, until the keeper rebuilds it', async () => {
    // Prepare: the index is lost (as after a flush: only this test's keys go).
    for (let i = 1; i <= 3; i++) await h.state.putFailure(failed(`55${i}`, i));
    const indexKeys = await h.redis.keys('*{index}*');
    await h.redis.del(...indexKeys.map((k) => k.slice(h.keyPrefix.length)));

    // Act
    const failures = await get('/api/failures');
    const counts = await get('/api/failures/counts');
    const audit = await get('/api/audit');
    const overview = await get('/api/overview');
    const keeper = startIndexKeeper({
      store: h.store,
      bucket: h.bucket,
      prefix: STATE_PREFIX,
      index: h.ctx.index!,
      logger: silentLogger,
      retentionDays: 0,
      owner: 'test-worker',
      checkEveryMs: 60_000,
    });
    const rebuilt = await keeper.tick();
    await keeper.stop();
    const after = await get('/api/failures');

    // Assess
    expect(indexKeys.length).toBeGreaterThan(0);
    for (const answer of [failures, counts, audit]) {
      expect(answer.status).toBe(503);
      expect(answer.body.error.code).toBe('index_rebuilding');
      expect(answer.headers['retry-after']).toBe('10');
    }
    expect(overview.body).toMatchObject({ failures: null, failureCounts: null });
    expect(overview.body.failuresError).toMatch(/being rebuilt/);
    expect(rebuilt).toMatchObject({ status: 'done', counts: { failures: 3 } });
    expect(after.body.total).toBe(3);
  });
});
