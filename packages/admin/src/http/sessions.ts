import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SessionStore } from '../adapters/session-store.js';
import { fingerprint } from '../ingest/idempotency.js';
import { isOperatorName } from './auth.js';

export const SESSION_COOKIE = 'logzip_session';

export interface SessionOptions {
  /** Cookies only over HTTPS (LOGZIP_PUBLIC_URL is https). */
  secure: boolean;
  ttlMs: number;
  store: SessionStore;
  /** LOGZIP_ADMIN_TOKEN: a session signed in with another token (before a rotation) is no session. */
  adminToken: string;
  now: () => Date;
}

export interface LiveSession {
  id: string;
  operator: string;
}

/**
 * UI sessions: the signed cookie carries a random id, the record lives in the session store. So a
 * cookie saved before logout, before the admin token changed, or before "sign out everywhere" opens
 * nothing when replayed.
 */
export class Sessions {
  readonly #options: SessionOptions;
  readonly #tokenFingerprint: string;

  constructor(options: SessionOptions) {
    this.#options = options;
    this.#tokenFingerprint = fingerprint(options.adminToken);
  }

  get secure(): boolean {
    return this.#options.secure;
  }

  async start(reply: FastifyReply, operator: string): Promise<LiveSession> {
    const { ttlMs, store, now } = this.#options;
    const id = await store.create({
      operator,
      expiresAt: now().getTime() + ttlMs,
      tokenFingerprint: this.#tokenFingerprint,
    });
    reply.setCookie(SESSION_COOKIE, id, {
      signed: true,
      httpOnly: true,
      sameSite: 'strict',
      secure: this.secure,
      path: '/',
      maxAge: Math.floor(ttlMs / 1000),
    });
    return { id, operator };
  }

  /** The live session a request's cookie names, if any. */
  async read(request: FastifyRequest): Promise<LiveSession | undefined> {
    const rawCookie = request.cookies[SESSION_COOKIE];
    if (rawCookie === undefined) return undefined;
    const unsigned = request.unsignCookie(rawCookie);
    if (!unsigned.valid || unsigned.value === null || !/^[A-Za-z0-9_-]{16,64}$/.test(unsigned.value))
      return undefined;
    const record = await this.#options.store.read(unsigned.value);
    if (record === undefined || record.tokenFingerprint !== this.#tokenFingerprint) return undefined;
    if (!isOperatorName(record.operator)) return undefined;
    return { id: unsigned.value, operator: record.operator };
  }

  /** Ends this browser's session on the server (a replayed cookie then opens nothing) and clears the cookie. */
  async end(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const id = request.auth?.sessionId;
    if (id !== undefined) await this.#options.store.revoke(id);
    this.clearCookie(reply);
  }

  clearCookie(reply: FastifyReply): void {
    reply.clearCookie(SESSION_COOKIE, {
      path: '/',
      httpOnly: true,
      sameSite: 'strict',
      secure: this.secure,
    });
  }

  /** "Sign out everywhere": every session of every operator ends. */
  revokeAll(): Promise<number> {
    return this.#options.store.revokeAll();
  }
}

/** What a CSRF token is bound to: the session's id, or a fixed word before login (never empty). */
export function csrfBinding(request: FastifyRequest): string {
  return request.auth?.sessionId ?? 'signed-out';
}

/** A CSRF token for this request's forms, bound to its session. */
export function csrfTokenFor(request: FastifyRequest, reply: FastifyReply): string {
  return reply.generateCsrf({ userInfo: csrfBinding(request) });
}
