import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AdminError } from '../errors.js';
import { tokenMatches } from '../http/auth.js';
import { fingerprint } from './idempotency.js';

export interface IngestGateOptions {
  /** LOGZIP_INGEST_TOKEN; undefined turns ingest off (every call is refused). */
  token: string | undefined;
  /** Calls per token and window (429 `rate_limited` beyond). */
  rateLimit: { max: number; timeWindowMs: number };
  /** Wrong tokens per client address and window before every attempt from it gets 429. */
  failedAttempts: { max: number; timeWindowMs: number };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the ingest gate: the fingerprint of the ingest token (never the token). */
    ingestScope: string | null;
  }
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
 * lets routes with `config.auth = 'ingest'` through): only `Authorization: Bearer
 * $LOGZIP_INGEST_TOKEN` passes; the admin token is just a wrong token here. Calls are then counted
 * per token (its fingerprint is the rate-limit key), wrong tokens per client address.
 */
export function registerIngestGate(app: FastifyInstance, options: IngestGateOptions): void {
  app.decorateRequest('ingestScope', null);
  const scope = options.token === undefined ? undefined : fingerprint(options.token);
  const perToken = app.createRateLimit({
    max: options.rateLimit.max,
    timeWindow: options.rateLimit.timeWindowMs,
    keyGenerator: () => `ingest-token:${scope ?? 'none'}`,
  });
  const failures = app.createRateLimit({
    max: options.failedAttempts.max,
    timeWindow: options.failedAttempts.timeWindowMs,
    keyGenerator: (request) => `ingest-auth-failure:${request.ip}`,
  });

  app.addHook('onRequest', async (request, reply) => {
    if (options.token === undefined || scope === undefined) {
      throw new AdminError('unauthorized', 'ingest is off: LOGZIP_INGEST_TOKEN is not configured');
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
    if (presented === undefined || !tokenMatches(presented, options.token)) {
      if (presented !== undefined) await failures(request);
      throw new AdminError(
        'unauthorized',
        'send the ingest token: Authorization: Bearer $LOGZIP_INGEST_TOKEN (the admin token is not accepted here)',
      );
    }
    const limited = await perToken(request);
    if (!limited.isAllowed && limited.isExceeded) {
      retryAfter(reply, limited.ttlInSeconds);
      throw new AdminError('rate_limited', `too many ingest calls: retry in ${limited.ttlInSeconds} s`);
    }
    request.ingestScope = scope;
  });
}
