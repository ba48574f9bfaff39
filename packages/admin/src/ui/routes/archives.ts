import type { FastifyInstance } from 'fastify';
import { AdminError } from '../../errors.js';
import { isLogId } from '../../operations/keys.js';
import { purge } from '../../operations/purge.js';
import { getArchiveStatus } from '../../operations/status.js';
import { type Form, field, type UiKit } from '../kit.js';
import { archivePage, archiveSearchPage, purgeReviewPage } from '../pages.js';

/** One log ID's page, the search that leads to it, and its purge (review, then confirm). */
export function archiveRoutes(app: FastifyInstance, ui: UiKit): void {
  const { ctx, csrf, html, pageContext } = ui;

  app.get<{ Querystring: { logId?: string } }>('/archives', async (request, reply) => {
    const logId = (request.query.logId ?? '').trim();
    if (logId === '') return html(reply, archiveSearchPage(pageContext(request, reply, 'archives')));
    if (!isLogId(logId)) {
      return html(
        reply,
        archiveSearchPage(pageContext(request, reply, 'archives'), logId, 'That is not a log ID.'),
        400,
      );
    }
    return reply.redirect(`/archives/${encodeURIComponent(logId)}`, 303);
  });

  app.get<{ Params: { logId: string } }>('/archives/:logId', async (request, reply) => {
    const status = await getArchiveStatus(ctx, request.params.logId);
    return html(
      reply,
      archivePage(pageContext(request, reply, 'archives'), status),
      status.found ? 200 : 404,
    );
  });

  app.post<{ Body: Form }>('/ui/purge/review', csrf, async (request, reply) => {
    const logId = field(request.body ?? {}, 'logId');
    const preview = await purge(ctx, { logIds: [logId], dryRun: true }, ui.actor(request));
    return html(reply, purgeReviewPage(pageContext(request, reply, 'archives'), logId, preview));
  });

  app.post<{ Body: Form }>('/ui/purge', csrf, async (request, reply) => {
    const form = request.body ?? {};
    const logId = field(form, 'logId');
    if (field(form, 'confirm') !== logId) {
      throw new AdminError('invalid_request', 'type the log ID exactly to confirm the purge');
    }
    const result = await purge(ctx, { logIds: [logId] }, ui.actor(request));
    return ui.redirectToResult(request, reply, {
      current: 'archives',
      title: 'Purge',
      result,
      back: { href: '/', label: 'dashboard' },
    });
  });
}
