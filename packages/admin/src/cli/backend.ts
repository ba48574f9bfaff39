import { userInfo } from 'node:os';
import { formatConfigErrors, parseDuration, type Route } from '@logzip/core';
import type { TriggerMigrationResult } from '@logzip/core/aws-trigger';
import type { Operation } from '@logzip/core/operations';
import type { FailureIndex, IndexCounts } from '@logzip/core/state';
import type { Redis } from 'ioredis';
import { readAdminConfig } from '../config.js';
import type { BulkResult } from '../operations/bulk.js';
import {
  type CreateOperationAnswer,
  controlOperation,
  createOperation,
  getOperation,
  listOperations,
  type OperationRequest,
} from '../operations/bulk-operations.js';
import type { Actor, OperationsContext } from '../operations/context.js';
import { countFailures, type FailureList, listFailures, parseFailureState } from '../operations/failures.js';
import { type GroupList, listGroups } from '../operations/groups.js';
import { getHealth, type HealthReport } from '../operations/health.js';
import { type MigrateRouteInput, migrateRoute } from '../operations/migrate.js';
// purge, reenqueue and route load the AWS and BullMQ adapters: imported when called, so a
// `logzip failures` process does not pay for them at startup.
import type { RouteStatus, SwitchRouteResult } from '../operations/route.js';
import { type ArchiveStatus, getArchiveStatus } from '../operations/status.js';
import { EXIT, ExitError } from './exit.js';
import type { CliIo } from './io.js';

/** What a command asks for; the same whether it goes through the admin API or straight to Redis/storage/AWS. */
export interface ReenqueueRequest {
  logIds: string[];
  key?: string;
  allFailed?: boolean;
  code?: string;
  /** As typed: `24h` or an ISO time. */
  since?: string;
  via: 'queue' | 'lambda';
  force: boolean;
  encoding?: string;
  dryRun: boolean;
}

export interface FailuresRequest {
  state?: string;
  code?: string;
  route?: string;
  since?: string;
  /** A log-ID prefix. */
  logId?: string;
  limit?: number;
  cursor?: string;
}

export interface GroupsRequest {
  code?: string;
  limit?: number;
  cursor?: string;
}

/** An operation as the CLI asks for it (`since` as typed). */
export type OperationCliRequest = Omit<OperationRequest, 'since'> & { since?: string };

type Progress = (done: number, total: number) => void;

export interface Backend {
  /** `api` through LOGZIP_ADMIN_URL, `direct` otherwise. */
  readonly kind: 'api' | 'direct';
  readonly operator: string;
  routeStatus(): Promise<RouteStatus>;
  switchRoute(to: Route, reason: string): Promise<SwitchRouteResult>;
  /** `logzip route migrate`: only on the direct path (it needs the admin's AWS configuration). */
  migrateRoute(input: MigrateRouteInput): Promise<TriggerMigrationResult>;
  failures(request: FailuresRequest): Promise<FailureList>;
  groups(request: GroupsRequest): Promise<GroupList>;
  createOperation(request: OperationCliRequest): Promise<CreateOperationAnswer>;
  /** undefined when there is no such operation. */
  operation(id: string): Promise<Operation | undefined>;
  operations(limit: number): Promise<{ operations: Operation[] }>;
  controlOperation(id: string, action: 'pause' | 'resume' | 'abort', reason: string): Promise<Operation>;
  /** Failure counts by state and by code. */
  failureCounts(): Promise<IndexCounts>;
  /** Workers' heartbeats, the oldest waiting job, the last sweep, the last extraction per route. */
  health(): Promise<HealthReport>;
  /** undefined when logzip knows nothing about the log ID. */
  archiveStatus(logId: string): Promise<ArchiveStatus | undefined>;
  reenqueue(request: ReenqueueRequest, onProgress: Progress): Promise<BulkResult>;
  purge(logIds: string[], dryRun: boolean, onProgress: Progress): Promise<BulkResult>;
  close(): Promise<void>;
}

/** LOGZIP_OPERATOR, else the OS user: the name the audit log records for CLI actions. */
export function operatorName(env: Record<string, string | undefined>): string {
  const named = env['LOGZIP_OPERATOR']?.trim();
  if (named) return named;
  try {
    return userInfo().username || env['USER'] || 'unknown';
  } catch {
    return env['USER'] || 'unknown';
  }
}

/** `24h`, `90m` or an ISO time → a Date before now. */
export function parseSinceArg(text: string, now: Date): Date {
  const ms = parseDuration(text);
  if (ms !== undefined) return new Date(now.getTime() - ms);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(Date.parse(text))) return new Date(Date.parse(text));
  throw new ExitError(EXIT.usage, `--since "${text}" is neither a duration like 24h nor an ISO time`);
}

/** Straight to Redis, storage and AWS with the same operations the admin service runs. */
export async function openDirectBackend(io: CliIo): Promise<Backend> {
  const result = readAdminConfig(io.env, { requireToken: false });
  if (result.config === undefined) throw new ExitError(EXIT.config, formatConfigErrors(result.errors));
  const config = result.config;
  const unreachable = (error: unknown) =>
    new ExitError(EXIT.failed, error instanceof Error ? error.message : String(error));
  // The failure views need only the index: they open one Redis connection and load none of the
  // queue, storage or AWS code (a `logzip failures` process stays quick).
  let views: Promise<{ index: FailureIndex; redis: Redis }> | undefined;
  const openViews = () => {
    views ??= (async () => {
      const [{ createRedis, waitForRedis }, { createFailureIndexFromConfig }] = await Promise.all([
        import('@logzip/core/redis'),
        import('@logzip/core/redis-index'),
      ]);
      const redis = createRedis(config.redisUrl);
      try {
        await waitForRedis(redis, 5_000);
      } catch (error) {
        redis.disconnect();
        throw unreachable(error);
      }
      return { redis, index: createFailureIndexFromConfig(config, redis) };
    })();
    return views;
  };
  let full: Promise<OperationsContext & { close(): Promise<void> }> | undefined;
  const open = () => {
    full ??= (async () => {
      const [{ createLogger }, { createAdminContext }] = await Promise.all([
        import('@logzip/core/logger'),
        import('../context.js'),
      ]);
      const logger = createLogger({ name: 'logzip', level: io.env['LOG_LEVEL'] ?? 'warn', fd: 2 });
      return createAdminContext(config, { logger, redisTimeoutMs: 5_000 }).catch((error: unknown) => {
        throw unreachable(error);
      });
    })();
    return full;
  };
  const operator = operatorName(io.env);
  const actor: Actor = { operator, channel: 'cli' };
  return {
    kind: 'direct',
    operator,
    routeStatus: async () => (await import('../operations/route.js')).getRouteStatus(await open()),
    switchRoute: async (to, reason) =>
      (await import('../operations/route.js')).switchRoute(await open(), { to, reason }, actor),
    migrateRoute: async (input) => {
      const { createTriggerMigration } = await import('../context.js');
      const migrate = createTriggerMigration(config);
      if (migrate === undefined) {
        throw new ExitError(
          EXIT.config,
          'logzip route migrate needs LOGZIP_LAMBDA_FUNCTION and LOGZIP_TRIGGER_QUEUE_URL (the queue entered or retired)',
        );
      }
      return migrateRoute(await open(), input, actor, migrate);
    },
    failures: async (request) => {
      const state = parseFailureState(request.state);
      return listFailures(await openViews(), {
        ...(state === undefined ? {} : { state }),
        ...(request.code === undefined ? {} : { code: request.code }),
        ...(request.route === undefined ? {} : { route: request.route }),
        ...(request.since === undefined ? {} : { since: parseSinceArg(request.since, new Date()) }),
        ...(request.logId === undefined ? {} : { logIdPrefix: request.logId }),
        ...(request.limit === undefined ? {} : { limit: request.limit }),
        ...(request.cursor === undefined ? {} : { cursor: request.cursor }),
      });
    },
    groups: async (request) => listGroups(await open(), request),
    createOperation: async ({ since, ...request }) =>
      createOperation(
        await open(),
        { ...request, ...(since === undefined ? {} : { since: parseSinceArg(since, new Date()) }) },
        actor,
      ),
    operation: async (id) => {
      try {
        return await getOperation(await open(), id);
      } catch (error) {
        if (error instanceof Error && 'code' in error && error.code === 'not_found') return undefined;
        throw error;
      }
    },
    operations: async (limit) => listOperations(await open(), limit),
    controlOperation: async (id, action, reason) => controlOperation(await open(), id, action, actor, reason),
    failureCounts: async () => countFailures(await openViews()),
    health: async () => getHealth(await open()),
    archiveStatus: async (logId) => {
      const status = await getArchiveStatus(await open(), logId);
      return status.found ? status : undefined;
    },
    reenqueue: async (request, onProgress) => {
      const ctx = await open();
      const { reenqueue } = await import('../operations/reenqueue.js');
      return reenqueue(
        ctx,
        {
          logIds: request.logIds,
          ...(request.key === undefined ? {} : { key: request.key }),
          ...(request.allFailed ? { allFailed: true } : {}),
          ...(request.code === undefined ? {} : { code: request.code }),
          ...(request.since === undefined ? {} : { since: parseSinceArg(request.since, new Date()) }),
          via: request.via,
          force: request.force,
          ...(request.encoding === undefined ? {} : { encoding: request.encoding }),
          dryRun: request.dryRun,
        },
        actor,
        onProgress,
      );
    },
    purge: async (logIds, dryRun, onProgress) =>
      (await import('../operations/purge.js')).purge(await open(), { logIds, dryRun }, actor, onProgress),
    close: async () => {
      const light = await views?.catch(() => undefined);
      await light?.redis.quit().catch(() => light.redis.disconnect());
      await (await full?.catch(() => undefined))?.close();
    },
  };
}

/** An API answer that was an error: `{"error":{"code","message"}}` and its status. */
export class ApiCallError extends Error {
  readonly status: number;
  readonly code: string;
  readonly body: unknown;
  constructor(status: number, code: string, message: string, body: unknown) {
    super(message);
    this.name = 'ApiCallError';
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** The CLI's exit code for an API error: 2 not found, 64 a refused request, 78 a refused token, else 1. */
export function exitCodeOfApiError(error: ApiCallError): number {
  if (error.status === 404) return EXIT.rejected;
  if (error.status === 401 || error.status === 403) return EXIT.config;
  if (error.status === 400) return EXIT.usage;
  return EXIT.failed;
}

const API_CHUNK = 200;

/** Through the admin service's JSON API, with the same auth and audit as the UI. */
export function openApiBackend(io: CliIo, baseUrl: string): Backend {
  const token = io.env['LOGZIP_ADMIN_TOKEN'];
  if (token === undefined || token.length < 32) {
    throw new ExitError(
      EXIT.config,
      'LOGZIP_ADMIN_URL is set: LOGZIP_ADMIN_TOKEN (at least 32 characters) must be set too',
    );
  }
  const operator = operatorName(io.env);
  const base = baseUrl.replace(/\/+$/, '');

  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          'x-logzip-operator': operator,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(120_000),
      });
    } catch (error) {
      throw new ExitError(
        EXIT.failed,
        `the admin service at ${base} could not be reached (${error instanceof Error ? error.message : String(error)})`,
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new ExitError(
        EXIT.failed,
        `the admin service answered ${response.status} with a body that is not JSON`,
      );
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiCallError(
        response.status,
        error?.code ?? 'internal',
        error?.message ?? `HTTP ${response.status}`,
        parsed,
      );
    }
    return parsed as T;
  }

  const chunked = async (
    ids: string[],
    onProgress: Progress,
    send: (chunk: string[]) => Promise<BulkResult>,
  ): Promise<BulkResult> => {
    const results: BulkResult['results'] = [];
    onProgress(0, ids.length);
    let dryRun = false;
    for (let i = 0; i < ids.length; i += API_CHUNK) {
      const answer = await send(ids.slice(i, i + API_CHUNK));
      results.push(...answer.results);
      dryRun = answer.summary.dryRun;
      onProgress(results.length, ids.length);
    }
    const { summarize } = await import('../operations/bulk.js');
    return summarize(results, dryRun);
  };

  return {
    kind: 'api',
    operator,
    routeStatus: () => call('GET', '/api/route'),
    switchRoute: async (to, reason) => {
      try {
        return await call<SwitchRouteResult>('POST', '/api/route', { route: to, reason });
      } catch (error) {
        // A failed switch is an answer too: 409 carries the result beside the error.
        const result = (
          error instanceof ApiCallError ? (error.body as { result?: SwitchRouteResult }) : undefined
        )?.result;
        if (result !== undefined) return result;
        throw error;
      }
    },
    migrateRoute: async () => {
      // A deploy step, with the deployment's AWS credentials: not an action of the admin API.
      throw new ExitError(
        EXIT.config,
        'logzip route migrate runs with the admin configuration (LOGZIP_INCOMING_BUCKET, LOGZIP_LAMBDA_FUNCTION, LOGZIP_TRIGGER_QUEUE_URL, REDIS_URL) and AWS credentials, not through LOGZIP_ADMIN_URL: unset it',
      );
    },
    failures: (request) => {
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(request)) if (v !== undefined) query.set(k, String(v));
      const qs = query.toString();
      return call('GET', `/api/failures${qs === '' ? '' : `?${qs}`}`);
    },
    groups: (request) => {
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(request)) if (v !== undefined) query.set(k, String(v));
      const qs = query.toString();
      return call('GET', `/api/failures/groups${qs === '' ? '' : `?${qs}`}`);
    },
    createOperation: (request) => call('POST', '/api/operations', request),
    operation: async (id) => {
      try {
        return await call<Operation>('GET', `/api/operations/${encodeURIComponent(id)}`);
      } catch (error) {
        if (error instanceof ApiCallError && error.status === 404 && error.code === 'not_found')
          return undefined;
        throw error;
      }
    },
    operations: (limit) => call('GET', `/api/operations?limit=${limit}`),
    controlOperation: (id, action, reason) =>
      call('POST', `/api/operations/${encodeURIComponent(id)}/${action}`, { reason }),
    failureCounts: () => call('GET', '/api/failures/counts'),
    health: () => call('GET', '/api/health'),
    archiveStatus: async (logId) => {
      try {
        return await call<ArchiveStatus>('GET', `/api/archives/${encodeURIComponent(logId)}`);
      } catch (error) {
        if (error instanceof ApiCallError && error.status === 404 && error.code === 'not_found')
          return undefined;
        throw error;
      }
    },
    reenqueue: async (request, onProgress) => {
      const options = {
        via: request.via,
        force: request.force,
        dryRun: request.dryRun,
        ...(request.key === undefined ? {} : { key: request.key }),
        ...(request.encoding === undefined ? {} : { encoding: request.encoding }),
      };
      if (
        request.allFailed ||
        request.code !== undefined ||
        request.since !== undefined ||
        request.key !== undefined
      ) {
        onProgress(0, 1);
        const answer = await call<BulkResult>('POST', '/api/reenqueue', {
          ...options,
          ...(request.logIds.length === 0 ? {} : { logIds: request.logIds }),
          ...(request.allFailed ? { allFailed: true } : {}),
          ...(request.code === undefined ? {} : { code: request.code }),
          ...(request.since === undefined ? {} : { since: request.since }),
        });
        onProgress(1, 1);
        return answer;
      }
      return chunked(request.logIds, onProgress, (logIds) =>
        call('POST', '/api/reenqueue', { ...options, logIds }),
      );
    },
    purge: (logIds, dryRun, onProgress) =>
      chunked(logIds, onProgress, (chunk) => call('POST', '/api/purge', { logIds: chunk, dryRun })),
    close: async () => {},
  };
}

/** Through the admin API when LOGZIP_ADMIN_URL is set, directly otherwise. */
export async function openBackend(io: CliIo): Promise<Backend> {
  const url = io.env['LOGZIP_ADMIN_URL'];
  if (url !== undefined && url !== '') {
    if (!URL.canParse(url)) throw new ExitError(EXIT.config, `LOGZIP_ADMIN_URL: "${url}" is not a URL`);
    return openApiBackend(io, url);
  }
  return openDirectBackend(io);
}
