import type { Readable } from 'node:stream';
import {
  noopTracer,
  type ObjectStore,
  parseLogId,
  SPAN_ATTRIBUTES,
  type SpanAttributes,
  shardedArchiveKey,
  TRACEPARENT,
  type Tracer,
  type TraceSpan,
} from '@logzip/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AdminError } from '../errors.js';
import type { IngestDispatched } from '../http/metrics.js';
import type { OperationsContext } from '../operations/context.js';
import { assertLogId } from '../operations/keys.js';
import { MIN_ZIP_BYTES, startsLikeZip, UploadBody, ZIP_SIGNATURE_BYTES } from './body.js';
import { type Dispatch, dispatchArchive } from './dispatch.js';
import { assertLogIdGranted } from './gate.js';
import {
  IDEMPOTENCY_KEY_RE,
  type IdempotencyLease,
  type IdempotencyStore,
  type StoredAnswer,
} from './idempotency.js';

export interface PutArchiveOptions {
  ctx: OperationsContext;
  /** Where archives are written (the incoming bucket lives there). */
  store: ObjectStore;
  maxBytes: number;
  idempotency: IdempotencyStore;
  bodyIdleTimeoutMs: number;
  onDispatched?: (event: IngestDispatched) => void;
  tracer?: Tracer;
}

/** What `PUT /api/archives/:logId` answers (202), and replays for a repeated Idempotency-Key. */
export interface PutArchiveAnswer {
  logId: string;
  key: string;
  etag: string;
  route: Dispatch['route'];
  enqueued: boolean;
}

interface UploadPlan {
  logId: string;
  key: string;
  size: number;
  lease: IdempotencyLease | undefined;
  /** A repeated Idempotency-Key whose first request had a body of this size: compare, then replay. */
  replay?: StoredAnswer;
}

declare module 'fastify' {
  interface FastifyRequest {
    ingestUpload: UploadPlan | null;
  }
}

/** How long an unread body is drained after a refusal before the connection is dropped. */
const LINGER_MS = 3_000;

export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const REPLAYED_HEADER = 'idempotent-replayed';

/**
 * The `ingest` span of one archive: its trace starts here, or continues the client's traceparent
 * header; the route that extracts the archive continues it.
 */
export function startIngestSpan(
  tracer: Tracer | undefined,
  request: FastifyRequest,
  archive: { logId: string; bucket: string; key: string; method: 'PUT' | 'POST'; route: string },
  attributes: SpanAttributes = {},
): TraceSpan {
  const header = request.headers[TRACEPARENT];
  return (tracer ?? noopTracer).startSpan('ingest', {
    kind: 'server',
    parent: typeof header === 'string' ? header : undefined,
    attributes: {
      [SPAN_ATTRIBUTES.logId]: archive.logId,
      [SPAN_ATTRIBUTES.bucket]: archive.bucket,
      [SPAN_ATTRIBUTES.key]: archive.key,
      'http.request.method': archive.method,
      'http.route': archive.route,
      ...attributes,
    },
  });
}

/**
 * The archive's key, refusing a log ID the configured pattern would read back differently: with the
 * default pattern `ab-cd.zip` is log ID `ab` (a `-` starts the free suffix).
 */
export function archiveKeyFor(ctx: OperationsContext, logId: string): string {
  assertLogId(logId);
  const key = shardedArchiveKey(ctx.settings.incoming.prefix, logId);
  let parsed: string | undefined;
  try {
    parsed = parseLogId(key, ctx.settings.logIdPattern);
  } catch {
    parsed = undefined;
  }
  if (parsed !== logId) {
    throw new AdminError(
      'invalid_request',
      `log ID "${logId}" cannot be stored as ${logId}.zip: LOGZIP_LOG_ID_PATTERN reads that name as ${
        parsed === undefined ? 'no log ID' : `log ID "${parsed}"`
      }`,
    );
  }
  return key;
}

function declaredSize(request: FastifyRequest, maxBytes: number): number {
  const header = request.headers['content-length'];
  if (header === undefined || request.headers['transfer-encoding'] !== undefined) {
    throw new AdminError(
      'length_required',
      'send the archive with a Content-Length header (no chunked bodies)',
    );
  }
  const size = Number(header);
  if (!/^\d+$/.test(header) || !Number.isSafeInteger(size)) {
    throw new AdminError('invalid_request', `Content-Length "${header.slice(0, 40)}" is not a byte count`);
  }
  if (size > maxBytes) {
    throw new AdminError(
      'payload_too_large',
      `the archive has ${size} bytes; the largest accepted is ${maxBytes} (LOGZIP_INGEST_MAX_BYTES)`,
    );
  }
  if (size < MIN_ZIP_BYTES) {
    throw new AdminError('unsupported_media_type', `${size} bytes cannot be a ZIP archive`);
  }
  return size;
}

/**
 * An Idempotency-Key sent again with another body: refused, as the IETF Idempotency-Key draft
 * says (422), instead of replaying an answer about a different archive.
 */
function keyReused(firstSize: number, size: number): AdminError {
  return new AdminError(
    'idempotency_key_reused',
    firstSize === size
      ? 'this Idempotency-Key was used for an upload with a different body: use a new key for a new archive'
      : `this Idempotency-Key was used for an upload of ${firstSize} bytes, not ${size}: use a new key for a new archive`,
  );
}

/**
 * `PUT /api/archives/:logId`, in its own plugin so that its body parser (the raw stream, whatever
 * the Content-Type: the first bytes decide what the body is) touches no other route. Everything
 * that can refuse a request does so in onRequest, before a byte of the body is read: the token (the
 * ingest gate), the log ID, Content-Length (411/413), and a repeated Idempotency-Key (the first
 * answer is replayed). After an answer sent before the body was read, the rest of the body is
 * dropped for up to LINGER_MS, then the connection is closed if the body still has not ended.
 */
export async function putArchiveRoute(app: FastifyInstance, options: PutArchiveOptions): Promise<void> {
  const { ctx, store, maxBytes, idempotency } = options;
  app.decorateRequest('ingestUpload', null);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  // An answer sent before the body was read (a refusal, a replayed Idempotency-Key) must reach the
  // client: closing a socket with unread bytes resets it, and a reset can destroy the answer in
  // flight. So the connection is kept open (even when the client asked to close it) while the rest
  // of the body is read and dropped, for LINGER_MS at most; then it is closed.
  app.addHook('onSend', async (request, reply, payload) => {
    if (!request.raw.complete && !request.raw.destroyed) reply.header('connection', 'keep-alive');
    return payload;
  });
  app.addHook('onResponse', async (request) => {
    const raw = request.raw;
    if (raw.complete || raw.destroyed) return;
    const linger = setTimeout(() => raw.socket?.destroy(), LINGER_MS);
    linger.unref();
    raw.once('end', () => clearTimeout(linger));
    raw.once('error', () => clearTimeout(linger));
    raw.removeAllListeners('readable');
    raw.on('data', () => {});
    setImmediate(() => raw.resume());
  });
  // A lease left behind by a request that never reached its handler's finally (an abort).
  const settle = async (request: FastifyRequest) => {
    const lease = request.ingestUpload?.lease;
    if (lease !== undefined && request.ingestUpload !== null) {
      request.ingestUpload.lease = undefined;
      await lease.release().catch(() => {});
    }
  };
  app.addHook('onResponse', settle);
  app.addHook('onRequestAbort', settle);

  app.put<{ Params: { logId: string } }>(
    '/api/archives/:logId',
    {
      config: { auth: 'ingest' },
      onRequest: async (request, reply) => {
        const { logId } = request.params;
        const key = archiveKeyFor(ctx, logId);
        assertLogIdGranted(request, logId);
        const size = declaredSize(request, maxBytes);
        const idempotencyKey = request.headers[IDEMPOTENCY_HEADER];
        let lease: IdempotencyLease | undefined;
        if (idempotencyKey !== undefined) {
          if (typeof idempotencyKey !== 'string' || !IDEMPOTENCY_KEY_RE.test(idempotencyKey)) {
            throw new AdminError('invalid_request', 'Idempotency-Key must be 1-255 visible ASCII characters');
          }
          const begun = await idempotency.begin(request.ingestScope ?? '', idempotencyKey, logId);
          if (begun.kind === 'replay' || begun.kind === 'in_progress') {
            const usedFor = begun.kind === 'replay' ? begun.answer.logId : begun.logId;
            if (usedFor !== logId) {
              throw new AdminError(
                'conflict',
                `this Idempotency-Key was used for log ID "${usedFor}": use a new key for another upload`,
              );
            }
          }
          if (begun.kind === 'replay') {
            const first = begun.answer.request;
            if (first !== undefined && first.size !== size) throw keyReused(first.size, size);
            if (first !== undefined) {
              // Same size: the body decides (read and hashed in the handler, then replay or 422).
              request.ingestUpload = { logId, key, size, lease: undefined, replay: begun.answer };
              return;
            }
            request.log.info({ logId, key }, 'repeated Idempotency-Key: replaying the first answer');
            return reply.code(begun.answer.status).header(REPLAYED_HEADER, 'true').send(begun.answer.body);
          }
          if (begun.kind === 'in_progress') {
            reply.header('retry-after', '5');
            throw new AdminError(
              'conflict',
              'an upload with this Idempotency-Key is still running: retry when it has finished',
            );
          }
          lease = begun.lease;
        }
        request.ingestUpload = { logId, key, size, lease };
      },
    },
    async (request, reply) => {
      const plan = request.ingestUpload;
      if (plan === null) throw new AdminError('invalid_request', 'no upload was prepared');
      const { logId, key, size } = plan;
      const { bucket } = ctx.settings.incoming;
      const started = Date.now();
      // The object's metadata and the job carry the span to the route that extracts the archive.
      const span = startIngestSpan(
        options.tracer,
        request,
        { logId, bucket, key, method: 'PUT', route: '/api/archives/:logId' },
        { [SPAN_ATTRIBUTES.bytes]: size },
      );
      const traceparent = span.traceparent;
      const body = new UploadBody((request.body as Readable | undefined) ?? request.raw, {
        size,
        idleTimeoutMs: options.bodyIdleTimeoutMs,
        digest: plan.lease !== undefined || plan.replay !== undefined,
      });
      let completed = false;
      try {
        if (plan.replay !== undefined) {
          await body.drain();
          const first = plan.replay.request;
          if (first !== undefined && first.sha256 !== body.digest()) throw keyReused(first.size, size);
          request.log.info({ logId, key }, 'repeated Idempotency-Key, same body: replaying the first answer');
          completed = true;
          return reply.code(plan.replay.status).header(REPLAYED_HEADER, 'true').send(plan.replay.body);
        }
        const head = await body.peek(ZIP_SIGNATURE_BYTES);
        if (!startsLikeZip(head)) {
          throw new AdminError(
            'unsupported_media_type',
            `the body is not a ZIP archive (it starts with ${head.toString('hex') || 'nothing'}, not 504b0304): nothing was stored`,
          );
        }
        const { etag } = await store.put(bucket, key, body.stream(), {
          size,
          contentType: 'application/zip',
          ...(traceparent === undefined ? {} : { metadata: { [TRACEPARENT]: traceparent } }),
        });
        let dispatch: Dispatch;
        try {
          dispatch = await dispatchArchive(ctx, {
            logId,
            bucket,
            key,
            requestIds: { ingestRequestId: request.id },
            ...(traceparent === undefined ? {} : { traceparent }),
          });
        } catch (error) {
          // The bytes are safe: the sweeper takes archives nobody queued.
          request.log.error(
            { logId, key, err: error instanceof Error ? error.message : String(error) },
            'archive stored but not dispatched: the sweeper will pick it up',
          );
          dispatch = { route: 'queue', enqueued: false };
        }
        const answer: PutArchiveAnswer = {
          logId,
          key,
          etag,
          route: dispatch.route,
          enqueued: dispatch.enqueued,
        };
        request.log.info(
          {
            logId,
            key,
            ingestGrant: request.ingestGrant?.name,
            bytes: size,
            etag,
            route: dispatch.route,
            enqueued: dispatch.enqueued,
            durationMs: Date.now() - started,
          },
          'archive stored',
        );
        options.onDispatched?.({ endpoint: 'put', route: dispatch.route, bytes: size });
        span.setAttributes({ [SPAN_ATTRIBUTES.route]: dispatch.route, 'logzip.enqueued': dispatch.enqueued });
        if (plan.lease !== undefined) {
          const lease = plan.lease;
          plan.lease = undefined;
          await lease
            .complete({ logId, status: 202, body: { ...answer }, request: { size, sha256: body.digest() } })
            .catch((error: unknown) => {
              request.log.warn(
                { logId, err: error instanceof Error ? error.message : String(error) },
                'could not keep the answer for retries with this Idempotency-Key',
              );
            });
        }
        completed = true;
        return reply.code(202).send(answer);
      } catch (error) {
        span.fail(error);
        throw error;
      } finally {
        span.end();
        body.close();
        if (!completed && plan.lease !== undefined) {
          const lease = plan.lease;
          plan.lease = undefined;
          await lease.release().catch(() => {});
        }
      }
    },
  );
}
