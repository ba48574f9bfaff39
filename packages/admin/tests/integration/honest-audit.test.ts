import { describeWithRedis } from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createHarness, type Harness, TOKEN } from '../helpers/harness.js';
import { HttpSession, sendRaw } from '../helpers/http-client.js';

const asAlice = {
  authorization: `Bearer ${TOKEN}`,
  'x-logzip-operator': 'alice',
  'content-type': 'application/json',
};

describeWithRedis('regression (issue 17): an honest audit log (real listening server)', () => {
  let h: Harness;
  let app: FastifyInstance;
  let base: string;

  beforeEach(async () => {
    h = await createHarness({ storage: 'fs', trigger: 'local' });
    await h.routes.set('lambda');
    app = await buildApp({ ctx: h.ctx, adminToken: TOKEN, redis: h.redis, logger: false });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });

  afterEach(async () => {
    await app?.close();
    await h?.close();
  });

  it('the API refuses a route switch without a reason (400), records the refusal, and leaves the route', async () => {
    // Act
    const missing = await sendRaw(base, {
      method: 'POST',
      path: '/api/route',
      headers: asAlice,
      body: JSON.stringify({ route: 'queue' }),
    });
    const blank = await sendRaw(base, {
      method: 'POST',
      path: '/api/route',
      headers: asAlice,
      body: JSON.stringify({ route: 'queue', reason: '   ' }),
    });

    // Assess
    for (const answer of [missing, blank]) {
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'invalid_request' } });
    }
    expect(await h.routes.get()).toBe('lambda');
    const entries = await h.ctx.audit.list({ limit: 10 });
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({
      operator: 'alice',
      action: 'route.switch',
      outcome: 'error',
      details: { to: 'queue', refused: 'no reason given' },
    });
  });

  it('a re-enqueue answered not_found is recorded as not ok, and a dry run is labelled on the audit page', async () => {
    // Prepare
    const browser = new HttpSession(base);
    await browser.login(TOKEN, 'alice');

    // Act
    const missing = await sendRaw(base, {
      method: 'POST',
      path: '/api/reenqueue',
      headers: asAlice,
      body: JSON.stringify({ logIds: ['nobody_knows_me'] }),
    });
    await sendRaw(base, {
      method: 'POST',
      path: '/api/purge',
      headers: asAlice,
      body: JSON.stringify({ logIds: ['nobody_knows_me'], dryRun: true }),
    });
    const page = await browser.get('/audit');

    // Assess
    expect(JSON.parse(missing.body)).toMatchObject({ results: [{ outcome: 'not_found' }] });
    const [purgeEntry, reenqueueEntry] = await h.ctx.audit.list({ limit: 2 });
    expect(reenqueueEntry).toMatchObject({ action: 'reenqueue', outcome: 'error' });
    expect(purgeEntry).toMatchObject({ action: 'purge', details: { dryRun: true } });
    expect(page.body).toMatch(/<td class="mono">purge <span class="badge muted">dry run<\/span><\/td>/);
  });
});
