import type { FailureGroup } from '@logzip/core/state';
import { AdminError } from '../errors.js';
import type { OperationsContext } from './context.js';

/** `{"groups":[…],"total"}` (+ `nextCursor` when more exist): what `failures --groups` prints. */
export interface GroupList {
  groups: FailureGroup[];
  total: number;
  nextCursor?: string;
}

/** One group's log IDs, newest first. */
export interface GroupLogIds {
  fingerprint: string;
  logIds: string[];
  total: number;
  nextCursor?: string;
}

export const DEFAULT_GROUP_LIMIT = 50;
export const MAX_GROUP_LIMIT = 500;

const FINGERPRINT_RE = /^[0-9a-f]{16}$/;

function groupsOf(ctx: OperationsContext) {
  if (ctx.groups === undefined) throw new AdminError('conflict', 'failure groups need the Redis index');
  return ctx.groups;
}

function limitOf(limit: number | undefined): number {
  const value = limit ?? DEFAULT_GROUP_LIMIT;
  if (!Number.isInteger(value) || value < 1 || value > MAX_GROUP_LIMIT) {
    throw new AdminError('invalid_request', `limit must be an integer from 1 to ${MAX_GROUP_LIMIT}`);
  }
  return value;
}

export function assertFingerprint(fingerprint: string): void {
  if (!FINGERPRINT_RE.test(fingerprint))
    throw new AdminError('invalid_request', `"${fingerprint}" is not a group fingerprint (16 hex digits)`);
}

/** Failure groups with members, the most recently failed first: one page, from the index. */
export async function listGroups(
  ctx: OperationsContext,
  query: { limit?: number; cursor?: string; code?: string } = {},
): Promise<GroupList> {
  const page = await groupsOf(ctx).list({
    limit: limitOf(query.limit),
    ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
    ...(query.code === undefined ? {} : { code: query.code }),
  });
  return {
    groups: page.items,
    total: page.total,
    ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
  };
}

/** One group (not_found when it has no failed member). */
export async function getGroup(ctx: OperationsContext, fingerprint: string): Promise<FailureGroup> {
  assertFingerprint(fingerprint);
  const group = await groupsOf(ctx).get(fingerprint);
  if (group === undefined) throw new AdminError('not_found', `no open failure group ${fingerprint}`);
  return group;
}

/** A page of one group's log IDs. */
export async function listGroupLogIds(
  ctx: OperationsContext,
  fingerprint: string,
  query: { limit?: number; cursor?: string } = {},
): Promise<GroupLogIds> {
  assertFingerprint(fingerprint);
  const page = await groupsOf(ctx).members(fingerprint, {
    limit: limitOf(query.limit),
    ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
  });
  return {
    fingerprint,
    logIds: page.items,
    total: page.total,
    ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
  };
}
