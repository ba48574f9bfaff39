import type { FastifyInstance } from 'fastify';
import { DEFAULT_FAILURE_LIMIT } from '../../operations/failures.js';
import type { UiKit } from '../kit.js';
import { auditPage } from '../pages.js';

/** The audit log, a page at a time. */
export function auditRoutes(app: FastifyInstance, ui: UiKit): void {
  app.get<{ Querystring: { cursor?: string } }>('/audit', async (request, reply) => {
    const cursor = request.query.cursor === '' ? undefined : request.query.cursor;
    const audit = await ui.ctx.audit.page({
      limit: DEFAULT_FAILURE_LIMIT,
      ...(cursor === undefined ? {} : { cursor }),
    });
    return ui.html(reply, auditPage(ui.pageContext(request, reply, 'audit'), audit, cursor === undefined));
  });
}
