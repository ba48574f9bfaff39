import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyRateLimit from '@fastify/rate-limit';
import { DEFAULT_KEYS, type RedisKeys } from '@logzip/core/bullmq';
import type { Queue } from 'bullmq';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import { createMemoryResultStore, createRedisResultStore } from './adapters/result-store.js';
import {
  createMemorySessionStore,
  createRedisSessionStore,
  type SessionStore,
} from './adapters/session-store.js';
import { CLIENT_LIMIT_DEFAULTS } from './config.js';
import { AdminError, errorBody } from './errors.js';
import { apiRoutes } from './http/api.js';
import { derivedSecret, registerAuth } from './http/auth.js';
import { answerClientError, registerErrorHandling } from './http/errors.js';
import { groupRoutes } from './http/groups.js';
import { type AdminMetrics, registerMetrics } from './http/metrics.js';
import { operationRoutes } from './http/operations.js';
import { QUEUES_PATH, queuesBoard } from './http/queues.js';
import { withRequestRedaction } from './http/request-log.js';
import { csrfBinding, csrfTokenFor, Sessions } from './http/sessions.js';
import { type ClientLimits, registerSlowClientLimits, serverTimeouts } from './http/slow-clients.js';
import { type IngestOptions, ingestRoutes } from './ingest/index.js';
import type { OperationsContext } from './operations/context.js';
import { errorPage } from './ui/pages.js';
import { uiRoutes } from './ui/routes.js';

export interface RateLimitSetting {
  max: number;
  timeWindowMs: number;
}

export interface BuildAppOptions {
  /** The operations' clients (createAdminContext, or hand-built in tests). */
  ctx: OperationsContext;
  /** LOGZIP_ADMIN_TOKEN: at least 32 characters, or buildApp refuses. */
  adminToken: string;
  /** Redis for the rate limits (shared by every instance); without it they are per process. */
  redis?: Redis;
  /** Queues bull-board shows at /queues (read-only); none: no board. */
  queues?: Queue[];
  /** LOGZIP_PUBLIC_URL: an https URL makes every cookie Secure. */
  publicUrl?: string;
  /** A pino logger (createLogger), or false for none. */
  logger?: FastifyBaseLogger | false;
  /** Login attempts per address (default 10 per minute). */
  loginRateLimit?: RateLimitSetting;
  /** Wrong bearer tokens per address before every bearer call gets 429 (default 20 per minute). */
  authFailureRateLimit?: RateLimitSetting;
  /** Redis key prefix of the rate-limit counters (default: `keys.rateLimitPrefix`). */
  rateLimitNamespace?: string;
  /** The deployment's key names (redisKeys(LOGZIP_KEY_NAMESPACE)): rate limits, sessions, UI results (default `logzip:`). */
  keys?: Pick<RedisKeys, 'rateLimitPrefix' | 'sessionPrefix' | 'sessionIndex' | 'uiResultPrefix'>;
  /** UI session lifetime (default 12 h). */
  sessionTtlMs?: number;
  /** Where UI sessions live (default: Redis when `redis` is given, else this process's memory). */
  sessions?: SessionStore;
  /** Trust X-Forwarded-For from a proxy in front (rate limits then count the client's address). */
  trustProxy?: boolean | string | string[];
  /** Request timeouts and connections per address (defaults: CLIENT_LIMIT_DEFAULTS). */
  clientLimits?: Partial<ClientLimits>;
  /** Options for the ingest endpoints (issue 6). */
  ingest?: IngestOptions;
  /** Prometheus metrics at GET /metrics (createAdminMetrics); none: no /metrics route. */
  metrics?: AdminMetrics;
  /** LOGZIP_ADMIN_METRICS_TOKEN: a bearer token that opens /metrics and nothing else. */
  metricsToken?: string;
}

export const MIN_TOKEN_LENGTH = 32;

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};
/** Sent when LOGZIP_PUBLIC_URL is https: browsers then refuse plain HTTP to this host for a year. */
const HSTS = 'max-age=31536000';
// The UI has no script at all; bull-board (under /queues) brings its own and gets no CSP from us.
const CSP =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * The admin service: JSON API under /api, the server-rendered UI, bull-board at /queues, and
 * GET /healthz. Every client comes in through `options`; nothing here reads the environment or
 * listens (server.ts does).
 *
 * @example
 * const app = await buildApp({ ctx, adminToken, redis, queues: [ctx.producer.queue] });
 * const res = await app.inject({ method: 'GET', url: '/api/route', headers: { authorization: `Bearer ${adminToken}` } });
 */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  if (options.adminToken.length < MIN_TOKEN_LENGTH) {
    throw new AdminError(
      'invalid_request',
      `the admin token must be at least ${MIN_TOKEN_LENGTH} characters`,
    );
  }
  const { ctx } = options;
  const secure = (options.publicUrl ?? '').startsWith('https:');
  const nowMs = () => ctx.clock.now().getTime();
  const keys = options.keys ?? DEFAULT_KEYS;
  const sessions = new Sessions({
    secure,
    ttlMs: options.sessionTtlMs ?? 12 * 3600_000,
    store:
      options.sessions ??
      (options.redis === undefined
        ? createMemorySessionStore(nowMs)
        : createRedisSessionStore(options.redis, nowMs, keys)),
    adminToken: options.adminToken,
    now: () => ctx.clock.now(),
  });
  const clientLimits = { ...CLIENT_LIMIT_DEFAULTS, ...options.clientLimits };
  const app = Fastify({
    ...serverTimeouts(clientLimits),
    ...(options.logger === undefined || options.logger === false
      ? { logger: false }
      : { loggerInstance: withRequestRedaction(options.logger) }),
    bodyLimit: 1024 * 1024,
    trustProxy: options.trustProxy ?? false,
    // Unknown body fields are refused, not silently dropped.
    ajv: { customOptions: { removeAdditional: false } },
    // Fastify's own answers (a malformed URL, a broken request) in the documented error shape.
    frameworkErrors: (error, _request, reply) => {
      (reply as unknown as FastifyReply)
        .code(400)
        .type('application/json; charset=utf-8')
        .send(errorBody('invalid_request', error.message));
    },
    clientErrorHandler: answerClientError,
  }) as unknown as FastifyInstance;

  // First of the onRequest hooks: a request refused by a later one (401) is still timed.
  registerSlowClientLimits(app, clientLimits);
  await app.register(fastifyCookie, { secret: derivedSecret(options.adminToken, 'session') });
  await app.register(fastifyCsrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: 'logzip_csrf',
    cookieOpts: { signed: true, httpOnly: true, sameSite: 'strict', path: '/', secure },
    // A token is bound to the session it was made for: a CSRF cookie and token taken from one
    // session (say, the attacker's own) are refused in another.
    csrfOpts: { hmacKey: derivedSecret(options.adminToken, 'csrf') },
    getUserInfo: csrfBinding,
  });
  await app.register(fastifyRateLimit, {
    global: false,
    ...(options.redis === undefined ? {} : { redis: options.redis }),
    nameSpace: options.rateLimitNamespace ?? keys.rateLimitPrefix,
    skipOnError: false,
    errorResponseBuilder: (_request, context) =>
      new AdminError('rate_limited', `too many attempts: retry in ${context.after}`),
  });

  registerErrorHandling(app, {
    renderPage: (request, reply, error) =>
      errorPage(
        {
          csrf: csrfTokenFor(request, reply),
          now: ctx.clock.now(),
          ...(request.auth?.operator == null ? {} : { operator: request.auth.operator }),
        },
        error.status,
        error.code,
        error.message,
      ),
  });
  registerAuth(app, {
    token: options.adminToken,
    sessions,
    failedAttempts: options.authFailureRateLimit ?? { max: 20, timeWindowMs: 60_000 },
  });
  if (options.metrics !== undefined) {
    registerMetrics(app, {
      metrics: options.metrics,
      tokens: [options.adminToken, ...(options.metricsToken === undefined ? [] : [options.metricsToken])],
    });
  }

  app.addHook('onSend', async (request, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    if (secure) reply.header('strict-transport-security', HSTS);
    if (!request.url.startsWith(QUEUES_PATH)) reply.header('content-security-policy', CSP);
    return payload;
  });

  app.get('/healthz', { config: { auth: 'none' } }, async (_request, reply) => {
    if (options.redis === undefined) return { status: 'ok' };
    try {
      await Promise.race([
        options.redis.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
      ]);
      return { status: 'ok' };
    } catch {
      return reply.status(503).send({ status: 'unavailable', checks: { redis: 'unreachable' } });
    }
  });

  await app.register(apiRoutes, { prefix: '/api', ctx, sessions });
  await app.register(groupRoutes, { prefix: '/api', ctx });
  await app.register(operationRoutes, { prefix: '/api', ctx });
  const metrics = options.metrics;
  await app.register(ingestRoutes, {
    ctx,
    ...(options.ingest === undefined && metrics === undefined
      ? {}
      : {
          ingest: { ...options.ingest, ...(metrics === undefined ? {} : { onDispatched: metrics.ingested }) },
        }),
  });
  await app.register(uiRoutes, {
    ctx,
    token: options.adminToken,
    sessions,
    results:
      options.redis === undefined
        ? createMemoryResultStore(nowMs)
        : createRedisResultStore(options.redis, undefined, keys.uiResultPrefix),
    loginRateLimit: options.loginRateLimit ?? { max: 10, timeWindowMs: 60_000 },
  });
  if (options.queues !== undefined && options.queues.length > 0) {
    await app.register(queuesBoard, { prefix: QUEUES_PATH, queues: options.queues });
  }
  return app;
}
