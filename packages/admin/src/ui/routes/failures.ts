import { FAILURE_STATES } from '@logzip/core';
import type { FastifyInstance } from 'fastify';
import { AdminError } from '../../errors.js';
import { parseSince } from '../../http/api.js';
import { adviseOn } from '../../operations/failure-advice.js';
import {
  DEFAULT_FAILURE_LIMIT,
  type FailureQuery,
  listFailures,
  readFailureRecords,
} from '../../operations/failures.js';
import { listGroups } from '../../operations/groups.js';
import { isLogId } from '../../operations/keys.js';
import { reenqueue } from '../../operations/reenqueue.js';
import { groupsPage } from '../group-pages.js';
import { type Form, field, fields, type ShownResult, type UiKit } from '../kit.js';
import { bulkResultPage, confirmPermanentPage, type FailureFilterForm, failuresPage } from '../pages.js';

/** The failure list, its re-enqueue form (with the permanent-code confirmation) and result pages. */
export function failureRoutes(app: FastifyInstance, ui: UiKit): void {
  const { ctx, csrf, html, pageContext } = ui;

  app.get<{ Querystring: Record<string, string | undefined> }>('/failures', async (request, reply) => {
    // Groups by default (when the index keeps them); any filter, or view=records, lists records.
    const filtered = ['state', 'code', 'route', 'since', 'logId', 'cursor'].some(
      (name) => (request.query[name] ?? '') !== '',
    );
    if (ctx.groups !== undefined && !filtered && request.query['view'] !== 'records') {
      const groupCursor = request.query['groupCursor'];
      const groups = await listGroups(ctx, {
        ...(groupCursor === undefined || groupCursor === '' ? {} : { cursor: groupCursor }),
      });
      return html(
        reply,
        groupsPage(pageContext(request, reply, 'failures'), groups, groupCursor === undefined),
      );
    }
    const { filters, query } = failureFilters(request.query, ctx.clock.now());
    const list = await listFailures(ctx, { ...query, limit: DEFAULT_FAILURE_LIMIT });
    const records = await readFailureRecords(
      ctx,
      list.failures.map((s) => s.logId),
    );
    return html(reply, failuresPage(pageContext(request, reply, 'failures'), list, filters, query, records));
  });

  app.post<{ Body: Form }>('/ui/reenqueue', csrf, async (request, reply) => {
    const form = request.body ?? {};
    const only = field(form, 'only');
    const scope = field(form, 'scope');
    const via = field(form, 'via') === 'lambda' ? 'lambda' : 'queue';
    const force = field(form, 'force') === 'yes';
    const dryRun = field(form, 'dryRun') === 'yes';
    if (!dryRun && field(form, 'confirmPermanent') !== 'yes') {
      const permanent = await permanentFailures(only, scope, form);
      if (permanent.length > 0) {
        return html(
          reply,
          confirmPermanentPage(
            pageContext(request, reply, 'failures'),
            form as Record<string, string | string[]>,
            permanent,
          ),
        );
      }
    }
    let result: Awaited<ReturnType<typeof reenqueue>>;
    if (only !== '') {
      result = await reenqueue(ctx, { logIds: [only], via, force, dryRun }, ui.actor(request));
    } else if (scope === 'all') {
      const { query } = failureFilters(
        { code: field(form, 'filterCode'), since: field(form, 'filterSince') },
        ctx.clock.now(),
      );
      result = await reenqueue(
        ctx,
        {
          allFailed: true,
          ...(query.code === undefined ? {} : { code: query.code }),
          ...(query.since === undefined ? {} : { since: query.since }),
          via,
          force,
          dryRun,
        },
        ui.actor(request),
      );
    } else {
      const logIds = fields(form, 'logId');
      if (logIds.length === 0) throw new AdminError('invalid_request', 'select at least one log ID');
      result = await reenqueue(ctx, { logIds, via, force, dryRun }, ui.actor(request));
    }
    const back =
      field(form, 'back') === 'archive' && only !== ''
        ? { href: `/archives/${encodeURIComponent(only)}`, label: `log ID ${only}` }
        : { href: '/failures', label: 'failures' };
    return ui.redirectToResult(request, reply, {
      current: 'failures',
      title: dryRun ? 'Re-enqueue (dry run)' : 'Re-enqueue',
      result,
      back,
    });
  });

  /** The failed log IDs of a re-enqueue form whose code is permanent (the archive itself is bad). */
  async function permanentFailures(
    only: string,
    scope: string,
    form: Form,
  ): Promise<Array<{ logId: string; code: string }>> {
    let records: Array<{ logId: string; code: string; state: string }>;
    if (only !== '' || scope !== 'all') {
      const ids = only !== '' ? [only] : fields(form, 'logId').slice(0, 1000);
      const found = await Promise.all(ids.filter(isLogId).map((id) => ctx.state.getFailure(id)));
      records = found.filter((r) => r !== undefined);
    } else {
      const { query } = failureFilters(
        { code: field(form, 'filterCode'), since: field(form, 'filterSince') },
        ctx.clock.now(),
      );
      records = (await listFailures(ctx, { ...query, state: 'failed', limit: 10_000 })).failures;
    }
    return records
      .filter((r) => r.state === 'failed' && adviseOn(r.code).kind === 'permanent')
      .map((r) => ({ logId: r.logId, code: r.code }));
  }

  app.get<{ Params: { id: string } }>('/ui/results/:id', async (request, reply) => {
    const shown = (await ui.options.results.get(request.auth?.sessionId ?? '', request.params.id)) as
      | ShownResult
      | undefined;
    if (shown === undefined) {
      throw new AdminError('not_found', 'this result has expired or belongs to another session');
    }
    return html(
      reply,
      bulkResultPage(pageContext(request, reply, shown.current), shown.title, shown.result, shown.back),
    );
  });
}

export function failureFilters(
  input: Record<string, string | undefined>,
  now: Date,
): { filters: FailureFilterForm; query: FailureQuery } {
  const state =
    input['state'] === 'all' || (FAILURE_STATES as readonly string[]).includes(input['state'] ?? '')
      ? input['state']!
      : 'failed';
  const code = input['code'] ?? '';
  const route = input['route'] ?? '';
  const since = input['since'] ?? '';
  const logId = (input['logId'] ?? '').trim();
  const cursor = input['cursor'] ?? '';
  const sinceDate = parseSince(since, now);
  const filters = { state, code, route, since, logId };
  const query: FailureQuery = {
    state: state as FailureQuery['state'] & string,
    ...(code === '' ? {} : { code }),
    ...(route === '' ? {} : { route }),
    ...(sinceDate === undefined ? {} : { since: sinceDate }),
    ...(logId === '' ? {} : { logIdPrefix: logId }),
    ...(cursor === '' ? {} : { cursor }),
  };
  return { filters, query };
}
