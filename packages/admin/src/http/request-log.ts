import type { FastifyBaseLogger, FastifyRequest } from 'fastify';

/** Query parameters whose values never reach a log: tokens, signatures, passwords... */
const SECRET_PARAM = /token|secret|passw|signature|credential|session|auth|api[-_]?key/i;

/**
 * The URL with every secret-looking query value replaced by `[redacted]` (`?token=…` sent by a
 * script, `X-Amz-Signature=…` of a presigned link). The path is kept as sent.
 */
export function redactUrl(url: string): string {
  const at = url.indexOf('?');
  if (at === -1) return url;
  const query = url
    .slice(at + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // A malformed escape in the name: judge it as written.
      }
      return SECRET_PARAM.test(decoded) && eq !== -1 ? `${name}=[redacted]` : pair;
    })
    .join('&');
  return `${url.slice(0, at)}?${query}`;
}

/** Fastify's request serializer, with the query secrets redacted. */
export function serializeRequest(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: redactUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/** The service's logger with the redacting request serializer (Fastify takes the logger's own first). */
export function withRequestRedaction(logger: FastifyBaseLogger): FastifyBaseLogger {
  return logger.child({}, { serializers: { req: serializeRequest as (value: unknown) => unknown } });
}
