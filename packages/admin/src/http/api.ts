import { parseDuration, type Route } from '@logzip/core';
import type { FastifyInstance } from 'fastify';
import { AdminError, errorBody } from '../errors.js';
import type { Actor, OperationsContext } from '../operations/context.js';
import {
  countFailures,
  DEFAULT_FAILURE_LIMIT,
  getIndexStatus,
  listFailures,
  MAX_FAILURE_LIMIT,
  parseFailureState,
} from '../operations/failures.js';
import { getHealth } from '../operations/health.js';
import { getOverview } from '../operations/overview.js';
import { purge } from '../operations/purge.js';
import { type ReenqueueInput, reenqueue } from '../operations/reenqueue.js';
import { getRouteStatus, switchRoute } from '../operations/route.js';
import { getArchiveStatus } from '../operations/status.js';
import { requireOperator } from './auth.js';
import type { Sessions } from './sessions.js';

export interface ApiOptions {
  ctx: OperationsContext;
  sessions: Sessions;
}

/** `24h`, `90m`, `7d` (before now) or an ISO timestamp. */
export function parseSince(text: string | undefined, now: Date): Date | undefined {
  if (text === undefined || text === '') return undefined;
  const ms = parseDuration(text);
  if (ms !== undefined) return new Date(now.getTime() - ms);
  const at = Date.parse(text);
  if (!Number.isNaN(at) && /^\d{4}-\d{2}-\d{2}/.test(text)) return new Date(at);
  throw new AdminError('invalid_request', `since "${text}" is neither a duration like 24h nor an ISO time`);
}

const logIdList = { type: 'array', items: { type: 'string', maxLength: 200 }, maxItems: 100_000 } as const;

const routeBody = {
  type: 'object',
  required: ['route'],
  additionalProperties: false,
  properties: {
    route: { type: 'string', enum: ['lambda', 'queue'] },
    reason: { type: 'string', maxLength: 1000 },
  },
} as const;

const reenqueueBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    logIds: logIdList,
    key: { type: 'string', minLength: 1, maxLength: 1024 },
    bucket: { type: 'string', minLength: 1, maxLength: 255 },
    allFailed: { type: 'boolean' },
    code: { type: 'string', maxLength: 64 },
    since: { type: 'string', maxLength: 64 },
    via: { type: 'string', enum: ['queue', 'lambda'] },
    force: { type: 'boolean' },
    encoding: { type: 'string', minLength: 1, maxLength: 64 },
    dryRun: { type: 'boolean' },
  },
} as const;

const purgeBody = {
  type: 'object',
  required: ['logIds'],
  additionalProperties: false,
  properties: { logIds: { ...logIdList, minItems: 1 }, dryRun: { type: 'boolean' } },
} as const;

const failuresQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    state: { type: 'string', maxLength: 16 },
    code: { type: 'string', maxLength: 64 },
    route: { type: 'string', maxLength: 16 },
    since: { type: 'string', maxLength: 64 },
    logId: { type: 'string', maxLength: 64 },
    limit: { type: 'integer', minimum: 1, maximum: MAX_FAILURE_LIMIT },
    cursor: { type: 'string', maxLength: 512 },
  },
} as const;

const auditQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: MAX_FAILURE_LIMIT },
    cursor: { type: 'string', maxLength: 512 },
  },
} as const;

interface FailuresQuerystring {
  state?: string;
  code?: string;
  route?: string;
  since?: string;
  logId?: string;
  limit?: number;
  cursor?: string;
}

const logIdParams = {
  type: 'object',
  required: ['logId'],
  properties: { logId: { type: 'string', maxLength: 200 } },
} as const;

interface ReenqueueBody {
  logIds?: string[];
  key?: string;
  bucket?: string;
  allFailed?: boolean;
  code?: string;
  since?: string;
  via?: 'queue' | 'lambda';
  force?: boolean;
  encoding?: string;
  dryRun?: boolean;
}

/**
 * The JSON API under /api: everything the UI does, with the same operations (and so the same
 * behaviour and audit) as the CLI's direct path. Bearer token only; changes need X-Logzip-Operator.
 */
export async function apiRoutes(app: FastifyInstance, options: ApiOptions): Promise<void> {
  const { ctx } = options;
  const actor = (operator: string): Actor => ({ operator, channel: 'api' });
  // Route-level auth: every route of this plugin is bearer-only, however its path was spelled.
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, auth: 'api' };
  });

  app.get('/route', async () => getRouteStatus(ctx));

  app.post<{ Body: { route: Route; reason?: string } }>(
    '/route',
    { schema: { body: routeBody } },
    async (request, reply) => {
      const operator = requireOperator(request);
      const result = await switchRoute(
        ctx,
        { to: request.body.route, reason: request.body.reason ?? '' },
        actor(operator),
      );
      if (!result.ok) return reply.status(409).send({ ...errorBody('conflict', result.message), result });
      return result;
    },
  );

  app.get('/overview', async () => getOverview(ctx));

  app.get('/health', async () => getHealth(ctx));

  app.get<{ Querystring: FailuresQuerystring }>(
    '/failures',
    { schema: { querystring: failuresQuery } },
    async (request) => {
      const q = request.query;
      const state = parseFailureState(q.state);
      const since = parseSince(q.since, ctx.clock.now());
      return listFailures(ctx, {
        ...(state === undefined ? {} : { state }),
        ...(q.code === undefined || q.code === '' ? {} : { code: q.code }),
        ...(q.route === undefined || q.route === '' ? {} : { route: q.route }),
        ...(since === undefined ? {} : { since }),
        ...(q.logId === undefined || q.logId === '' ? {} : { logIdPrefix: q.logId }),
        ...(q.limit === undefined ? {} : { limit: q.limit }),
        ...(q.cursor === undefined || q.cursor === '' ? {} : { cursor: q.cursor }),
      });
    },
  );

  app.get('/failures/counts', async () => countFailures(ctx));

  app.get('/index', async () => getIndexStatus(ctx));

  app.get<{ Params: { logId: string } }>(
    '/archives/:logId',
    { schema: { params: logIdParams } },
    async (request) => {
      const status = await getArchiveStatus(ctx, request.params.logId);
      if (!status.found)
        throw new AdminError('not_found', `logzip knows nothing about log ID ${request.params.logId}`);
      return status;
    },
  );

  app.post<{ Body: ReenqueueBody }>('/reenqueue', { schema: { body: reenqueueBody } }, async (request) => {
    const operator = requireOperator(request);
    const body = request.body ?? {};
    const since = parseSince(body.since, ctx.clock.now());
    const input: ReenqueueInput = {
      ...(body.logIds === undefined ? {} : { logIds: body.logIds }),
      ...(body.key === undefined ? {} : { key: body.key }),
      ...(body.bucket === undefined ? {} : { bucket: body.bucket }),
      ...(body.allFailed === undefined ? {} : { allFailed: body.allFailed }),
      ...(body.code === undefined ? {} : { code: body.code }),
      ...(since === undefined ? {} : { since }),
      via: body.via ?? 'queue',
      force: body.force ?? false,
      ...(body.encoding === undefined ? {} : { encoding: body.encoding }),
      dryRun: body.dryRun ?? false,
    };
    return reenqueue(ctx, input, actor(operator));
  });

  app.post<{ Body: { logIds: string[]; dryRun?: boolean } }>(
    '/purge',
    { schema: { body: purgeBody } },
    async (request) => {
      const operator = requireOperator(request);
      return purge(
        ctx,
        { logIds: request.body.logIds, dryRun: request.body.dryRun ?? false },
        actor(operator),
      );
    },
  );

  // "Sign out everywhere": every UI session ends (after a lost laptop, or with a token rotation).
  app.post('/sessions/revoke', async (request) => {
    const operator = requireOperator(request);
    const revoked = await options.sessions.revokeAll();
    await ctx.audit.record({
      operator,
      action: 'sessions_revoke',
      outcome: 'ok',
      details: { channel: 'api', revoked },
    });
    return { revoked };
  });

  app.get<{ Querystring: { limit?: number; cursor?: string } }>(
    '/audit',
    { schema: { querystring: auditQuery } },
    async (request) =>
      ctx.audit.page({
        limit: request.query.limit ?? DEFAULT_FAILURE_LIMIT,
        ...(request.query.cursor === undefined || request.query.cursor === ''
          ? {}
          : { cursor: request.query.cursor }),
      }),
  );
}
