import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isOperatorName, requireOperator, safeNext, tokenMatches } from '../../http/auth.js';
import { type Form, field, type UiKit } from '../kit.js';
import { loginPage } from '../pages.js';
import { STYLESHEET } from '../styles.js';

/** The stylesheet, sign-in, sign-out and "sign out everywhere". */
export function sessionRoutes(app: FastifyInstance, ui: UiKit): void {
  const { ctx, options, csrf, html, pageContext } = ui;

  app.get('/assets/admin.css', { config: { auth: 'none' } }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STYLESHEET),
  );

  app.get<{ Querystring: { next?: string } }>(
    '/login',
    { config: { auth: 'none' } },
    async (request, reply) =>
      html(reply, loginPage(pageContext(request, reply), { next: safeNext(request.query.next) })),
  );

  app.post<{ Body: Form }>(
    '/login',
    {
      config: {
        auth: 'none',
        rateLimit: {
          max: options.loginRateLimit.max,
          timeWindow: options.loginRateLimit.timeWindowMs,
          keyGenerator: (request: FastifyRequest) => `login:${request.ip}`,
        },
      },
      ...csrf,
    },
    async (request, reply) => {
      const form = request.body ?? {};
      const operator = field(form, 'operator');
      const token = field(form, 'token');
      const next = safeNext(field(form, 'next'));
      if (!isOperatorName(operator)) {
        return html(
          reply,
          loginPage(pageContext(request, reply), {
            next,
            error: 'Enter your name: 1-64 letters, digits, space, . _ @ + -',
          }),
          400,
        );
      }
      if (!tokenMatches(token, options.token)) {
        await ctx.audit.record({
          operator,
          action: 'login',
          outcome: 'error',
          details: { channel: 'ui', ip: request.ip, error: 'wrong token' },
        });
        return html(
          reply,
          loginPage(pageContext(request, reply), { next, operator, error: 'Wrong admin token.' }),
          401,
        );
      }
      await options.sessions.start(reply, operator);
      await ctx.audit.record({
        operator,
        action: 'login',
        outcome: 'ok',
        details: { channel: 'ui', ip: request.ip },
      });
      return reply.redirect(next, 303);
    },
  );

  app.post('/logout', csrf, async (request, reply) => {
    const operator = request.auth?.operator;
    await options.sessions.end(request, reply);
    if (operator !== null && operator !== undefined) {
      await ctx.audit.record({ operator, action: 'logout', outcome: 'ok', details: { channel: 'ui' } });
    }
    return reply.redirect('/login', 303);
  });

  app.post('/ui/sessions/revoke', csrf, async (request, reply) => {
    const operator = requireOperator(request);
    const revoked = await options.sessions.revokeAll();
    options.sessions.clearCookie(reply);
    await ctx.audit.record({
      operator,
      action: 'sessions_revoke',
      outcome: 'ok',
      details: { channel: 'ui', revoked },
    });
    return reply.redirect('/login', 303);
  });
}
