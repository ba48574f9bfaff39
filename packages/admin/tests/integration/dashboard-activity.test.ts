import { DEFAULT_LIMITS, extractAndRecord, silentLogger } from '@logzip/core';
import { describeWithRedis } from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { InjectSession } from '../helpers/browser-session.js';
import {
  createHarness,
  goodArchive,
  type Harness,
  NOT_A_ZIP,
  OUTPUT_PREFIX,
  TOKEN,
} from '../helpers/harness.js';

describeWithRedis('regression (issue 17): the dashboard counts both routes, per hour', () => {
  let h: Harness;
  let app: FastifyInstance;

  beforeEach(async () => {
    h = await createHarness({ storage: 'fs', trigger: 'local' });
    app = await buildApp({ ctx: h.ctx, adminToken: TOKEN, redis: h.redis, logger: false });
  });

  afterEach(async () => {
    await app?.close();
    await h?.close();
  });

  /** One run of the engine as the given route does it (manifest or failure record written). */
  async function run(logId: string, body: Buffer, route: 'lambda' | 'queue') {
    const key = `incoming/${logId}.zip`;
    await h.upload(key, body);
    return extractAndRecord(
      { source: h.store, output: h.store, state: h.state, logger: silentLogger },
      {
        logId,
        source: { bucket: h.bucket, key },
        output: { bucket: h.bucket, prefix: OUTPUT_PREFIX },
        limits: DEFAULT_LIMITS,
        fallbackEncoding: 'cp932',
      },
      { route, attempt: 1, maxAttempts: 1 },
    );
  }

  it('writes hourly counters and the last extraction per route where extractions end, and shows them with a chart', async () => {
    // Prepare: two Lambda extractions, one queue extraction, one final failure on the queue
    await run('71001', await goodArchive('71001'), 'lambda');
    await run('71002', await goodArchive('71002'), 'lambda');
    await run('71003', await goodArchive('71003'), 'queue');
    await run('71004', NOT_A_ZIP, 'queue');
    const session = new InjectSession(app);
    await session.login(TOKEN, 'alice');

    // Act
    const activity = await h.ctx.index.activity?.(new Date());
    const health = await app.inject({
      method: 'GET',
      url: '/api/health',
      headers: { authorization: `Bearer ${TOKEN}`, 'x-logzip-operator': 'alice' },
    });
    const dashboard = await session.get('/');

    // Assess
    expect(activity?.window).toEqual({
      minutes: 60,
      extracted: { lambda: 2, queue: 1 },
      failed: { lambda: 0, queue: 1 },
    });
    expect(activity?.hours).toHaveLength(24);
    const sum = (kind: 'extracted' | 'failed', route: 'lambda' | 'queue') =>
      (activity?.hours ?? []).reduce((n, hour) => n + hour[kind][route], 0);
    expect([sum('extracted', 'lambda'), sum('extracted', 'queue'), sum('failed', 'queue')]).toEqual([
      2, 1, 1,
    ]);
    expect(activity?.lastExtracted.lambda).not.toBeNull();
    expect(activity?.lastExtracted.queue).not.toBeNull();
    expect(health.json().lastExtraction).toEqual(activity?.lastExtracted);
    const body = dashboard.body;
    expect(body).toMatch(
      /data-route="lambda">lambda <strong>2<\/strong> extracted, <strong>0<\/strong> failed/,
    );
    expect(body).toMatch(
      /data-route="queue">queue <strong>1<\/strong> extracted, <strong>1<\/strong> failed/,
    );
    expect(body).toContain('id="activity-chart"');
    expect(body).toContain('extracted (3)');
    expect(body).toContain('failed for good (1)');
    expect(body).toContain('<meta http-equiv="refresh" content="30">');
    expect(body).toContain('id="health-strip"');
  });
});
