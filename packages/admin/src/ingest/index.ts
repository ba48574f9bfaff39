import type { FastifyInstance } from 'fastify';
import type { OperationsContext } from '../operations/context.js';

/**
 * Settings of the ingest endpoints (issue 6: `POST /api/archives`, uploads). Filled in by the
 * ingest work: e.g. the ingest token and the largest upload.
 */
export type IngestOptions = Record<string, never>;

export interface IngestPluginOptions {
  ctx: OperationsContext;
  ingest?: IngestOptions;
}

/**
 * The ingest endpoints live here, registered by buildApp next to the admin API. Their routes
 * must declare `config: { auth: 'ingest' }`: the admin gate then lets them through and they check
 * LOGZIP_INGEST_TOKEN themselves (every other /api/ route takes the admin token). Enqueue with
 * `ctx.producer`, refuse keys outside the incoming prefix with `assertInsideIncoming`
 * (operations/keys.ts), and read the route flag with `ctx.routes`.
 */
export async function ingestRoutes(_app: FastifyInstance, _options: IngestPluginOptions): Promise<void> {}
