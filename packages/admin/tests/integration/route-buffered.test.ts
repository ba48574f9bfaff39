import { GetBucketNotificationConfigurationCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { migrateTrigger, TRIGGER_ID, type TriggerMigrationRequest } from '@logzip/core/aws-trigger';
import { describeWithMoto } from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { renderStatus } from '../../src/cli/commands/route.js';
import { migrateRoute } from '../../src/operations/migrate.js';
import type { RouteStatus, SwitchRouteResult } from '../../src/operations/route.js';
import { createHarness, FOREIGN_ENTRIES, type Harness, INCOMING_PREFIX, TOKEN } from '../helpers/harness.js';

const auth = { authorization: `Bearer ${TOKEN}`, 'x-logzip-operator': 'alice' };

// moto keeps the event source mapping's Enabled flag and delivers the bucket's notifications to
// SQS; it never polls the queue for the mapping (the local emulator plays that part).
describeWithMoto('route switch in buffered mode through the API (moto S3 + SQS + Lambda, real Redis)', () => {
  let h: Harness;
  let app: FastifyInstance;

  beforeEach(async () => {
    h = await createHarness({ storage: 's3', trigger: 'buffered' });
    app = await buildApp({ ctx: h.ctx, adminToken: TOKEN, redis: h.redis, logger: false });
  });

  afterEach(async () => {
    await app.close();
    await h.close();
  });

  const status = async () =>
    (await app.inject({ method: 'GET', url: '/api/route', headers: auth })).json<RouteStatus>();
  const switchTo = async (route: string) =>
    app.inject({
      method: 'POST',
      url: '/api/route',
      headers: auth,
      payload: { route, reason: `to ${route}` },
    });

  it('shows the mode, the mapping as AWS reports it, the queue depths, and drift until the entry is installed', async () => {
    // Act
    const before = await status();
    const toQueue = (await switchTo('queue')).json<SwitchRouteResult>();
    await h.s3!.send(new PutObjectCommand({ Bucket: h.bucket, Key: 'incoming/ab/777.zip', Body: 'zip?' }));
    const after = await status();

    // Assess
    expect(before.mode).toBe('buffered');
    expect(before.drift.detected).toBe(true);
    expect(before.drift.messages.join('\n')).toMatch(/no notification entry sending/);
    expect(toQueue).toMatchObject({ ok: true, to: 'queue' });
    expect(after.drift).toMatchObject({ detected: false });
    expect(after.effective).toBe('queue');
    expect(after.actual?.details['mapping']).toMatchObject({
      state: 'Disabled',
      batchSize: 10,
      maximumConcurrency: 5,
    });
    // The test event S3 sent when the entry was saved, and the upload: both wait in the queue.
    expect(after.actual?.details['queue']).toMatchObject({ visible: 2, inFlight: 0 });
    expect(after.actual?.details['deadLetterQueue']).toMatchObject({ visible: 0 });
  });

  it('lambda enables the mapping, queue disables it, and neither removes the entry or a foreign one', async () => {
    // Act
    const toLambda = (await switchTo('lambda')).json<SwitchRouteResult>();
    const toQueue = (await switchTo('queue')).json<SwitchRouteResult>();
    const again = (await switchTo('queue')).json<SwitchRouteResult>();
    const { $metadata: _, ...configuration } = await h.s3!.send(
      new GetBucketNotificationConfigurationCommand({ Bucket: h.bucket }),
    );
    const audit = (await app.inject({ method: 'GET', url: '/api/audit', headers: auth })).json<{
      entries: Array<{ action: string }>;
    }>();

    // Assess
    expect(toLambda.status.actual?.details['mapping']).toMatchObject({ state: 'Enabled' });
    expect(toLambda.status.drift.detected).toBe(false);
    expect(toQueue.status.actual?.details['mapping']).toMatchObject({ state: 'Disabled' });
    expect(again).toMatchObject({ ok: true, changed: false });
    expect(configuration.TopicConfigurations).toEqual(FOREIGN_ENTRIES.TopicConfigurations);
    expect(configuration.QueueConfigurations).toEqual(
      expect.arrayContaining([
        ...(FOREIGN_ENTRIES.QueueConfigurations ?? []),
        expect.objectContaining({ Id: TRIGGER_ID, QueueArn: h.buffered!.queueArn }),
      ]),
    );
    expect(audit.entries.filter((e) => e.action.startsWith('route')).length).toBeGreaterThanOrEqual(3);
  });
});

// AWS reports a mapping `Enabling` or `Disabling` for a few seconds after UpdateEventSourceMapping;
// moto never does: its UpdateEventSourceMapping sets the flag, and every read answers `Enabled` or
// `Disabled` (moto/awslambda/models.py: "Enabled" if self.enabled else "Disabled"). So one thing is
// not moto's here: a middleware on the admin's Lambda client rewrites the State of the
// ListEventSourceMappings answer, the read the admin reports from. Everything else (the mapping's
// other fields, the queue, the notification, the flag) is moto's and Redis's. A middleware on the
// real client rather than aws-sdk-client-mock: only that one field is played, and the workspace
// gains no dependency.
describeWithMoto('route status in buffered mode while AWS reports a transitional mapping state', () => {
  let h: Harness;
  let app: FastifyInstance;
  let reported: string | undefined;
  const updates: Array<boolean | undefined> = [];

  beforeEach(async () => {
    h = await createHarness({ storage: 's3', trigger: 'buffered' });
    app = await buildApp({ ctx: h.ctx, adminToken: TOKEN, redis: h.redis, logger: false });
    reported = undefined;
    updates.length = 0;
    const lambda = (h.buffered as NonNullable<Harness['buffered']>).lambda;
    lambda.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateEventSourceMappingCommand')
          updates.push((args.input as { Enabled?: boolean }).Enabled);
        const result = await next(args);
        const output = result.output as { EventSourceMappings?: Array<{ State?: string }> };
        if (context.commandName === 'ListEventSourceMappingsCommand' && reported !== undefined)
          for (const mapping of output.EventSourceMappings ?? []) mapping.State = reported;
        return result;
      },
      { step: 'initialize', name: 'transitionalMappingState' },
    );
  });

  afterEach(async () => {
    await app.close();
    await h.close();
  });

  const get = async () =>
    (await app.inject({ method: 'GET', url: '/api/route', headers: auth })).json<RouteStatus>();
  const post = async (route: string) =>
    (
      await app.inject({
        method: 'POST',
        url: '/api/route',
        headers: auth,
        payload: { route, reason: `to ${route}` },
      })
    ).json<SwitchRouteResult>();

  it('reports Enabling as AWS does: consuming, the route lambda in effect, no drift, and switching to lambda again sends no update', async () => {
    // Prepare
    await post('lambda');
    const sent = updates.length;
    reported = 'Enabling';

    // Act
    const status = await get();
    const again = await post('lambda');

    // Assess
    expect(status.actual?.details['mapping']).toMatchObject({ state: 'Enabling' });
    expect(status.actual?.enabled).toBe(true);
    expect(status.effective).toBe('lambda');
    expect(status.drift.detected).toBe(false);
    expect(renderStatus(status)).toMatch(/^event source mapping: Enabling, batch size 10/m);
    expect(again).toMatchObject({ ok: true, changed: false });
    expect(updates.slice(sent)).toEqual([]);
  });

  it('reports Disabling as AWS does: not consuming, a problem saying Lambda may still take batches, and switching to queue again sends no update', async () => {
    // Prepare
    await post('lambda');
    await post('queue');
    const sent = updates.length;
    reported = 'Disabling';

    // Act
    const status = await get();
    const again = await post('queue');

    // Assess
    expect(updates.slice(0, sent)).toEqual([true, false]);
    expect(status.actual?.details['mapping']).toMatchObject({ state: 'Disabling' });
    expect(status.actual?.enabled).toBe(false);
    expect(status.effective).toBe('queue');
    expect(status.actual?.problems.join('\n')).toMatch(/Disabling: Lambda may still take batches/);
    expect(renderStatus(status)).toMatch(/^event source mapping: Disabling, batch size 10/m);
    expect(again).toMatchObject({ ok: true, changed: false });
    expect(updates.slice(sent)).toEqual([]);
  });
});

// `logzip route migrate` on the direct path: the operation around core's migrateTrigger (which
// packages/core/tests/integration/trigger-migration.test.ts runs through both directions).
describeWithMoto('route migrate (the operation behind logzip route migrate)', () => {
  let h: Harness;
  const actor = { operator: 'alice', channel: 'cli' as const };

  beforeEach(async () => {
    h = await createHarness({ storage: 's3', trigger: 'buffered' });
  });

  afterEach(async () => {
    await h.close();
  });

  const migrate = (request: TriggerMigrationRequest) => {
    const stack = h.buffered as NonNullable<Harness['buffered']>;
    return migrateTrigger(
      {
        s3: h.s3 as NonNullable<Harness['s3']>,
        lambda: stack.lambda,
        sqs: stack.sqs,
        bucket: h.bucket,
        prefix: INCOMING_PREFIX,
        functionName: stack.functionName,
        queueUrl: stack.queueUrl,
      },
      request,
    );
  };
  const input = { to: 'buffered' as const, reason: 'buffered mode', drainTimeoutMs: 5_000 };

  it('keeps the route flag, refuses without one (audited) or while a switch holds the lock, and audits the move as route.migrate', async () => {
    // Act
    const unset = await migrateRoute(h.ctx, input, actor, migrate).catch((error: unknown) => error);
    await h.ctx.routes.set('queue');
    const lock = h.ctx.lock as NonNullable<typeof h.ctx.lock>;
    const release = await lock.acquire('route-switch', 10_000);
    const locked = await migrateRoute(h.ctx, input, actor, migrate).catch((error: unknown) => error);
    await release?.();
    const result = await migrateRoute(h.ctx, input, actor, migrate);
    const flag = await h.ctx.routes.get();
    const audit = (await h.ctx.audit.list()).filter((e) => e.action === 'route.migrate');

    // Assess
    expect(unset).toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/route flag is not set/),
    });
    expect(locked).toMatchObject({ code: 'conflict', message: expect.stringMatching(/in progress/) });
    expect(result).toMatchObject({ to: 'buffered', route: 'queue', drained: true });
    expect(result.state.details['mapping']).toMatchObject({ state: 'Disabled' });
    expect(flag).toBe('queue');
    expect(audit.map((e) => [e.outcome, e.operator])).toEqual([
      ['ok', 'alice'],
      ['error', 'alice'],
    ]);
    expect(audit[0]?.details).toMatchObject({
      channel: 'cli',
      to: 'buffered',
      route: 'queue',
      drained: true,
    });
  });
});
