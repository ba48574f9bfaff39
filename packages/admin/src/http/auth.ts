import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AdminError } from '../errors.js';
import type { Sessions } from './sessions.js';

/**
 * How a route is guarded: `admin` (the default: bearer token, or the UI session), `api` (the JSON
 * API: the bearer token only, never a cookie), `none` (healthz, the login page, the stylesheet) or
 * `ingest` (the ingest plugin checks its own token). The mode belongs to the matched route, so
 * every spelling of a path the router accepts (`/%61pi/…`) is judged as the route it reaches.
 */
export type AuthMode = 'admin' | 'api' | 'none' | 'ingest';

export interface AuthInfo {
  kind: 'bearer' | 'session';
  /** The operator the audit log records; null for a bearer call without X-Logzip-Operator. */
  operator: string | null;
  /** The server-side session's id (kind `session`): what logout revokes and CSRF tokens are bound to. */
  sessionId?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthMode;
  }
  interface FastifyRequest {
    auth: AuthInfo | null;
  }
}

export const OPERATOR_HEADER = 'x-logzip-operator';
const OPERATOR_RE = /^[\p{L}\p{N}][\p{L}\p{N} ._@+-]{0,63}$/u;

export function isOperatorName(value: string): boolean {
  return OPERATOR_RE.test(value);
}

/** Compares a presented token with the admin token in constant time (hashes first: equal lengths). */
export function tokenMatches(presented: string, token: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/** A secret derived from the admin token for one purpose (cookie signing, CSRF tokens). */
export function derivedSecret(token: string, purpose: 'session' | 'csrf'): string {
  return createHmac('sha256', token).update(`logzip-admin-${purpose}-v1`).digest('base64url');
}

/** The operator of an authenticated request, required for anything that changes state. */
export function requireOperator(request: FastifyRequest): string {
  const operator = request.auth?.operator;
  if (operator === null || operator === undefined) {
    throw new AdminError(
      'invalid_request',
      'name yourself for the audit log: send an X-Logzip-Operator header (1-64 letters, digits, space, . _ @ + -)',
    );
  }
  return operator;
}

export interface AuthHookOptions {
  token: string;
  sessions: Sessions;
  /** Failed bearer attempts allowed per client address and window before every attempt gets 429. */
  failedAttempts: { max: number; timeWindowMs: number };
}

/**
 * JSON endpoints answer 401; pages send the browser to the login form. For a matched route the
 * route's mode decides; the path only shapes the answer to a request no route matched.
 */
export function isApiRequest(request: FastifyRequest): boolean {
  if (request.routeOptions.config?.auth === 'api') return true;
  const url = request.url;
  return url.startsWith('/api/') || url === '/api' || url.startsWith('/queues/api/');
}

/**
 * The one gate in front of every route: API routes take only the bearer token (with
 * X-Logzip-Operator naming the caller), pages and /queues take the bearer token or the UI session.
 * Repeated wrong tokens from one address are answered 429 for a while, right or wrong.
 */
export function registerAuth(app: FastifyInstance, options: AuthHookOptions): void {
  app.decorateRequest('auth', null);
  const failures = app.createRateLimit({
    max: options.failedAttempts.max,
    timeWindow: options.failedAttempts.timeWindowMs,
    keyGenerator: (request) => `auth-failure:${request.ip}`,
  });

  app.addHook('onRequest', async (request, reply) => {
    const mode = request.routeOptions.config?.auth ?? 'admin';
    if (mode !== 'admin' && mode !== 'api') return;
    const header = request.headers.authorization;
    if (header !== undefined) {
      const limited = await failures(request, { increment: false });
      // `max` wrong tokens are allowed per window; the next attempt is refused, right or wrong.
      if (!limited.isAllowed && limited.remaining <= 0) {
        throw new AdminError(
          'rate_limited',
          `too many wrong tokens from this address: retry in ${limited.ttlInSeconds} s`,
        );
      }
      const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
      if (bearer !== undefined && tokenMatches(bearer, options.token)) {
        const named = request.headers[OPERATOR_HEADER];
        const operator = typeof named === 'string' ? named.trim() : undefined;
        if (operator !== undefined && operator !== '' && !isOperatorName(operator)) {
          throw new AdminError(
            'invalid_request',
            'X-Logzip-Operator must be 1-64 letters, digits, space, . _ @ + -',
          );
        }
        request.auth = {
          kind: 'bearer',
          operator: operator === undefined || operator === '' ? null : operator,
        };
        return;
      }
      await failures(request);
      throw new AdminError('unauthorized', 'the admin token is missing or wrong');
    }
    // A session cookie never opens the API: a page on another port of the same host can make the
    // operator's browser send it (SameSite stops only other sites), with a form body and no CSRF token.
    if (mode === 'admin') {
      const session = await options.sessions.read(request);
      if (session !== undefined) {
        request.auth = { kind: 'session', operator: session.operator, sessionId: session.id };
        return;
      }
    }
    if (isApiRequest(request) || request.method !== 'GET') {
      throw new AdminError('unauthorized', 'the admin token is missing or wrong');
    }
    const next = encodeURIComponent(request.url);
    return reply.redirect(`/login?next=${next}`, 303);
  });
}

const SAME_SITE = 'http://logzip.invalid';

/**
 * Only same-site relative paths: `next` must never send a signed-in operator elsewhere. Browsers
 * drop tabs and newlines from a Location and read `\\` as `/`, so `/\t/evil.test` would be
 * `//evil.test`: any control character or backslash sends the operator to `/`. The answer is the
 * parsed path re-serialised (percent-encoded), so it is always a valid header value.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length > 2048) return '/';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f\\]/.test(next)) return '/';
  if (!next.startsWith('/') || next.startsWith('//')) return '/';
  let parsed: URL;
  try {
    parsed = new URL(next, SAME_SITE);
  } catch {
    return '/';
  }
  if (parsed.origin !== SAME_SITE) return '/';
  const path = `${parsed.pathname}${parsed.search}${parsed.hash}`;
  if (path.startsWith('//') || path.startsWith('/login') || path.startsWith('/logout')) return '/';
  return path;
}
