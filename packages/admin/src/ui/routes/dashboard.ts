import type { Route } from '@logzip/core';
import type { FastifyInstance } from 'fastify';
import { AdminError } from '../../errors.js';
import { getOverview } from '../../operations/overview.js';
import { getRouteStatus, switchRoute } from '../../operations/route.js';
import { type Form, field, type UiKit } from '../kit.js';
import { dashboardPage, routeReviewPage } from '../pages.js';

/** The dashboard and the route switch (review, then confirm). */
export function dashboardRoutes(app: FastifyInstance, ui: UiKit): void {
  const { ctx, csrf, html, pageContext } = ui;

  app.get('/', async (request, reply) =>
    html(reply, dashboardPage(pageContext(request, reply, 'dashboard'), await getOverview(ctx))),
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
    const { to, reason } = routeForm(form);
    if (field(form, 'confirm') !== 'yes')
      throw new AdminError('invalid_request', 'the switch was not confirmed');
    const result = await switchRoute(ctx, { to, reason }, ui.actor(request));
    ui.setFlash(reply, { kind: result.ok ? 'success' : 'danger', text: result.message });
    return reply.redirect('/', 303);
  });
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
