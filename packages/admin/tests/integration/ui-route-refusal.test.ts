import { describeWithRedis } from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { InjectSession } from '../helpers/browser-session.js';
import { createHarness, type Harness, TOKEN } from '../helpers/harness.js';

describeWithRedis('regression (issue 17): a refused UI route switch is in the audit log', () => {
  let h: Harness;
  let app: FastifyInstance;

  beforeEach(async () => {
    h = await createHarness({ storage: 'fs', trigger: 'local' });
    await h.routes.set('lambda');
    app = await buildApp({ ctx: h.ctx, adminToken: TOKEN, redis: h.redis, logger: false });
  });

  afterEach(async () => {
    await app?.close();
    await h?.close();
  });

  it('records a switch without a reason and one without the confirmation, and leaves the route', async () => {
    // Prepare
    const session = new InjectSession(app);
    await session.login(TOKEN, 'alice');
    const csrf = await session.csrf('/');

    // Act
    const noReason = await session.post('/ui/route', {
      _csrf: csrf,
      route: 'queue',
      reason: '  ',
      confirm: 'yes',
    });
    const unconfirmed = await session.post('/ui/route', { _csrf: csrf, route: 'queue', reason: 'test' });

    // Assess
    expect(noReason.statusCode).toBe(400);
    expect(unconfirmed.statusCode).toBe(400);
    expect(await h.routes.get()).toBe('lambda');
    const refusals = (await h.ctx.audit.list({ limit: 10 })).filter((e) => e.action === 'route.switch');
    expect(refusals.map((e) => [e.operator, e.outcome, e.details['channel'], e.details['refused']])).toEqual([
      ['alice', 'error', 'ui', 'not confirmed'],
      ['alice', 'error', 'ui', 'no reason given'],
    ]);
  });
});
