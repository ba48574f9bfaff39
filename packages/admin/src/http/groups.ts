import type { FastifyInstance } from 'fastify';
import type { OperationsContext } from '../operations/context.js';
import { getGroup, listGroupLogIds, listGroups, MAX_GROUP_LIMIT } from '../operations/groups.js';

const pageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: MAX_GROUP_LIMIT },
    cursor: { type: 'string', maxLength: 512 },
    code: { type: 'string', maxLength: 64 },
  },
} as const;

const fingerprintParams = {
  type: 'object',
  required: ['fingerprint'],
  properties: { fingerprint: { type: 'string', maxLength: 64 } },
} as const;

interface PageQuery {
  limit?: number;
  cursor?: string;
  code?: string;
}

/**
 * Failure groups under /api/failures/groups: the list (one page), one group, one group's log IDs
 * (paged). Read-only: each answer is a page of the index, never every record.
 */
export async function groupRoutes(app: FastifyInstance, options: { ctx: OperationsContext }): Promise<void> {
  const { ctx } = options;
  app.get<{ Querystring: PageQuery }>('/failures/groups', { schema: { querystring: pageQuery } }, (request) =>
    listGroups(ctx, request.query),
  );
  app.get<{ Params: { fingerprint: string } }>(
    '/failures/groups/:fingerprint',
    { schema: { params: fingerprintParams } },
    (request) => getGroup(ctx, request.params.fingerprint),
  );
  app.get<{ Params: { fingerprint: string }; Querystring: PageQuery }>(
    '/failures/groups/:fingerprint/log-ids',
    { schema: { params: fingerprintParams, querystring: pageQuery } },
    (request) => {
      const { limit, cursor } = request.query;
      return listGroupLogIds(ctx, request.params.fingerprint, {
        ...(limit === undefined ? {} : { limit }),
        ...(cursor === undefined ? {} : { cursor }),
      });
    },
  );
}
