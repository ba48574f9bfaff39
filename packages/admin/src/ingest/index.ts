import type { Logger, ObjectStore, Tracer } from '@logzip/core';
import { redisKeys } from '@logzip/core/bullmq';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { AdminConfig } from '../config.js';
import type { IngestDispatched } from '../http/metrics.js';
import type { OperationsContext } from '../operations/context.js';
import { type IngestGrant, registerIngestGate } from './gate.js';
import {
  createMemoryIdempotencyStore,
  createRedisIdempotencyStore,
  type IdempotencyStore,
  type IdempotencyTimes,
} from './idempotency.js';
import { notifyRoutes } from './notify.js';
import type { UploadPresigner } from './presign.js';
import { putArchiveRoute } from './put-archive.js';

export type { Dispatch } from './dispatch.js';
export { dispatchArchive } from './dispatch.js';
export type { IngestGrant } from './gate.js';
export type { IdempotencyStore, StoredAnswer } from './idempotency.js';
export { createMemoryIdempotencyStore, createRedisIdempotencyStore } from './idempotency.js';
export type { NotifyAnswer, UploadTicket } from './notify.js';
export type { PresignedUpload, PresignRequest, UploadPresigner } from './presign.js';
export type { PutArchiveAnswer } from './put-archive.js';
export { IDEMPOTENCY_HEADER, REPLAYED_HEADER } from './put-archive.js';

const GiB = 2 ** 30;

/** Settings of the ingest endpoints; `createIngestOptions` builds them from the configuration. */
export interface IngestOptions {
  /** LOGZIP_INGEST_TOKEN: opens every log ID. Without it and `grants`, every ingest call is refused (401). */
  token?: string;
  /** LOGZIP_INGEST_TOKENS: named tokens, each for the log IDs with its prefix. */
  grants?: IngestGrant[];
  /** LOGZIP_INGEST_MAX_BYTES: the largest archive accepted (default 2 GiB). */
  maxBytes?: number;
  /** LOGZIP_PUBLIC_URL: base of the PUT URL `POST /api/uploads` hands out with folder storage. */
  publicUrl?: string;
  /** Idempotency records, shared by every instance (default: in this process's memory). */
  redis?: Redis;
  /** Overrides `redis` (tests). */
  idempotency?: IdempotencyStore;
  idempotencyTimes?: IdempotencyTimes;
  /** Prefix of the idempotency records in Redis (redisKeys(LOGZIP_KEY_NAMESPACE).ingestIdempotencyPrefix). */
  idempotencyPrefix?: string;
  /**
   * Where uploaded archives are written (default: the context's store). On S3, createIngestOptions
   * gives ingest a store of its own with small multipart buffers (ingestS3StoreOptions).
   */
  store?: ObjectStore;
  /** Signs direct uploads on S3 storage; without it `POST /api/uploads` hands out the PUT URL. */
  presigner?: UploadPresigner;
  /** How long a presigned POST is accepted (default 15 min). */
  presignExpiresSeconds?: number;
  /** Calls per ingest token and window (default 600 per minute). */
  rateLimit?: { max: number; timeWindowMs: number };
  /** Wrong ingest tokens per address and window before 429 (default 20 per minute). */
  failedAttempts?: { max: number; timeWindowMs: number };
  /** An upload that sends no byte for this long is cut off, storing nothing (default 2 min). */
  bodyIdleTimeoutMs?: number;
  /** One span per upload, stored in the archive's metadata for the route that extracts it (loadTracer). */
  tracer?: Tracer;
  /** Told of every archive an endpoint stored or accepted and dispatched (the admin's metrics). */
  onDispatched?: (event: IngestDispatched) => void;
}

export interface IngestPluginOptions {
  ctx: OperationsContext;
  ingest?: IngestOptions;
}

export const INGEST_DEFAULTS = {
  maxBytes: 2 * GiB,
  presignExpiresSeconds: 15 * 60,
  rateLimit: { max: 600, timeWindowMs: 60_000 },
  failedAttempts: { max: 20, timeWindowMs: 60_000 },
  bodyIdleTimeoutMs: 120_000,
} as const;

/**
 * Multipart settings of the ingest S3 store. An upload arrives at the client's speed, so more than
 * two parts in flight buys nothing, while every part costs memory for each running upload: parts
 * are S3's smallest (5 MiB) unless the size limit needs larger ones to stay within 10,000 parts.
 * Bodies up to one part go in a single PutObject. Measured: a 200 MiB upload grows the service's
 * RSS by about 8-31 MiB this way, 65-80 MiB with the engine's defaults (8 MiB parts, 4 in flight).
 */
export function ingestS3StoreOptions(maxBytes: number): {
  multipartThreshold: number;
  partSize: number;
  queueSize: number;
} {
  const partSize = Math.max(5 * 2 ** 20, Math.ceil(maxBytes / 10_000));
  return { multipartThreshold: partSize, partSize, queueSize: 2 };
}

/**
 * The ingest options of the admin service, from its validated configuration: the ingest token
 * (refused when it equals the admin token: the two doors must differ), the size limit, the public
 * URL, Redis for idempotency, and a presigner when storage is S3.
 *
 * @example
 * const app = await buildApp({ ctx, adminToken, ingest: await createIngestOptions(config, { redis: ctx.redis, logger }) });
 */
export async function createIngestOptions(
  config: AdminConfig,
  deps: { redis?: Redis; logger?: Logger },
): Promise<IngestOptions> {
  let token = config.env.LOGZIP_INGEST_TOKEN;
  if (token !== undefined && token === config.admin.token) {
    deps.logger?.error(
      {},
      'LOGZIP_INGEST_TOKEN equals LOGZIP_ADMIN_TOKEN: ingest stays off until they differ',
    );
    token = undefined;
  }
  const grants = config.admin.ingestGrants.filter((grant) => {
    if (grant.token !== config.admin.token) return true;
    deps.logger?.error(
      { grant: grant.name },
      'an LOGZIP_INGEST_TOKENS token equals LOGZIP_ADMIN_TOKEN: that grant stays off until they differ',
    );
    return false;
  });
  let presigner: UploadPresigner | undefined;
  let store: ObjectStore | undefined;
  if (config.env.LOGZIP_STORAGE_DIR === undefined) {
    const [{ createS3Client, createS3ObjectStore }, { createS3UploadPresigner }] = await Promise.all([
      import('@logzip/core/s3'),
      import('./presign.js'),
    ]);
    const client = createS3Client(config.env);
    presigner = createS3UploadPresigner(client);
    store = createS3ObjectStore({ client, ...ingestS3StoreOptions(config.env.LOGZIP_INGEST_MAX_BYTES) });
  }
  return {
    ...(token === undefined ? {} : { token }),
    ...(grants.length === 0 ? {} : { grants }),
    maxBytes: config.env.LOGZIP_INGEST_MAX_BYTES,
    publicUrl: config.admin.publicUrl,
    idempotencyPrefix: redisKeys(config.keyNamespace).ingestIdempotencyPrefix,
    ...(deps.redis === undefined ? {} : { redis: deps.redis }),
    ...(presigner === undefined ? {} : { presigner }),
    ...(store === undefined ? {} : { store }),
  };
}

/**
 * The ingest endpoints, registered by buildApp next to the admin API:
 * - `PUT /api/archives/:logId`: the body is the zip, streamed to `incoming/<ab>/<cd>/<logId>.zip`;
 * - `POST /api/archives`: "this key was uploaded" (an upload server writing to S3 itself);
 * - `POST /api/uploads`: where a client should upload an archive itself (presigned POST on S3).
 * Their routes declare `config: { auth: 'ingest' }`: the admin gate lets them through, and this
 * plugin's gate takes the ingest tokens only. An ingest token opens nothing else: every other
 * route stays behind the admin gate, which knows only the admin token.
 */
export async function ingestRoutes(app: FastifyInstance, options: IngestPluginOptions): Promise<void> {
  const settings = options.ingest ?? {};
  const { ctx } = options;
  const maxBytes = settings.maxBytes ?? INGEST_DEFAULTS.maxBytes;
  registerIngestGate(app, {
    grants: [
      ...(settings.token === undefined ? [] : [{ name: 'default', logIdPrefix: '', token: settings.token }]),
      ...(settings.grants ?? []),
    ],
    rateLimit: settings.rateLimit ?? INGEST_DEFAULTS.rateLimit,
    failedAttempts: settings.failedAttempts ?? INGEST_DEFAULTS.failedAttempts,
  });
  const idempotency =
    settings.idempotency ??
    (settings.redis === undefined
      ? createMemoryIdempotencyStore(settings.idempotencyTimes)
      : createRedisIdempotencyStore(settings.redis, settings.idempotencyTimes, settings.idempotencyPrefix));
  await app.register(putArchiveRoute, {
    ctx,
    store: settings.store ?? ctx.store,
    maxBytes,
    idempotency,
    bodyIdleTimeoutMs: settings.bodyIdleTimeoutMs ?? INGEST_DEFAULTS.bodyIdleTimeoutMs,
    ...(settings.onDispatched === undefined ? {} : { onDispatched: settings.onDispatched }),
    ...(settings.tracer === undefined ? {} : { tracer: settings.tracer }),
  });
  await app.register(notifyRoutes, {
    ctx,
    ...(settings.onDispatched === undefined ? {} : { onDispatched: settings.onDispatched }),
    maxBytes,
    presigner: settings.presigner,
    publicUrl: settings.publicUrl ?? 'http://127.0.0.1:8080',
    presignExpiresSeconds: settings.presignExpiresSeconds ?? INGEST_DEFAULTS.presignExpiresSeconds,
    ...(settings.tracer === undefined ? {} : { tracer: settings.tracer }),
  });
}
