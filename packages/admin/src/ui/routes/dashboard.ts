import type { Route } from '@logzip/core';
import type { FastifyInstance } from 'fastify';
import { AdminError } from '../../errors.js';
import { getOverview } from '../../operations/overview.js';
import { getRouteStatus, switchRoute } from '../../operations/route.js';
import { type Form, field, type UiKit } from '../kit.js';
import { dashboardPage, routeFormPage, routeReviewPage } from '../pages.js';

/** The dashboard and the route switch (review, then confirm). */
export function dashboardRoutes(app: FastifyInstance, ui: UiKit): void {
  const { ctx, csrf, html, pageContext } = ui;

  app.get('/', async (request, reply) =>
    html(reply, dashboardPage(pageContext(request, reply, 'dashboard'), await getOverview(ctx))),
  );

  app.get<{ Querystring: { to?: string } }>('/ui/route', async (request, reply) =>
    html(
      reply,
      routeFormPage(
        pageContext(request, reply, 'dashboard'),
        await getRouteStatus(ctx),
        request.query.to === 'lambda' ? 'lambda' : 'queue',
      ),
    ),
  );

  app.post<{ Body: Form }>('/ui/route/review', csrf, async (request, reply) => {
    const { to, reason } = routeForm(request.body ?? {});
    return html(
      reply,
      routeReviewPage(pageContext(request, reply, 'dashboard'), await getRouteStatus(ctx), to, reason),
    );
  });

  app.post<{ Body: Form }>('/ui/route', csrf, async (request, reply) => {
    const form = request.body ?? {};
    const refused = refusalOf(form);
    if (refused !== undefined) {
      // A refused switch is an attempt the audit log shows, as the API's and the CLI's are.
      await ctx.audit
        .record({
          operator: ui.actor(request).operator,
          action: 'route.switch',
          outcome: 'error',
          details: { channel: 'ui', to: field(form, 'route'), refused },
        })
        .catch(() => {});
    }
    const { to, reason } = routeForm(form);
    if (refused !== undefined) throw new AdminError('invalid_request', 'the switch was not confirmed');
    const result = await switchRoute(ctx, { to, reason }, ui.actor(request));
    ui.setFlash(reply, { kind: result.ok ? 'success' : 'danger', text: result.message });
    return reply.redirect('/', 303);
  });
}

/** Why the switch form is refused, or undefined when it may go ahead. */
function refusalOf(form: Form): string | undefined {
  const to = field(form, 'route');
  const reason = field(form, 'reason');
  if (to !== 'lambda' && to !== 'queue') return 'no route chosen';
  if (reason === '') return 'no reason given';
  if (reason.length > 1000) return 'reason too long';
  if (field(form, 'confirm') !== 'yes') return 'not confirmed';
  return undefined;
}

function routeForm(form: Form): { to: Route; reason: string } {
  const to = field(form, 'route');
  const reason = field(form, 'reason');
  if (to !== 'lambda' && to !== 'queue') throw new AdminError('invalid_request', 'choose lambda or queue');
  if (reason === '') throw new AdminError('invalid_request', 'give a reason: it goes to the audit log');
  if (reason.length > 1000)
    throw new AdminError('invalid_request', 'the reason is longer than 1,000 characters');
  return { to, reason };
}
