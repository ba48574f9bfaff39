import { randomUUID } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { jobIdFor, readTracingSettings, shardedArchiveKey, type Tracer } from '@logzip/core';
import { createOtelTracer } from '@logzip/core/otel';
import { observedTraceparent } from '@logzip/core/state';
import { describeWithMoto, type OtlpReceiver, requireRedis, startOtlpReceiver } from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createHarness, goodArchive, type Harness, INCOMING_PREFIX } from '../helpers/harness.js';
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

/** An admin app on real Redis and storage, with a tracer per service sending to one receiver. */
function tracedAdmin(storage: 'fs' | 's3') {
  const t = {} as {
    h: Harness;
    app: FastifyInstance;
    receiver: OtlpReceiver;
    adminTracer: Tracer;
    workerTracer: Tracer;
    worker: { close(): Promise<void> } | undefined;
  };

  beforeEach(async () => {
    t.receiver = await startOtlpReceiver();
    t.h = await createHarness({ storage });
    t.adminTracer = tracerFor(t.receiver, 'logzip-admin');
    t.workerTracer = tracerFor(t.receiver, 'logzip-worker');
    t.app = await buildApp({
      ctx: t.h.ctx,
      adminToken: 'test-admin-token-0123456789abcdef-0123456789',
      redis: t.h.redis,
      logger: false,
      ingest: { token: INGEST_TOKEN, redis: t.h.redis, tracer: t.adminTracer },
    });
  });

  afterEach(async () => {
    await t.worker?.close();
    t.worker = undefined;
    await t.app?.close();
    await t.h?.close();
    await t.adminTracer?.shutdown();
    await t.workerTracer?.shutdown();
    await t.receiver?.close();
  });
  return t;
}

describeWithMoto('traces: ingest → job → worker, one trace per archive (OTLP/HTTP JSON receiver)', () => {
  const t = tracedAdmin('s3');

  async function put(logId: string, body: Buffer) {
    return t.app.inject({
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
    await t.h.routes.set('queue');
    const logId = `tq${randomUUID().slice(0, 8)}`;
    const body = await goodArchive(logId);
    t.worker = startTestWorker(t.h, requireRedis(), { tracer: t.workerTracer });

    // Act
    const answer = await put(logId, body);
    await eventually(() => t.h.state.getManifest(logId));
    await Promise.all([t.adminTracer.flush(), t.workerTracer.flush()]);
    const ingest = await eventually(async () =>
      t.receiver.spans.find((s) => s.name === 'ingest' && s.attributes['logzip.log_id'] === logId),
    );
    await eventually(async () => {
      await t.workerTracer.flush();
      return t.receiver.spans.some((s) => s.name === 'queue extract' && s.traceId === ingest.traceId);
    });

    // Assess
    expect(answer.statusCode).toBe(202);
    expect(t.receiver.rejected).toEqual([]);
    const trace = t.receiver.spans.filter((s) => s.traceId === ingest.traceId);
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
    const job0 = await t.h.producer.queue.getJob(jobIdFor(logId));
    expect(job0?.data.traceparent).toBe(`00-${ingest.traceId}-${ingest.spanId}-01`);
  });

  it('lambda route: the archive stored by ingest carries the ingest span as its traceparent metadata', async () => {
    // Prepare
    await t.h.routes.set('lambda');
    const logId = `tl${randomUUID().slice(0, 8)}`;

    // Act
    const answer = await put(logId, await goodArchive(logId));
    await t.adminTracer.flush();
    const ingest = await eventually(async () =>
      t.receiver.spans.find((s) => s.name === 'ingest' && s.attributes['logzip.log_id'] === logId),
    );

    // Assess
    expect(answer.statusCode).toBe(202);
    const head = await t.h.s3?.send(new HeadObjectCommand({ Bucket: t.h.bucket, Key: answer.json().key }));
    expect(head?.Metadata?.['traceparent']).toBe(`00-${ingest.traceId}-${ingest.spanId}-01`);
    expect(ingest.attributes['logzip.route']).toBe('lambda');
  });
});

describeWithMoto(
  'traces: an archive without traceparent metadata continues the trace from the pending set',
  () => {
    // Folder storage (pnpm start's default) keeps no object metadata.
    const t = tracedAdmin('fs');

    it('notify on folder storage: a job without traceparent (a sweep) is parented by the ingest span', async () => {
      // Prepare: an upload server wrote the archive itself (no metadata) and announces it while the
      // route is lambda, so no job carries the trace.
      await t.h.routes.set('lambda');
      const logId = `tn${randomUUID().slice(0, 8)}`;
      const key = shardedArchiveKey(INCOMING_PREFIX, logId);
      await t.h.upload(key, await goodArchive(logId));

      // Act
      const answer = await t.app.inject({
        method: 'POST',
        url: '/api/archives',
        headers: { authorization: `Bearer ${INGEST_TOKEN}` },
        payload: { key },
      });
      await t.adminTracer.flush();
      const ingest = await eventually(async () =>
        t.receiver.spans.find((s) => s.name === 'ingest' && s.attributes['logzip.log_id'] === logId),
      );
      const observed = await observedTraceparent(t.h.state, logId);
      // The sweeper's job: no traceparent of its own, the object no metadata.
      await t.h.routes.set('queue');
      await t.h.producer.enqueue({ logId, bucket: t.h.bucket, key, reason: 'sweep' });
      t.worker = startTestWorker(t.h, requireRedis(), { tracer: t.workerTracer });
      await eventually(() => t.h.state.getManifest(logId));
      const job = await eventually(async () => {
        await t.workerTracer.flush();
        return t.receiver.spans.find(
          (s) => s.name === 'queue extract' && s.attributes['logzip.log_id'] === logId,
        );
      });

      // Assess
      expect(answer.statusCode).toBe(202);
      expect(t.receiver.rejected).toEqual([]);
      expect(ingest).toMatchObject({
        service: 'logzip-admin',
        parentSpanId: undefined,
        attributes: { 'logzip.route': 'lambda', 'http.route': '/api/archives' },
      });
      expect(observed).toBe(`00-${ingest.traceId}-${ingest.spanId}-01`);
      expect(job).toMatchObject({
        service: 'logzip-worker',
        traceId: ingest.traceId,
        parentSpanId: ingest.spanId,
        attributes: { 'logzip.status': 'extracted', 'logzip.job.reason': 'sweep' },
      });
      const phases = t.receiver.spans.filter((s) => s.parentSpanId === job.spanId).map((s) => s.name);
      expect(phases).toEqual(['read directory', 'extract and write', 'manifest']);
    });
  },
);
