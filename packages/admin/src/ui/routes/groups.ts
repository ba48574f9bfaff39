import type { FastifyInstance } from 'fastify';
import { AdminError } from '../../errors.js';
import {
  controlOperation,
  createOperation,
  DEFAULT_OPERATION_RATE,
  getOperation,
} from '../../operations/bulk-operations.js';
import { readFailureRecords } from '../../operations/failures.js';
import { getGroup, listGroupLogIds } from '../../operations/groups.js';
import { groupPage, groupRetryReviewPage, operationPage } from '../group-pages.js';
import { type Form, field, type UiKit } from '../kit.js';

const GROUP_PAGE_SIZE = 50;
const CONTROLS = ['pause', 'resume', 'abort'] as const;

/**
 * One failure group (its log IDs, paged), its retry (a dry-run count first, then a stored
 * operation) and the operation's live progress with pause, resume and abort.
 */
export function groupRoutes(app: FastifyInstance, ui: UiKit): void {
  const { ctx, csrf, html, pageContext } = ui;

  app.get<{ Params: { fingerprint: string }; Querystring: { cursor?: string } }>(
    '/failures/groups/:fingerprint',
    async (request, reply) => {
      const { fingerprint } = request.params;
      const cursor = request.query.cursor === '' ? undefined : request.query.cursor;
      const group = await getGroup(ctx, fingerprint);
      const members = await listGroupLogIds(ctx, fingerprint, {
        limit: GROUP_PAGE_SIZE,
        ...(cursor === undefined ? {} : { cursor }),
      });
      const records = await readFailureRecords(ctx, members.logIds);
      return html(
        reply,
        groupPage(pageContext(request, reply, 'failures'), group, members, records, cursor === undefined),
      );
    },
  );

  app.post<{ Params: { fingerprint: string } }>(
    '/failures/groups/:fingerprint/retry/review',
    csrf,
    async (request, reply) => {
      const { fingerprint } = request.params;
      const group = await getGroup(ctx, fingerprint);
      const answer = await createOperation(
        ctx,
        { kind: 'reenqueue', group: fingerprint, dryRun: true },
        ui.actor(request),
      );
      if (!('dryRun' in answer)) throw new Error('the dry run created an operation');
      return html(
        reply,
        groupRetryReviewPage(pageContext(request, reply, 'failures'), group, answer, DEFAULT_OPERATION_RATE),
      );
    },
  );

  app.post<{ Params: { fingerprint: string }; Body: Form }>(
    '/failures/groups/:fingerprint/retry',
    csrf,
    async (request, reply) => {
      const form = request.body ?? {};
      const reason = field(form, 'reason');
      if (reason === '') throw new AdminError('invalid_request', 'give a reason: it goes to the audit log');
      const rateText = field(form, 'rate');
      const rate = rateText === '' ? DEFAULT_OPERATION_RATE : Number(rateText);
      const answer = await createOperation(
        ctx,
        { kind: 'reenqueue', group: request.params.fingerprint, reason, ratePerSecond: rate },
        ui.actor(request),
      );
      if (!('operation' in answer)) throw new Error('no operation was created');
      // Post/redirect/get: a reload of the progress view never starts a second operation.
      return reply.redirect(`/ui/operations/${encodeURIComponent(answer.operation.id)}`, 303);
    },
  );

  app.get<{ Params: { id: string } }>('/ui/operations/:id', async (request, reply) =>
    html(
      reply,
      operationPage(pageContext(request, reply, 'failures'), await getOperation(ctx, request.params.id)),
    ),
  );

  app.post<{ Params: { id: string; action: string }; Body: Form }>(
    '/ui/operations/:id/:action',
    csrf,
    async (request, reply) => {
      const { id, action } = request.params;
      const control = CONTROLS.find((c) => c === action);
      if (control === undefined) throw new AdminError('not_found', `no action ${action}`);
      await controlOperation(ctx, id, control, ui.actor(request), field(request.body ?? {}, 'reason'));
      return reply.redirect(`/ui/operations/${encodeURIComponent(id)}`, 303);
    },
  );
}
