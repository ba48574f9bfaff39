import { describeWithRedis } from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createHarness, goodArchive, type Harness, TOKEN } from '../helpers/harness.js';
import { HttpSession, sendRaw } from '../helpers/http-client.js';

/** Every route of the JSON API (api.ts); the first test checks each still exists. */
const API_ROUTES: Array<{ method: 'GET' | 'POST'; rest: string; form?: Record<string, string> }> = [
  { method: 'GET', rest: 'route' },
  { method: 'POST', rest: 'route', form: { route: 'queue', reason: 'attack' } },
  { method: 'GET', rest: 'overview' },
  { method: 'GET', rest: 'failures' },
  { method: 'GET', rest: 'archives/54321' },
  { method: 'POST', rest: 'reenqueue', form: { logIds: '54321', force: 'true' } },
  { method: 'POST', rest: 'purge', form: { logIds: '54321' } },
  { method: 'GET', rest: 'audit' },
  { method: 'POST', rest: 'sessions/revoke', form: {} },
];

/** Ways of writing `/api/<rest>` that a router may decode or normalise differently from a prefix check. */
function spellings(rest: string): string[] {
  const [first = '', ...others] = rest;
  const restEncoded = `%${first.charCodeAt(0).toString(16)}${others.join('')}`;
  return [
    `/%61pi/${rest}`,
    `/%61%70%69/${rest}`,
    `/%41PI/${rest}`,
    `/API/${rest}`,
    `/Api/${rest}`,
    `/api/${restEncoded}`,
    `/api%2F${rest}`,
    `/api%2f${rest}`,
    `/%2Fapi/${rest}`,
    `//api/${rest}`,
    `/api//${rest}`,
    `/api/${rest}/`,
    `/%61pi/${rest}/`,
    `/api;x/${rest}`,
    `/api/${rest};x`,
    `/%61pi/${rest};x`,
    `/./api/${rest}`,
    `/x/../api/${rest}`,
  ];
}

describeWithRedis(
  'regression (issue 17): a UI session cookie opens the JSON API through another spelling of /api',
  () => {
    let h: Harness;
    let app: FastifyInstance;
    let base: string;

    beforeEach(async () => {
      h = await createHarness({ storage: 'fs', trigger: 'local' });
      await h.routes.set('lambda');
      await h.upload('incoming/ab/cd/54321.zip', await goodArchive('54321'));
      expect((await h.extract('54321', 'incoming/ab/cd/54321.zip')).ok).toBe(true);
      app = await buildApp({ ctx: h.ctx, adminToken: TOKEN, redis: h.redis, logger: false });
      base = await app.listen({ host: '127.0.0.1', port: 0 });
    });

    afterEach(async () => {
      await app?.close();
      await h?.close();
    });

    it('every API route exists under its canonical path (with the bearer token)', async () => {
      // Prepare
      const headers = {
        authorization: `Bearer ${TOKEN}`,
        'x-logzip-operator': 'alice',
        accept: 'application/json',
      };

      // Act
      const answers = [];
      for (const route of API_ROUTES) {
        const response = await sendRaw(base, {
          method: route.method,
          path: `/api/${route.rest}`,
          headers: { ...headers, ...(route.method === 'POST' ? { 'content-type': 'application/json' } : {}) },
          ...(route.method === 'POST' ? { body: JSON.stringify({ bogus: true }) } : {}),
        });
        answers.push({ route: `${route.method} /api/${route.rest}`, status: response.status });
      }

      // Assess: a POST with a bogus body is refused by its schema (400), never "no such route"
      for (const answer of answers) expect(answer.status, answer.route).not.toBe(404);
    });

    it('a signed-in browser gets nothing from any API route under any spelling, form or JSON body, no CSRF token', async () => {
      // Prepare
      const browser = new HttpSession(base);
      await browser.login(TOKEN, 'alice');
      const auditBefore = await h.ctx.audit.list({ limit: 100 });

      // Act
      const answers: Array<{ request: string; status: number; body: string }> = [];
      for (const route of API_ROUTES) {
        for (const path of spellings(route.rest)) {
          const bodies =
            route.method === 'GET'
              ? [undefined]
              : [
                  {
                    type: 'application/x-www-form-urlencoded',
                    text: new URLSearchParams(route.form).toString(),
                  },
                  { type: 'application/json', text: JSON.stringify(route.form) },
                ];
          for (const body of bodies) {
            const response = await browser.send({
              method: route.method,
              path,
              ...(body === undefined ? {} : { headers: { 'content-type': body.type }, body: body.text }),
            });
            answers.push({
              request: `${route.method} ${path} ${body?.type ?? ''}`,
              status: response.status,
              body: response.body,
            });
          }
        }
      }

      // Assess: refused (401) or not a route at all (404), never served, and nothing changed
      for (const answer of answers) {
        expect([401, 404, 415], answer.request).toContain(answer.status);
        expect(answer.body, answer.request).not.toContain('"route":');
        expect(answer.body, answer.request).not.toContain('"entries"');
      }
      expect(await h.routes.get()).toBe('lambda');
      expect(await h.store.head(h.bucket, 'incoming/ab/cd/54321.zip')).toBeDefined();
      const auditAfter = await h.ctx.audit.list({ limit: 100 });
      expect(auditAfter.length).toBe(auditBefore.length);
    });

    it('the JSON API has no form parser: a form-encoded body with the bearer token is 415', async () => {
      // Prepare
      const headers = {
        authorization: `Bearer ${TOKEN}`,
        'x-logzip-operator': 'alice',
        'content-type': 'application/x-www-form-urlencoded',
      };

      // Act
      const response = await sendRaw(base, {
        method: 'POST',
        path: '/api/purge',
        headers,
        body: 'logIds=54321',
      });

      // Assess
      expect(response.status).toBe(415);
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'unsupported_media_type' } });
      expect(await h.store.head(h.bucket, 'incoming/ab/cd/54321.zip')).toBeDefined();
    });
  },
);
