import { randomUUID } from 'node:crypto';
import { createRedisOperationStore } from '@logzip/core/redis-index';
import { describeWithRedis } from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createAdminMetrics } from '../../src/http/metrics.js';
import type { OperationsContext } from '../../src/operations/context.js';
import { createHarness, goodArchive, type Harness, TOKEN } from '../helpers/harness.js';

const INGEST_TOKEN = `ingest-${randomUUID()}-${randomUUID()}`;
const METRICS_TOKEN = `metrics-${randomUUID()}-${randomUUID()}`;

/** Prometheus text → `name{labels}` → value, the labels as written. */
function samples(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    map.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return map;
}

describeWithRedis('admin /metrics', () => {
  let h: Harness;
  let app: FastifyInstance;

  beforeEach(async () => {
    h = await createHarness({ storage: 'fs' });
    const ctx: OperationsContext = {
      ...h.ctx,
      operations: { store: createRedisOperationStore({ redis: h.redis }), enqueueRun: async () => {} },
    };
    app = await buildApp({
      ctx,
      adminToken: TOKEN,
      redis: h.redis,
      logger: false,
      ingest: { token: INGEST_TOKEN, redis: h.redis },
      metrics: createAdminMetrics(ctx),
      metricsToken: METRICS_TOKEN,
    });
  });

  afterEach(async () => {
    await app?.close();
    await h?.close();
  });

  it('counts requests by route pattern and status, ingests by route, and shows the route flag and operations', async () => {
    // Prepare: an upload on the queue route, a status read, a refused call and an operation
    await h.routes.set('queue');
    const logId = `m${randomUUID().slice(0, 8)}`;
    const body = await goodArchive(logId);
    const ctx = h.ctx;
    const store = createRedisOperationStore({ redis: h.redis });
    await store.create(
      {
        kind: 'reenqueue',
        createdBy: 'alice',
        reason: 'metrics test',
        selection: { logIds: 1 },
        options: { ratePerSecond: 0 },
      },
      [logId],
      ctx.clock.now(),
    );
    const put = await app.inject({
      method: 'PUT',
      url: `/api/archives/${logId}`,
      headers: {
        authorization: `Bearer ${INGEST_TOKEN}`,
        'content-type': 'application/zip',
        'content-length': String(body.length),
      },
      payload: body,
    });
    await app.inject({
      method: 'GET',
      url: `/api/archives/${logId}`,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    await app.inject({
      method: 'GET',
      url: '/api/archives/nobody',
      headers: { authorization: 'Bearer wrong' },
    });

    // Act
    const scrape = await app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });

    // Assess
    expect(put.statusCode).toBe(202);
    expect(scrape.statusCode).toBe(200);
    expect(scrape.headers['content-type']).toMatch(/^text\/plain/);
    const values = samples(scrape.body);
    expect(
      values.get('logzip_admin_http_requests_total{method="PUT",route="/api/archives/:logId",status="202"}'),
    ).toBe(1);
    expect(
      values.get('logzip_admin_http_requests_total{method="GET",route="/api/archives/:logId",status="200"}'),
    ).toBe(1);
    expect(
      values.get('logzip_admin_http_requests_total{method="GET",route="/api/archives/:logId",status="401"}'),
    ).toBe(1);
    expect(
      values.get(
        'logzip_admin_http_request_duration_seconds_count{method="PUT",route="/api/archives/:logId",status="202"}',
      ),
    ).toBe(1);
    expect(values.get('logzip_admin_ingest_archives_total{endpoint="put",route="queue"}')).toBe(1);
    expect(values.get('logzip_admin_ingest_bytes_total')).toBe(body.length);
    expect(values.get('logzip_route{route="queue"}')).toBe(1);
    expect(values.get('logzip_route{route="lambda"}')).toBe(0);
    expect(values.get('logzip_operations{state="running"}')).toBe(1);
    expect(values.get('logzip_operations{state="finished"}')).toBe(0);
    expect([...values.keys()].some((name) => name.startsWith('logzip_admin_process_'))).toBe(true);
  });

  it('takes the metrics token or the admin token, and refuses none, a wrong one and an ingest token', async () => {
    // Act
    const scrape = (authorization?: string) =>
      app.inject({
        method: 'GET',
        url: '/metrics',
        headers: authorization === undefined ? {} : { authorization },
      });
    const answers = await Promise.all([
      scrape(`Bearer ${METRICS_TOKEN}`),
      scrape(`Bearer ${TOKEN}`),
      scrape(),
      scrape(`Bearer ${METRICS_TOKEN}x`),
      scrape(`Bearer ${INGEST_TOKEN}`),
    ]);

    // Assess
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 401, 401, 401]);
    expect(answers[2]?.json()).toMatchObject({ error: { code: 'unauthorized' } });
  });
});
