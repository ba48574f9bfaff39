import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AdminError } from '../errors.js';
import { tokenMatches } from '../http/auth.js';
import { fingerprint } from './idempotency.js';

/**
 * One ingest token and what it may touch: the log IDs starting with `logIdPrefix` ('' = every log
 * ID). LOGZIP_INGEST_TOKEN is the grant `default` with no prefix; LOGZIP_INGEST_TOKENS adds named,
 * prefixed ones, so one leaked desktop app's token cannot overwrite another app's log IDs.
 */
export interface IngestGrant {
  name: string;
  logIdPrefix: string;
  token: string;
}

export interface IngestGateOptions {
  /** Every accepted ingest token; none turns ingest off (every call is refused). */
  grants: readonly IngestGrant[];
  /** Calls per token and window (429 `rate_limited` beyond). */
  rateLimit: { max: number; timeWindowMs: number };
  /** Wrong tokens per client address and window before every attempt from it gets 429. */
  failedAttempts: { max: number; timeWindowMs: number };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the ingest gate: the fingerprint of the ingest token (never the token). */
    ingestScope: string | null;
    /** Set by the ingest gate: the grant the presented token belongs to. */
    ingestGrant: Omit<IngestGrant, 'token'> | null;
  }
}

/**
 * Refuses (403 forbidden) a log ID outside the caller's grant: a token for the log IDs starting
 * with `W` cannot upload, announce or ask an upload URL for log ID `M123`.
 */
export function assertLogIdGranted(request: FastifyRequest, logId: string): void {
  const grant = request.ingestGrant;
  if (grant === null || grant.logIdPrefix === '' || logId.startsWith(grant.logIdPrefix)) return;
  throw new AdminError(
    'forbidden',
    `the ingest token "${grant.name}" may only send log IDs starting with "${grant.logIdPrefix}"`,
  );
}

/** The grant whose token matches; every grant is compared (constant time each), so timing tells nothing. */
function findGrant(grants: readonly IngestGrant[], presented: string): IngestGrant | undefined {
  let found: IngestGrant | undefined;
  for (const grant of grants) {
    if (tokenMatches(presented, grant.token) && found === undefined) found = grant;
  }
  return found;
}

function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
}

function retryAfter(reply: FastifyReply, seconds: number): void {
  reply.header('retry-after', String(Math.max(1, seconds)));
}

/**
 * The ingest routes' own door, added as an onRequest hook of the ingest plugin (the admin gate
 * lets routes with `config.auth = 'ingest'` through): only `Authorization: Bearer <an ingest
 * token>` passes; the admin token is just a wrong token here. Calls are then counted per token
 * (its fingerprint is the rate-limit key), wrong tokens per client address; each route then checks
 * the log ID against the token's grant (assertLogIdGranted).
 */
export function registerIngestGate(app: FastifyInstance, options: IngestGateOptions): void {
  app.decorateRequest('ingestScope', null);
  app.decorateRequest('ingestGrant', null);
  const perToken = app.createRateLimit({
    max: options.rateLimit.max,
    timeWindow: options.rateLimit.timeWindowMs,
    keyGenerator: (request) => `ingest-token:${request.ingestScope ?? 'none'}`,
  });
  const failures = app.createRateLimit({
    max: options.failedAttempts.max,
    timeWindow: options.failedAttempts.timeWindowMs,
    keyGenerator: (request) => `ingest-auth-failure:${request.ip}`,
  });

  app.addHook('onRequest', async (request, reply) => {
    if (options.grants.length === 0) {
      throw new AdminError(
        'unauthorized',
        'ingest is off: neither LOGZIP_INGEST_TOKEN nor LOGZIP_INGEST_TOKENS is configured',
      );
    }
    const presented = bearerOf(request);
    if (presented !== undefined) {
      const banned = await failures(request, { increment: false });
      if (!banned.isAllowed && banned.isExceeded) {
        retryAfter(reply, banned.ttlInSeconds);
        throw new AdminError(
          'rate_limited',
          `too many wrong tokens from this address: retry in ${banned.ttlInSeconds} s`,
        );
      }
    }
    const grant = presented === undefined ? undefined : findGrant(options.grants, presented);
    if (presented === undefined || grant === undefined) {
      if (presented !== undefined) await failures(request);
      throw new AdminError(
        'unauthorized',
        'send an ingest token: Authorization: Bearer $LOGZIP_INGEST_TOKEN (the admin token is not accepted here)',
      );
    }
    request.ingestScope = fingerprint(grant.token);
    request.ingestGrant = { name: grant.name, logIdPrefix: grant.logIdPrefix };
    const limited = await perToken(request);
    if (!limited.isAllowed && limited.isExceeded) {
      retryAfter(reply, limited.ttlInSeconds);
      throw new AdminError('rate_limited', `too many ingest calls: retry in ${limited.ttlInSeconds} s`);
    }
  });
}
