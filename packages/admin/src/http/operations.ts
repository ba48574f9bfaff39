import type { FastifyInstance } from 'fastify';
import { AdminError } from '../errors.js';
import {
  controlOperation,
  createOperation,
  getOperation,
  listOperations,
  MAX_OPERATION_RATE,
} from '../operations/bulk-operations.js';
import type { OperationsContext } from '../operations/context.js';
import { parseSince } from './api.js';
import { requireOperator } from './auth.js';

const createBody = {
  type: 'object',
  required: ['kind'],
  additionalProperties: false,
  properties: {
    kind: { type: 'string', enum: ['reenqueue', 'purge'] },
    group: { type: 'string', maxLength: 64 },
    code: { type: 'string', maxLength: 64 },
    route: { type: 'string', maxLength: 16 },
    since: { type: 'string', maxLength: 64 },
    allFailed: { type: 'boolean' },
    logIds: { type: 'array', items: { type: 'string', maxLength: 200 }, maxItems: 100_000 },
    reason: { type: 'string', maxLength: 1000 },
    ratePerSecond: { type: 'integer', minimum: 0, maximum: MAX_OPERATION_RATE },
    force: { type: 'boolean' },
    encoding: { type: 'string', minLength: 1, maxLength: 64 },
    dryRun: { type: 'boolean' },
  },
} as const;

interface CreateBody {
  kind: 'reenqueue' | 'purge';
  group?: string;
  code?: string;
  route?: string;
  since?: string;
  allFailed?: boolean;
  logIds?: string[];
  reason?: string;
  ratePerSecond?: number;
  force?: boolean;
  encoding?: string;
  dryRun?: boolean;
}

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', maxLength: 64 } },
} as const;

const ACTIONS = new Set(['pause', 'resume', 'abort']);

/**
 * Stored bulk operations under /api/operations: create (answers at once, the workers run it; a
 * dry run answers the count and a sample), list, show, pause, resume, abort, and per-log-ID results.
 */
export async function operationRoutes(
  app: FastifyInstance,
  options: { ctx: OperationsContext },
): Promise<void> {
  const { ctx } = options;

  app.get<{ Querystring: { limit?: number } }>(
    '/operations',
    {
      schema: {
        querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 500 } } },
      },
    },
    (request) => listOperations(ctx, request.query.limit ?? 50),
  );

  app.post<{ Body: CreateBody }>('/operations', { schema: { body: createBody } }, async (request, reply) => {
    const operator = requireOperator(request);
    const { since, ...body } = request.body;
    const sinceAt = parseSince(since, ctx.clock.now());
    const answer = await createOperation(
      ctx,
      { ...body, ...(sinceAt === undefined ? {} : { since: sinceAt }) },
      { operator, channel: 'api' },
    );
    return reply.status('operation' in answer ? 202 : 200).send(answer);
  });

  app.get<{ Params: { id: string } }>('/operations/:id', { schema: { params: idParams } }, (request) =>
    getOperation(ctx, request.params.id),
  );

  app.get<{ Params: { id: string }; Querystring: { offset?: number; limit?: number } }>(
    '/operations/:id/results',
    {
      schema: {
        params: idParams,
        querystring: {
          type: 'object',
          properties: {
            offset: { type: 'integer', minimum: 0 },
            limit: { type: 'integer', minimum: 1, maximum: 1000 },
          },
        },
      },
    },
    async (request) => {
      await getOperation(ctx, request.params.id);
      const offset = request.query.offset ?? 0;
      const limit = request.query.limit ?? 100;
      const results = await ctx.operations?.store.results(request.params.id, { offset, limit });
      return { results: results ?? [], offset };
    },
  );

  app.post<{ Params: { id: string; action: string }; Body: { reason?: string } | undefined }>(
    '/operations/:id/:action',
    {
      schema: {
        params: {
          ...idParams,
          properties: { ...idParams.properties, action: { type: 'string', maxLength: 16 } },
        },
      },
    },
    async (request) => {
      const operator = requireOperator(request);
      const { id, action } = request.params;
      if (!ACTIONS.has(action))
        throw new AdminError('not_found', `no action ${action}: pause, resume or abort`);
      return controlOperation(
        ctx,
        id,
        action as 'pause' | 'resume' | 'abort',
        { operator, channel: 'api' },
        request.body?.reason ?? '',
      );
    },
  );
}
