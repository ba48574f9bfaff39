import { randomUUID } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { jobIdFor, readTracingSettings, type Tracer } from '@logzip/core';
import { createOtelTracer } from '@logzip/core/otel';
import { describeWithMoto, type OtlpReceiver, requireRedis, startOtlpReceiver } from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createHarness, goodArchive, type Harness } from '../helpers/harness.js';
import { eventually, startTestWorker } from '../helpers/worker.js';

const INGEST_TOKEN = `ingest-${randomUUID()}-${randomUUID()}`;

/** A tracer of its own per service, as two processes would have, both sending to the receiver. */
function tracerFor(receiver: OtlpReceiver, service: string): Tracer {
  const { settings } = readTracingSettings(
    { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: service },
    service,
  );
  if (settings === undefined) throw new Error('tracing settings expected');
  return createOtelTracer(settings);
}

describeWithMoto('traces: ingest → job → worker, one trace per archive (OTLP/HTTP JSON receiver)', () => {
  let h: Harness;
  let app: FastifyInstance;
  let receiver: OtlpReceiver;
  let adminTracer: Tracer;
  let workerTracer: Tracer;
  let worker: { close(): Promise<void> } | undefined;

  beforeEach(async () => {
    receiver = await startOtlpReceiver();
    h = await createHarness({ storage: 's3' });
    adminTracer = tracerFor(receiver, 'logzip-admin');
    workerTracer = tracerFor(receiver, 'logzip-worker');
    app = await buildApp({
      ctx: h.ctx,
      adminToken: 'test-admin-token-0123456789abcdef-0123456789',
      redis: h.redis,
      logger: false,
      ingest: { token: INGEST_TOKEN, redis: h.redis, tracer: adminTracer },
    });
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await app?.close();
    await h?.close();
    await adminTracer?.shutdown();
    await workerTracer?.shutdown();
    await receiver?.close();
  });

  async function put(logId: string, body: Buffer) {
    return app.inject({
      method: 'PUT',
      url: `/api/archives/${logId}`,
      headers: {
        authorization: `Bearer ${INGEST_TOKEN}`,
        'content-type': 'application/zip',
        'content-length': String(body.length),
      },
      payload: body,
    });
  }

  it('queue route: the ingest span parents the job span, whose children are the engine phases', async () => {
    // Prepare
    await h.routes.set('queue');
    const logId = `tq${randomUUID().slice(0, 8)}`;
    const body = await goodArchive(logId);
    worker = startTestWorker(h, requireRedis(), { tracer: workerTracer });

    // Act
    const answer = await put(logId, body);
    await eventually(() => h.state.getManifest(logId));
    await Promise.all([adminTracer.flush(), workerTracer.flush()]);
    const ingest = await eventually(async () =>
      receiver.spans.find((s) => s.name === 'ingest' && s.attributes['logzip.log_id'] === logId),
    );
    await eventually(async () => {
      await workerTracer.flush();
      return receiver.spans.some((s) => s.name === 'queue extract' && s.traceId === ingest.traceId);
    });

    // Assess
    expect(answer.statusCode).toBe(202);
    expect(receiver.rejected).toEqual([]);
    const trace = receiver.spans.filter((s) => s.traceId === ingest.traceId);
    const job = trace.find((s) => s.name === 'queue extract');
    expect(ingest).toMatchObject({
      service: 'logzip-admin',
      parentSpanId: undefined,
      attributes: { 'logzip.route': 'queue', 'logzip.bytes': body.length },
    });
    expect(job).toMatchObject({
      service: 'logzip-worker',
      parentSpanId: ingest.spanId,
      attributes: {
        'logzip.log_id': logId,
        'logzip.route': 'queue',
        'logzip.entries': 2,
        'logzip.status': 'extracted',
        'messaging.message.id': jobIdFor(logId),
      },
    });
    const phases = trace.filter((s) => s.parentSpanId === job?.spanId);
    expect(phases.map((s) => s.name)).toEqual(['read directory', 'extract and write', 'manifest']);
    expect(phases[1]?.attributes).toMatchObject({ 'logzip.entries': 2 });
    // One trace for the archive, and no span per entry.
    expect(trace).toHaveLength(5);
    const job0 = await h.producer.queue.getJob(jobIdFor(logId));
    expect(job0?.data.traceparent).toBe(`00-${ingest.traceId}-${ingest.spanId}-01`);
  });

  it('lambda route: the archive stored by ingest carries the ingest span as its traceparent metadata', async () => {
    // Prepare
    await h.routes.set('lambda');
    const logId = `tl${randomUUID().slice(0, 8)}`;

    // Act
    const answer = await put(logId, await goodArchive(logId));
    await adminTracer.flush();
    const ingest = await eventually(async () =>
      receiver.spans.find((s) => s.name === 'ingest' && s.attributes['logzip.log_id'] === logId),
    );

    // Assess
    expect(answer.statusCode).toBe(202);
    const head = await h.s3?.send(new HeadObjectCommand({ Bucket: h.bucket, Key: answer.json().key }));
    expect(head?.Metadata?.['traceparent']).toBe(`00-${ingest.traceId}-${ingest.spanId}-01`);
    expect(ingest.attributes['logzip.route']).toBe('lambda');
  });
});
