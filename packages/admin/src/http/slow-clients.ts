import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** How long a client may take to send a request, and how many connections one address may hold. */
export interface ClientLimits {
  /**
   * LOGZIP_ADMIN_REQUEST_TIMEOUT: the headers of any request, then the body of any request but an
   * upload, must each arrive within this; a client still sending is disconnected (default 30 s).
   */
  requestTimeoutMs: number;
  /** LOGZIP_INGEST_REQUEST_TIMEOUT: a whole upload (ingest routes) must arrive within this (default 2 h). */
  ingestRequestTimeoutMs: number;
  /** LOGZIP_ADMIN_MAX_CONNECTIONS_PER_ADDRESS: open connections per client address; 0 = no limit (default 128). */
  maxConnectionsPerAddress: number;
}

/**
 * The Node server options behind the limits: Node's own request timeout can only be one value for
 * every route, so it is the ingest one; headers time out at the short one, checked often enough
 * (Node checks every 30 s by default) for a stalled client to be cut close to its deadline.
 */
export function serverTimeouts(limits: ClientLimits): {
  requestTimeout: number;
  http: { headersTimeout: number; connectionsCheckingInterval: number };
} {
  const requestTimeout = Math.max(limits.ingestRequestTimeoutMs, limits.requestTimeoutMs);
  return {
    requestTimeout,
    http: {
      headersTimeout: Math.min(limits.requestTimeoutMs, requestTimeout),
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.requestTimeoutMs / 4))),
    },
  };
}

/**
 * Slow bodies and connection floods: every request whose route is not an upload must have its
 * whole body within `requestTimeoutMs` of its headers, whether or not it was answered already (a
 * 401 sent before the body is read does not end the connection: Node keeps reading the body);
 * the socket is destroyed otherwise. Uploads keep their own limits (Node's request timeout, the
 * ingest idle timeout). Connections beyond the per-address limit are closed at once.
 */
export function registerSlowClientLimits(app: FastifyInstance, limits: ClientLimits): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const raw = request.raw;
    if (raw.complete || request.routeOptions.config?.auth === 'ingest') return done();
    const timer = setTimeout(() => {
      if (raw.complete) return;
      request.log.warn(
        { timeoutMs: limits.requestTimeoutMs, ip: request.ip },
        'request body too slow: connection closed',
      );
      raw.socket?.destroy();
    }, limits.requestTimeoutMs);
    timer.unref();
    raw.once('end', () => clearTimeout(timer));
    raw.socket?.once('close', () => clearTimeout(timer));
    done();
  });

  if (limits.maxConnectionsPerAddress <= 0) return;
  const open = new Map<string, number>();
  app.server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = (open.get(address) ?? 0) + 1;
    if (count > limits.maxConnectionsPerAddress) {
      app.log.warn({ ip: address, limit: limits.maxConnectionsPerAddress }, 'too many connections: closed');
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
