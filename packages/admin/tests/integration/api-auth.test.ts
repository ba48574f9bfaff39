import { describeWithRedis } from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type BuildAppOptions, buildApp } from '../../src/app.js';
import { InjectSession } from '../helpers/browser-session.js';
import { createHarness, type Harness, TOKEN } from '../helpers/harness.js';

const bearer = { authorization: `Bearer ${TOKEN}` };
const asAlice = { ...bearer, 'x-logzip-operator': 'alice' };

const API_ROUTES: Array<{ method: 'GET' | 'POST'; url: string; payload?: object }> = [
  { method: 'GET', url: '/api/route' },
  { method: 'POST', url: '/api/route', payload: { route: 'queue', reason: 'x' } },
  { method: 'GET', url: '/api/overview' },
  { method: 'GET', url: '/api/failures' },
  { method: 'GET', url: '/api/archives/54321' },
  { method: 'POST', url: '/api/reenqueue', payload: { logIds: ['54321'] } },
  { method: 'POST', url: '/api/purge', payload: { logIds: ['54321'] } },
  { method: 'GET', url: '/api/audit' },
  { method: 'GET', url: '/api/no-such-route' },
];

describeWithRedis('admin auth, CSRF, rate limits and errors (app.inject, real Redis)', () => {
  let h: Harness;
  let app: FastifyInstance;

  async function start(overrides: Partial<BuildAppOptions> = {}): Promise<FastifyInstance> {
    app = await buildApp({ ctx: h.ctx, adminToken: TOKEN, redis: h.redis, logger: false, ...overrides });
    return app;
  }

  beforeEach(async () => {
    h = await createHarness({ storage: 'fs', trigger: 'local' });
  });

  afterEach(async () => {
    await app?.close();
    await h.close();
  });

  it('GET /healthz answers without auth', async () => {
    // Prepare
    await start();

    // Act
    const response = await app.inject({ method: 'GET', url: '/healthz' });

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('every /api/ route answers 401 unauthorized without the admin token, or with a wrong one', async () => {
    // Prepare
    await start();

    // Act
    const answers = [];
    for (const route of API_ROUTES) {
      for (const headers of [
        {},
        { authorization: 'Bearer wrong-token-wrong-token-wrong-token-00' },
        { authorization: TOKEN },
      ]) {
        const response = await app.inject({ ...route, headers });
        answers.push({ url: route.url, status: response.statusCode, body: response.json() });
      }
    }

    // Assess
    for (const answer of answers) {
      expect(answer, answer.url).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    }
  });

  it('the UI session cookie does not open the JSON API', async () => {
    // Prepare
    await start();
    const browser = new InjectSession(app);
    await browser.login(TOKEN, 'alice');

    // Act
    const response = await app.inject({
      method: 'GET',
      url: '/api/route',
      headers: { cookie: browser.cookieHeader() },
    });

    // Assess
    expect(response.statusCode).toBe(401);
  });

  it('with the token: 404 not_found for unknown routes, 400 without an operator for changes, 400 for bad bodies', async () => {
    // Prepare
    await start();

    // Act
    const unknown = await app.inject({ method: 'GET', url: '/api/no-such-route', headers: bearer });
    const anonymous = await app.inject({
      method: 'POST',
      url: '/api/route',
      headers: bearer,
      payload: { route: 'queue' },
    });
    const badRoute = await app.inject({
      method: 'POST',
      url: '/api/route',
      headers: asAlice,
      payload: { route: 'ftp' },
    });
    const extraField = await app.inject({
      method: 'POST',
      url: '/api/purge',
      headers: asAlice,
      payload: { logIds: ['1'], everything: true },
    });
    const read = await app.inject({ method: 'GET', url: '/api/route', headers: bearer });

    // Assess
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { code: 'not_found' } });
    expect(anonymous.statusCode).toBe(400);
    expect(anonymous.json().error.code).toBe('invalid_request');
    expect(anonymous.json().error.message).toMatch(/X-Logzip-Operator/);
    expect(badRoute.json()).toMatchObject({ error: { code: 'invalid_request' } });
    expect(extraField.statusCode).toBe(400);
    expect(read.statusCode).toBe(200);
    expect(await h.routes.get()).toBeUndefined();
  });

  it('refuses keys outside the incoming bucket/prefix with key_outside_prefix', async () => {
    // Prepare
    await start();

    // Act
    const outsidePrefix = await app.inject({
      method: 'POST',
      url: '/api/reenqueue',
      headers: asAlice,
      payload: { logIds: ['1'], key: 'logzip-state/failures/1.json' },
    });
    const otherBucket = await app.inject({
      method: 'POST',
      url: '/api/reenqueue',
      headers: asAlice,
      payload: { key: 'incoming/1.zip', bucket: 'someone-elses-bucket' },
    });
    const traversal = await app.inject({
      method: 'POST',
      url: '/api/reenqueue',
      headers: asAlice,
      payload: { key: 'incoming/../secrets/1.zip' },
    });

    // Assess
    for (const response of [outsidePrefix, otherBucket, traversal]) {
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: { code: 'key_outside_prefix' } });
    }
    expect(await h.producer.getCounts()).toMatchObject({ waiting: 0 });
  });

  it('rate-limits wrong bearer tokens: after the limit even the right token gets 429 for a while', async () => {
    // Prepare
    await start({ authFailureRateLimit: { max: 3, timeWindowMs: 60_000 } });
    const wrong = { authorization: 'Bearer not-the-token-not-the-token-not-the-token' };

    // Act
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await app.inject({ method: 'GET', url: '/api/route', headers: wrong })).statusCode);
    const right = await app.inject({ method: 'GET', url: '/api/route', headers: bearer });

    // Assess
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect(right.statusCode).toBe(429);
    expect(right.json()).toMatchObject({ error: { code: 'rate_limited' } });
  });

  it('logs in with token and name into an httpOnly SameSite=Strict signed session; login attempts are rate-limited', async () => {
    // Prepare
    await start({ loginRateLimit: { max: 2, timeWindowMs: 60_000 } });
    const browser = new InjectSession(app);

    // Act
    const unauthenticated = await browser.get('/');
    const wrong = await browser.login('x'.repeat(40), 'mallory');
    const ok = await browser.login(TOKEN, 'alice');
    const dashboard = await browser.get('/');
    const limited = await browser.login(TOKEN, 'alice');

    // Assess
    expect(unauthenticated.statusCode).toBe(303);
    expect(unauthenticated.headers.location).toBe('/login?next=%2F');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain('Wrong admin token.');
    expect(ok.statusCode).toBe(303);
    const setCookie = ([] as string[])
      .concat(ok.headers['set-cookie'] ?? [])
      .find((c) => c.startsWith('logzip_session='));
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(dashboard.statusCode).toBe(200);
    expect(dashboard.body).toContain('signed in as <strong>alice</strong>');
    expect(limited.statusCode).toBe(429);
    const audit = await h.ctx.audit.list();
    expect(audit.map((e) => [e.operator, e.action, e.outcome])).toEqual([
      ['alice', 'login', 'ok'],
      ['mallory', 'login', 'error'],
    ]);
  });

  it('a tampered or foreign session cookie is not a session', async () => {
    // Prepare
    await start();
    const forged = Buffer.from(JSON.stringify({ op: 'mallory', exp: Date.now() + 3600_000 })).toString(
      'base64url',
    );

    // Act
    const unsigned = await app.inject({
      method: 'GET',
      url: '/',
      headers: { cookie: `logzip_session=${forged}` },
    });
    const badSignature = await app.inject({
      method: 'GET',
      url: '/',
      headers: { cookie: `logzip_session=${forged}.c2lnbmF0dXJl` },
    });

    // Assess
    expect(unsigned.statusCode).toBe(303);
    expect(badSignature.statusCode).toBe(303);
  });

  it('every form needs its CSRF token: 403 csrf_invalid without it, done with it (audited with the session operator)', async () => {
    // Prepare
    await start();
    const browser = new InjectSession(app);
    await browser.login(TOKEN, 'alice');
    const csrf = await browser.csrf('/');

    // Act
    const withoutToken = await browser.post('/ui/route', { route: 'queue', reason: 'r', confirm: 'yes' });
    const wrongToken = await browser.post('/ui/route', {
      _csrf: 'forged',
      route: 'queue',
      reason: 'r',
      confirm: 'yes',
    });
    const apiStyle = await app.inject({
      method: 'POST',
      url: '/ui/route',
      headers: {
        cookie: browser.cookieHeader(),
        'content-type': 'application/json',
        accept: 'application/json',
      },
      payload: { route: 'queue', reason: 'r', confirm: 'yes' },
    });
    const flagBefore = await h.routes.get();
    const withToken = await browser.post('/ui/route', {
      _csrf: csrf,
      route: 'queue',
      reason: 'incident 9',
      confirm: 'yes',
    });

    // Assess
    expect(withoutToken.statusCode).toBe(403);
    expect(withoutToken.body).toContain('csrf_invalid');
    expect(wrongToken.statusCode).toBe(403);
    expect(apiStyle.statusCode).toBe(403);
    expect(flagBefore).toBeUndefined();
    expect(withToken.statusCode).toBe(303);
    expect(await h.routes.get()).toBe('queue');
    const [entry] = await h.ctx.audit.list({ limit: 1 });
    expect(entry).toMatchObject({
      operator: 'alice',
      action: 'route.switch',
      outcome: 'ok',
      details: { channel: 'ui', to: 'queue', reason: 'incident 9' },
    });
  });

  it('bull-board at /queues is behind the same auth and read-only', async () => {
    // Prepare
    await start({ queues: [h.producer.queue] });
    const browser = new InjectSession(app);

    // Act
    const anonymous = await browser.get('/queues');
    const anonymousApi = await app.inject({ method: 'GET', url: '/queues/api/queues' });
    await browser.login(TOKEN, 'alice');
    const board = await browser.get('/queues');
    const api = await app.inject({
      method: 'GET',
      url: '/queues/api/queues',
      headers: { cookie: browser.cookieHeader() },
    });
    const retry = await app.inject({
      method: 'PUT',
      url: `/queues/api/queues/${h.producer.queue.name}/retry/failed`,
      headers: { cookie: browser.cookieHeader() },
    });
    const clean = await app.inject({
      method: 'PUT',
      url: `/queues/api/queues/${h.producer.queue.name}/clean/completed`,
      headers: bearer,
    });

    // Assess
    expect(anonymous.statusCode).toBe(303);
    expect(anonymousApi.statusCode).toBe(401);
    expect(board.statusCode).toBe(200);
    expect(api.statusCode).toBe(200);
    expect(retry.statusCode).toBe(403);
    expect(clean.statusCode).toBe(403);
  });

  it('5xx answers never carry internals', async () => {
    // Prepare
    h.ctx.index!.pageFailures = async () => {
      throw new Error('secret detail: s3://internal-bucket/path at /srv/app/state.js:12');
    };
    await start();

    // Act
    const response = await app.inject({ method: 'GET', url: '/api/failures', headers: bearer });

    // Assess
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({
      error: { code: 'internal', message: expect.stringMatching(/^internal error/) },
    });
    expect(response.body).not.toContain('secret');
    expect(response.body).not.toContain('/srv/app');
  });

  it('refuses to start with an admin token shorter than 32 characters', async () => {
    // Act
    const error = await buildApp({ ctx: h.ctx, adminToken: 'short', logger: false }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/at least 32 characters/);
  });

  it('sends security headers and a CSP without scripts on pages', async () => {
    // Prepare
    await start();

    // Act
    const response = await app.inject({ method: 'GET', url: '/login' });

    // Assess
    expect(response.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(response.headers['content-security-policy']).not.toMatch(/script-src/);
    expect(response.headers['x-frame-options']).toBe('DENY');
  });
});
