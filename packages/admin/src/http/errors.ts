import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_ERRORS, type ApiErrorCode, errorBody, isAdminError } from '../errors.js';
import { isUnavailable } from '../operations/failure-text.js';
import { isApiRequest } from './auth.js';

export interface MappedError {
  status: number;
  code: string;
  message: string;
}

const STATUS_CODES: Record<number, ApiErrorCode> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  411: 'length_required',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'idempotency_key_reused',
  429: 'rate_limited',
};

/**
 * Maps anything thrown to the API's error codes. Client errors keep their message; 5xx bodies
 * say only what kind of failure it was and the request id to find it in the log.
 */
export function mapError(error: unknown, requestId: string): MappedError {
  if (isAdminError(error)) return { status: error.statusCode, code: error.code, message: error.message };
  const e = error as Partial<FastifyError> & { validation?: unknown };
  if (typeof e.code === 'string' && e.code.startsWith('FST_CSRF')) {
    return {
      status: API_ERRORS.csrf_invalid,
      code: 'csrf_invalid',
      message: 'the form was not sent from this site or has expired: reload the page and try again',
    };
  }
  if (e.validation !== undefined) {
    return { status: 400, code: 'invalid_request', message: e.message ?? 'the request is not valid' };
  }
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { status: 415, code: 'unsupported_media_type', message: 'send application/json' };
  }
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, code: 'payload_too_large', message: 'the request body is too large' };
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const code = STATUS_CODES[e.statusCode] ?? 'invalid_request';
    return { status: e.statusCode, code, message: e.message ?? code };
  }
  if (isUnavailable(error)) {
    return {
      status: 503,
      code: 'storage_unavailable',
      message: `a dependency (Redis, storage or AWS) could not be reached; try again later (request ${requestId})`,
    };
  }
  return { status: 500, code: 'internal', message: `internal error (request ${requestId})` };
}

/** JSON for the API, bull-board's API and clients that do not ask for HTML. */
export function wantsJson(request: FastifyRequest): boolean {
  if (isApiRequest(request) || request.url === '/healthz') return true;
  const accept = request.headers.accept ?? '';
  return !accept.includes('text/html') && request.auth?.kind === 'bearer';
}

/**
 * A request Node could not parse (a broken request line or header): answered in the documented
 * error shape, then the connection is closed, as Fastify's own handler does.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy(error);
    return;
  }
  const timeout = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const status = timeout ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const body = JSON.stringify(
    errorBody(
      timeout ? 'timeout' : 'invalid_request',
      timeout ? 'the request did not arrive in time' : 'the request could not be parsed as HTTP',
    ),
  );
  const reason = timeout
    ? 'Request Timeout'
    : status === 431
      ? 'Request Header Fields Too Large'
      : 'Bad Request';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export interface ErrorHandlingOptions {
  /** Renders an HTML error page for the UI. */
  renderPage(request: FastifyRequest, reply: FastifyReply, error: MappedError): string;
}

export function registerErrorHandling(app: FastifyInstance, options: ErrorHandlingOptions): void {
  app.setErrorHandler((error, request, reply) => {
    const mapped = mapError(error, request.id);
    if (mapped.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: mapped.code, status: mapped.status }, mapped.message);
    reply.status(mapped.status);
    if (mapped.status === 429 && !reply.hasHeader('retry-after')) reply.header('retry-after', '60');
    if (mapped.code === 'index_rebuilding') reply.header('retry-after', '10');
    if (wantsJson(request)) return reply.send(errorBody(mapped.code, mapped.message));
    return reply.type('text/html; charset=utf-8').send(options.renderPage(request, reply, mapped));
  });

  app.setNotFoundHandler((request, reply) => {
    const mapped: MappedError = {
      status: 404,
      code: 'not_found',
      message: `nothing at ${request.method} ${request.url.split('?')[0]}`,
    };
    reply.status(404);
    if (wantsJson(request)) return reply.send(errorBody(mapped.code, mapped.message));
    return reply.type('text/html; charset=utf-8').send(options.renderPage(request, reply, mapped));
  });
}
