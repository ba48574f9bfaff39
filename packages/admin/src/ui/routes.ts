import fastifyFormbody from '@fastify/formbody';
import { FAILURE_STATES, type Route } from '@logzip/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ResultStore } from '../adapters/result-store.js';
import { AdminError } from '../errors.js';
import { parseSince } from '../http/api.js';
import { isOperatorName, requireOperator, safeNext, tokenMatches } from '../http/auth.js';
import { csrfTokenFor, type Sessions } from '../http/sessions.js';
import type { BulkResult } from '../operations/bulk.js';
import type { Actor, OperationsContext } from '../operations/context.js';
import { adviseOn } from '../operations/failure-advice.js';
import {
  DEFAULT_FAILURE_LIMIT,
  type FailureQuery,
  listFailures,
  readFailureRecords,
} from '../operations/failures.js';
import { isLogId } from '../operations/keys.js';
import { getOverview } from '../operations/overview.js';
import { purge } from '../operations/purge.js';
import { reenqueue } from '../operations/reenqueue.js';
import { getRouteStatus, switchRoute } from '../operations/route.js';
import { getArchiveStatus } from '../operations/status.js';
import type { Flash, PageContext } from './layout.js';
import {
  archivePage,
  archiveSearchPage,
  auditPage,
  bulkResultPage,
  confirmPermanentPage,
  dashboardPage,
  type FailureFilterForm,
  failuresPage,
  loginPage,
  purgeReviewPage,
  routeReviewPage,
} from './pages.js';
import { STYLESHEET } from './styles.js';

export interface UiOptions {
  ctx: OperationsContext;
  token: string;
  sessions: Sessions;
  /** Results of actions, shown by GET /ui/results/:id after the action's redirect. */
  results: ResultStore;
  /** Login attempts per client address and window. */
  loginRateLimit: { max: number; timeWindowMs: number };
}

const FLASH_COOKIE = 'logzip_flash';

type Form = Record<string, string | string[] | undefined>;

function field(form: Form, name: string): string {
  const value = form[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() ?? '';
}

function fields(form: Form, name: string): string[] {
  const value = form[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => v.trim()).filter((v) => v !== '');
}

/** The server-rendered UI: every form posts with a CSRF token; pages use the same operations as the API. */
export async function uiRoutes(app: FastifyInstance, options: UiOptions): Promise<void> {
  const { ctx } = options;
  // Forms are parsed here only: the JSON API (another plugin) never reads a form body.
  await app.register(fastifyFormbody, { bodyLimit: 256 * 1024 });
  const csrf = { preHandler: app.csrfProtection };
  const actor = (request: FastifyRequest): Actor => ({ operator: requireOperator(request), channel: 'ui' });

  function pageContext(
    request: FastifyRequest,
    reply: FastifyReply,
    current?: PageContext['current'],
  ): PageContext {
    const flash = readFlash(request, reply);
    return {
      csrf: csrfTokenFor(request, reply),
      now: ctx.clock.now(),
      ...(request.auth?.operator == null ? {} : { operator: request.auth.operator }),
      ...(current === undefined ? {} : { current }),
      ...(flash === undefined ? {} : { flash }),
    };
  }

  function setFlash(reply: FastifyReply, flash: Flash): void {
    reply.setCookie(FLASH_COOKIE, Buffer.from(JSON.stringify(flash)).toString('base64url'), {
      signed: true,
      httpOnly: true,
      sameSite: 'strict',
      secure: options.sessions.secure,
      path: '/',
      maxAge: 120,
    });
  }

  function readFlash(request: FastifyRequest, reply: FastifyReply): Flash | undefined {
    const cookie = request.cookies[FLASH_COOKIE];
    if (cookie === undefined) return undefined;
    reply.clearCookie(FLASH_COOKIE, { path: '/' });
    const unsigned = request.unsignCookie(cookie);
    if (!unsigned.valid || unsigned.value === null) return undefined;
    try {
      const flash = JSON.parse(Buffer.from(unsigned.value, 'base64url').toString('utf8')) as Flash;
      return typeof flash.text === 'string' ? flash : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Post/redirect/get: the action's result is kept, and the browser is sent to a page showing it,
   * so a reload (or Back then Forward) shows the result again instead of repeating the action.
   */
  async function redirectToResult(request: FastifyRequest, reply: FastifyReply, shown: ShownResult) {
    const id = await options.results.put(request.auth?.sessionId ?? '', shown);
    return reply.redirect(`/ui/results/${id}`, 303);
  }

  const html = (reply: FastifyReply, body: string, status = 200) =>
    reply.status(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);

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
    const result = await switchRoute(ctx, { to, reason }, actor(request));
    setFlash(reply, { kind: result.ok ? 'success' : 'danger', text: result.message });
    return reply.redirect('/', 303);
  });

  app.get<{ Querystring: Record<string, string | undefined> }>('/failures', async (request, reply) => {
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
      result = await reenqueue(ctx, { logIds: [only], via, force, dryRun }, actor(request));
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
        actor(request),
      );
    } else {
      const logIds = fields(form, 'logId');
      if (logIds.length === 0) throw new AdminError('invalid_request', 'select at least one log ID');
      result = await reenqueue(ctx, { logIds, via, force, dryRun }, actor(request));
    }
    const back =
      field(form, 'back') === 'archive' && only !== ''
        ? { href: `/archives/${encodeURIComponent(only)}`, label: `log ID ${only}` }
        : { href: '/failures', label: 'failures' };
    return redirectToResult(request, reply, {
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
    const shown = (await options.results.get(request.auth?.sessionId ?? '', request.params.id)) as
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
    const preview = await purge(ctx, { logIds: [logId], dryRun: true }, actor(request));
    return html(reply, purgeReviewPage(pageContext(request, reply, 'archives'), logId, preview));
  });

  app.post<{ Body: Form }>('/ui/purge', csrf, async (request, reply) => {
    const form = request.body ?? {};
    const logId = field(form, 'logId');
    if (field(form, 'confirm') !== logId) {
      throw new AdminError('invalid_request', 'type the log ID exactly to confirm the purge');
    }
    const result = await purge(ctx, { logIds: [logId] }, actor(request));
    return redirectToResult(request, reply, {
      current: 'archives',
      title: 'Purge',
      result,
      back: { href: '/', label: 'dashboard' },
    });
  });

  app.get<{ Querystring: { cursor?: string } }>('/audit', async (request, reply) => {
    const cursor = request.query.cursor === '' ? undefined : request.query.cursor;
    const audit = await ctx.audit.page({
      limit: DEFAULT_FAILURE_LIMIT,
      ...(cursor === undefined ? {} : { cursor }),
    });
    return html(reply, auditPage(pageContext(request, reply, 'audit'), audit, cursor === undefined));
  });
}

/** What a result page shows, kept between an action and the page (post/redirect/get). */
interface ShownResult {
  current: 'failures' | 'archives';
  title: string;
  result: BulkResult;
  back: { href: string; label: string };
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

function failureFilters(
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
