import { describeWithRedis } from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createHarness, type Harness, TOKEN } from '../helpers/harness.js';
import { HttpSession, sendRaw } from '../helpers/http-client.js';

const NEW_TOKEN = 'rotated-admin-token-0123456789abcdef-987654';

describeWithRedis(
  'UI sessions live on the server (issue 17, item 2; real listening server, real Redis)',
  () => {
    let h: Harness;
    const apps: FastifyInstance[] = [];

    async function listen(adminToken = TOKEN): Promise<string> {
      const app = await buildApp({ ctx: h.ctx, adminToken, redis: h.redis, logger: false });
      apps.push(app);
      return app.listen({ host: '127.0.0.1', port: 0 });
    }

    /** A copy of a browser's cookies, as an attacker who saved them would replay them. */
    function replay(base: string, cookies: Map<string, string>): HttpSession {
      const copy = new HttpSession(base);
      for (const [name, value] of cookies) copy.cookies.set(name, value);
      return copy;
    }

    beforeEach(async () => {
      h = await createHarness({ storage: 'fs', trigger: 'local' });
    });

    afterEach(async () => {
      for (const app of apps.splice(0)) await app.close();
      await h?.close();
    });

    it('regression: a cookie saved before POST /logout is refused when replayed', async () => {
      // Prepare
      const base = await listen();
      const browser = new HttpSession(base);
      await browser.login(TOKEN, 'alice');
      const saved = new Map(browser.cookies);
      expect((await replay(base, saved).get('/')).status).toBe(200);

      // Act
      const logout = await browser.postForm('/logout', { _csrf: await browser.csrf('/') });
      const replayed = await replay(base, saved).get('/');
      const replayedBoard = await replay(base, saved).get('/queues');

      // Assess
      expect(logout.status).toBe(303);
      expect(replayed.status).toBe(303);
      expect(replayed.headers.location).toMatch(/^\/login/);
      expect(replayedBoard.status).toBe(303);
    });

    it('"Sign out everywhere" (UI) ends every operator\'s session and is audited', async () => {
      // Prepare
      const base = await listen();
      const alice = new HttpSession(base);
      const bob = new HttpSession(base);
      await alice.login(TOKEN, 'alice');
      await bob.login(TOKEN, 'bob');

      // Act
      const revoke = await alice.postForm('/ui/sessions/revoke', { _csrf: await alice.csrf('/audit') });
      const bobAfter = await bob.get('/');
      const aliceAfter = await replay(base, alice.cookies).get('/');

      // Assess
      expect(revoke.status).toBe(303);
      expect(bobAfter.status).toBe(303);
      expect(aliceAfter.status).toBe(303);
      const [entry] = await h.ctx.audit.list({ limit: 1 });
      expect(entry).toMatchObject({ operator: 'alice', action: 'sessions_revoke', details: { revoked: 2 } });
    });

    it('POST /api/sessions/revoke (bearer) ends every session', async () => {
      // Prepare
      const base = await listen();
      const bob = new HttpSession(base);
      await bob.login(TOKEN, 'bob');

      // Act
      const revoke = await sendRaw(base, {
        method: 'POST',
        path: '/api/sessions/revoke',
        headers: { authorization: `Bearer ${TOKEN}`, 'x-logzip-operator': 'alice' },
      });
      const bobAfter = await bob.get('/');

      // Assess
      expect(revoke.status).toBe(200);
      expect(JSON.parse(revoke.body)).toEqual({ revoked: 1 });
      expect(bobAfter.status).toBe(303);
    });

    it('a session signed in with the previous admin token is refused after a rotation', async () => {
      // Prepare
      const before = await listen(TOKEN);
      const browser = new HttpSession(before);
      await browser.login(TOKEN, 'alice');
      await apps.shift()?.close();
      const after = await listen(NEW_TOKEN);

      // Act
      const replayed = await replay(after, browser.cookies).get('/');

      // Assess
      expect(replayed.status).toBe(303);
    });

    it("regression: a CSRF token and cookie taken from one session are refused in another operator's session", async () => {
      // Prepare: mallory signs in herself and keeps her CSRF cookie and token; alice is signed in
      const base = await listen();
      await h.routes.set('lambda');
      const mallory = new HttpSession(base);
      await mallory.login(TOKEN, 'mallory');
      const malloryToken = await mallory.csrf('/');
      const alice = new HttpSession(base);
      await alice.login(TOKEN, 'alice');
      const forged = replay(base, alice.cookies);
      forged.cookies.set('logzip_csrf', mallory.cookies.get('logzip_csrf') ?? '');

      // Act: alice's browser sends mallory's cookie and token (planted by a page on a sibling origin)
      const attack = await forged.postForm('/ui/route', {
        _csrf: malloryToken,
        route: 'queue',
        reason: 'attack',
        confirm: 'yes',
      });
      const own = await alice.postForm('/ui/route', {
        _csrf: await alice.csrf('/'),
        route: 'queue',
        reason: 'maintenance',
        confirm: 'yes',
      });

      // Assess
      expect(attack.status).toBe(403);
      expect(attack.body).toContain('csrf_invalid');
      expect(own.status).toBe(303);
      const [entry] = await h.ctx.audit.list({ limit: 1 });
      expect(entry).toMatchObject({ operator: 'alice', details: { reason: 'maintenance' } });
    });
  },
);
