import { parseLogId, SPAN_ATTRIBUTES, type Tracer } from '@logzip/core';
import type { FastifyInstance } from 'fastify';
import { AdminError } from '../errors.js';
import type { IngestDispatched } from '../http/metrics.js';
import type { OperationsContext } from '../operations/context.js';
import { assertInsideIncoming, isLogId } from '../operations/keys.js';
import { type Dispatch, dispatchArchive } from './dispatch.js';
import { assertLogIdGranted } from './gate.js';
import type { UploadPresigner } from './presign.js';
import { archiveKeyFor, startIngestSpan } from './put-archive.js';

export interface NotifyRoutesOptions {
  ctx: OperationsContext;
  maxBytes: number;
  /** Presigns direct uploads on S3; undefined with folder storage (the PUT URL is handed out). */
  presigner: UploadPresigner | undefined;
  /** LOGZIP_PUBLIC_URL, the base of the PUT URL. */
  publicUrl: string;
  presignExpiresSeconds: number;
  onDispatched?: (event: IngestDispatched) => void;
  /** The `ingest` span of an announced archive; none by default. */
  tracer?: Tracer;
}

/** `POST /api/archives` answer (docs/http-api.md): exactly these four fields. */
export interface NotifyAnswer {
  logId: string;
  key: string;
  route: Dispatch['route'];
  enqueued: boolean;
}

/** `POST /api/uploads` answer: how to send the archive, and where it will be. */
export interface UploadTicket {
  method: 'POST' | 'PUT';
  url: string;
  /** Form fields to send before the file (presigned POST only). */
  fields?: Record<string, string>;
  key: string;
  /** When the presigned POST stops being accepted; null for the PUT URL (the ingest token is the permission). */
  expiresAt: string | null;
}

const notifyBody = {
  type: 'object',
  required: ['key'],
  additionalProperties: false,
  properties: {
    key: { type: 'string', minLength: 1, maxLength: 1024 },
    bucket: { type: 'string', minLength: 1, maxLength: 255 },
    logId: { type: 'string', minLength: 1, maxLength: 200 },
  },
} as const;

const uploadsBody = {
  type: 'object',
  required: ['logId'],
  additionalProperties: false,
  properties: {
    logId: { type: 'string', minLength: 1, maxLength: 200 },
    /** The archive's size when the uploader knows it: refused at once when over the limit. */
    size: { type: 'integer', minimum: 0 },
  },
} as const;

/**
 * `POST /api/archives` ("this key was uploaded", from an upload server that writes to S3 itself)
 * and `POST /api/uploads` (where a desktop app should send an archive itself).
 */
export async function notifyRoutes(app: FastifyInstance, options: NotifyRoutesOptions): Promise<void> {
  const { ctx } = options;

  app.post<{ Body: { key: string; bucket?: string; logId?: string } }>(
    '/api/archives',
    { config: { auth: 'ingest' }, schema: { body: notifyBody } },
    async (request, reply) => {
      const { key, bucket, logId: given } = request.body;
      assertInsideIncoming(ctx.settings, bucket, key);
      let logId: string;
      try {
        logId = parseLogId(key, ctx.settings.logIdPattern);
      } catch {
        throw new AdminError(
          'invalid_request',
          `"${key.slice(0, 200)}" does not match the log ID pattern (LOGZIP_LOG_ID_PATTERN): name the archive <logId>.zip or <logId>-<anything>.zip`,
        );
      }
      if (given !== undefined) {
        if (!isLogId(given)) {
          throw new AdminError(
            'invalid_request',
            `"${given.slice(0, 80)}" is not a log ID (1-64 characters of [0-9A-Za-z_-])`,
          );
        }
        if (given !== logId) {
          throw new AdminError('invalid_request', `the key names log ID "${logId}", not "${given}"`);
        }
      }
      assertLogIdGranted(request, logId);
      const incomingBucket = ctx.settings.incoming.bucket;
      // The object was written by someone else, without the span in its metadata: the pending set
      // and the job carry it.
      const span = startIngestSpan(options.tracer, request, {
        logId,
        bucket: incomingBucket,
        key,
        method: 'POST',
        route: '/api/archives',
      });
      let dispatch: Dispatch;
      try {
        const archive = await ctx.store.head(incomingBucket, key);
        if (archive === undefined) {
          throw new AdminError('not_found', `no object at s3://${incomingBucket}/${key}`);
        }
        const traceparent = span.traceparent;
        dispatch = await dispatchArchive(ctx, {
          logId,
          bucket: incomingBucket,
          key,
          requestIds: { ingestRequestId: request.id },
          ...(traceparent === undefined ? {} : { traceparent }),
        });
        span.setAttributes({ [SPAN_ATTRIBUTES.route]: dispatch.route, 'logzip.enqueued': dispatch.enqueued });
      } catch (error) {
        span.fail(error);
        throw error;
      } finally {
        span.end();
      }
      request.log.info(
        {
          logId,
          key,
          ingestGrant: request.ingestGrant?.name,
          route: dispatch.route,
          enqueued: dispatch.enqueued,
        },
        'archive announced',
      );
      options.onDispatched?.({ endpoint: 'notify', route: dispatch.route });
      const answer: NotifyAnswer = { logId, key, route: dispatch.route, enqueued: dispatch.enqueued };
      return reply.code(202).send(answer);
    },
  );

  app.post<{ Body: { logId: string; size?: number } }>(
    '/api/uploads',
    { config: { auth: 'ingest' }, schema: { body: uploadsBody } },
    async (request) => {
      const { logId, size } = request.body;
      const key = archiveKeyFor(ctx, logId);
      assertLogIdGranted(request, logId);
      if (size !== undefined && size > options.maxBytes) {
        throw new AdminError(
          'payload_too_large',
          `the archive has ${size} bytes; the largest accepted is ${options.maxBytes} (LOGZIP_INGEST_MAX_BYTES)`,
        );
      }
      if (options.presigner === undefined) {
        const url = new URL(`api/archives/${encodeURIComponent(logId)}`, withSlash(options.publicUrl));
        const ticket: UploadTicket = { method: 'PUT', url: url.toString(), key, expiresAt: null };
        return ticket;
      }
      const expiresAt = new Date(ctx.clock.now().getTime() + options.presignExpiresSeconds * 1000);
      const post = await options.presigner.presignPost({
        bucket: ctx.settings.incoming.bucket,
        key,
        maxBytes: options.maxBytes,
        expiresInSeconds: options.presignExpiresSeconds,
      });
      const ticket: UploadTicket = {
        method: 'POST',
        url: post.url,
        fields: post.fields,
        key,
        expiresAt: expiresAt.toISOString(),
      };
      return ticket;
    },
  );
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
