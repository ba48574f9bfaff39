import type { Route } from '@logzip/core';
import { OPERATION_STATES } from '@logzip/core/operations';
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { errorBody } from '../errors.js';
import type { OperationsContext } from '../operations/context.js';
import { tokenMatches } from './auth.js';

/** What an ingest endpoint did with an archive (PUT streams it, POST announces one already stored). */
export interface IngestDispatched {
  endpoint: 'put' | 'notify';
  route: Route;
  /** The archive's size, when the admin stored it. */
  bytes?: number;
}

export type AdminMetrics = ReturnType<typeof createAdminMetrics>;

const SCRAPE_TIMEOUT_MS = 2_000;
/** The operations gauge counts the newest operations only: a scrape must stay one small read. */
const OPERATIONS_SCANNED = 200;

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error('timed out')), SCRAPE_TIMEOUT_MS).unref(),
    ),
  ]);
}

/**
 * The admin's Prometheus metrics, named like the worker's (`logzip_admin_*` for this process,
 * `logzip_*` without the process name for values every process reads the same: the route flag and
 * the operations). Request counters come from one onResponse hook; the route and the operations are
 * read when scraped.
 */
export function createAdminMetrics(ctx: Pick<OperationsContext, 'routes' | 'operations'>) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'logzip_admin_' });

  const httpRequests = new Counter({
    name: 'logzip_admin_http_requests_total',
    help: 'HTTP requests answered, by method, route (the matched route pattern) and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'logzip_admin_http_request_duration_seconds',
    help: 'Time to answer HTTP requests (uploads included), by method, route and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
    registers: [registry],
  });
  const ingestArchives = new Counter({
    name: 'logzip_admin_ingest_archives_total',
    help: 'Archives taken by the ingest API, by endpoint (put, notify) and the route they went to (lambda, queue)',
    labelNames: ['endpoint', 'route'] as const,
    registers: [registry],
  });
  const ingestBytes = new Counter({
    name: 'logzip_admin_ingest_bytes_total',
    help: 'Bytes of archives stored by PUT /api/archives/:logId',
    registers: [registry],
  });

  new Gauge({
    name: 'logzip_route',
    help: 'The route flag: 1 for the route archives take now (lambda, queue, or unset)',
    labelNames: ['route'] as const,
    registers: [registry],
    async collect() {
      try {
        const route = (await withTimeout(ctx.routes.get())) ?? 'unset';
        for (const name of ['lambda', 'queue', 'unset']) this.set({ route: name }, name === route ? 1 : 0);
      } catch {
        // Redis is unreachable: keep the last values rather than failing the scrape.
      }
    },
  });
  new Gauge({
    name: 'logzip_operations',
    help: `Bulk operations by state (the newest ${OPERATIONS_SCANNED})`,
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const store = ctx.operations?.store;
      if (store === undefined) return;
      try {
        const operations = await withTimeout(store.list(OPERATIONS_SCANNED));
        for (const state of OPERATION_STATES) {
          this.set({ state }, operations.filter((operation) => operation.state === state).length);
        }
      } catch {
        // As above.
      }
    },
  });

  return {
    registry,
    httpRequests,
    httpDuration,
    ingested(event: IngestDispatched): void {
      ingestArchives.inc({ endpoint: event.endpoint, route: event.route });
      if (event.bytes !== undefined) ingestBytes.inc(event.bytes);
    },
  };
}

export interface MetricsRouteOptions {
  metrics: AdminMetrics;
  /** The admin token, and LOGZIP_ADMIN_METRICS_TOKEN when set: the bearer tokens /metrics takes. */
  tokens: string[];
}

/**
 * `GET /metrics`, and the hook that times every request. The route takes a bearer token of its own
 * kind (the admin port may face browsers and upload clients, unlike the worker's metrics port), so
 * Prometheus can hold a scrape-only token that opens nothing else.
 */
export function registerMetrics(app: FastifyInstance, options: MetricsRouteOptions): void {
  const { metrics } = options;
  app.addHook('onResponse', async (request, reply) => {
    // The pattern, never the URL: one series per route, whatever log IDs are asked for.
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { config: { auth: 'none' } }, async (request, reply) => {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    if (bearer === undefined || !options.tokens.some((token) => tokenMatches(bearer, token))) {
      // JSON like the API, not the pages' HTML error: the caller is a scraper.
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send(errorBody('unauthorized', 'send the metrics token (or the admin token) as a bearer token'));
    }
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).header('cache-control', 'no-store').send(text);
  });
}
