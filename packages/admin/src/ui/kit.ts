import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ResultStore } from '../adapters/result-store.js';
import { requireOperator } from '../http/auth.js';
import { csrfTokenFor, type Sessions } from '../http/sessions.js';
import type { BulkResult } from '../operations/bulk.js';
import type { Actor, OperationsContext } from '../operations/context.js';
import { getHealth, type HealthReport } from '../operations/health.js';
import type { Flash, PageContext } from './layout.js';

export interface UiOptions {
  ctx: OperationsContext;
  token: string;
  sessions: Sessions;
  /** Results of actions, shown by GET /ui/results/:id after the action's redirect. */
  results: ResultStore;
  /** Login attempts per client address and window. */
  loginRateLimit: { max: number; timeWindowMs: number };
}

export type Form = Record<string, string | string[] | undefined>;

export function field(form: Form, name: string): string {
  const value = form[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() ?? '';
}

export function fields(form: Form, name: string): string[] {
  const value = form[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => v.trim()).filter((v) => v !== '');
}

/** What a result page shows, kept between an action and the page (post/redirect/get). */
export interface ShownResult {
  current: 'failures' | 'archives';
  title: string;
  result: BulkResult;
  back: { href: string; label: string };
}

const FLASH_COOKIE = 'logzip_flash';

/** What every group of UI routes shares: the page context, flash messages, results, HTML replies. */
export interface UiKit {
  ctx: OperationsContext;
  options: UiOptions;
  /** The route option that checks the form's CSRF token. */
  csrf: { preHandler: FastifyInstance['csrfProtection'] };
  actor(request: FastifyRequest): Actor;
  pageContext(request: FastifyRequest, reply: FastifyReply, current?: PageContext['current']): PageContext;
  setFlash(reply: FastifyReply, flash: Flash): void;
  /**
   * Post/redirect/get: the action's result is kept, and the browser is sent to a page showing it,
   * so a reload (or Back then Forward) shows the result again instead of repeating the action.
   */
  redirectToResult(request: FastifyRequest, reply: FastifyReply, shown: ShownResult): Promise<FastifyReply>;
  html(reply: FastifyReply, body: string, status?: number): FastifyReply;
  /** Reads the health strip's facts for a signed-in page (a preHandler hook of the UI's GET routes). */
  loadHealth(request: FastifyRequest): Promise<void>;
}

export function createUiKit(app: FastifyInstance, options: UiOptions): UiKit {
  const { ctx } = options;
  const healthOf = new WeakMap<FastifyRequest, HealthReport>();

  function readFlash(request: FastifyRequest, reply: FastifyReply): Flash | undefined {
    const cookie = request.cookies[FLASH_COOKIE];
    if (cookie === undefined) return undefined;
    reply.clearCookie(FLASH_COOKIE, { path: '/' });
    const unsigned = request.unsignCookie(cookie);
    if (!unsigned.valid || unsigned.value === null) return undefined;
    try {
      const flash = JSON.parse(Buffer.from(unsigned.value, 'base64url').toString('utf8')) as Flash;
      return typeof flash.text === 'string' ? flash : undefined;
    } catch {
      return undefined;
    }
  }

  return {
    ctx,
    options,
    csrf: { preHandler: app.csrfProtection },
    actor: (request) => ({ operator: requireOperator(request), channel: 'ui' }),
    pageContext(request, reply, current) {
      const flash = readFlash(request, reply);
      const health = healthOf.get(request);
      return {
        ...(health === undefined ? {} : { health }),
        csrf: csrfTokenFor(request, reply),
        now: ctx.clock.now(),
        ...(request.auth?.operator == null ? {} : { operator: request.auth.operator }),
        ...(current === undefined ? {} : { current }),
        ...(flash === undefined ? {} : { flash }),
      };
    },
    setFlash(reply, flash) {
      reply.setCookie(FLASH_COOKIE, Buffer.from(JSON.stringify(flash)).toString('base64url'), {
        signed: true,
        httpOnly: true,
        sameSite: 'strict',
        secure: options.sessions.secure,
        path: '/',
        maxAge: 120,
      });
    },
    async redirectToResult(request, reply, shown) {
      const id = await options.results.put(request.auth?.sessionId ?? '', shown);
      return reply.redirect(`/ui/results/${id}`, 303);
    },
    async loadHealth(request) {
      if (request.method !== 'GET' || request.auth?.operator == null) return;
      // A health read that fails leaves the strip out; the page itself still answers.
      const health = await getHealth(ctx).catch(() => undefined);
      if (health !== undefined) healthOf.set(request, health);
    },
    html: (reply, body, status = 200) =>
      reply.status(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body),
  };
}
