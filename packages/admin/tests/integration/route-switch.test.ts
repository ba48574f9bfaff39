import { DeleteFunctionCommand, PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import {
  GetBucketNotificationConfigurationCommand,
  type NotificationConfiguration,
  PutBucketNotificationConfigurationCommand,
} from '@aws-sdk/client-s3';
import { CreateQueueCommand, SQS } from '@aws-sdk/client-sqs';
import { createAwsTriggerControl, TRIGGER_ID } from '@logzip/core/aws-trigger';
import { describeWithMoto, MOTO_CREDENTIALS, MOTO_REGION, requireMoto } from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { RouteStatus, SwitchRouteResult } from '../../src/operations/route.js';
import { createHarness, FOREIGN_ENTRIES, type Harness, INCOMING_PREFIX, TOKEN } from '../helpers/harness.js';

const auth = (operator = 'alice') => ({ authorization: `Bearer ${TOKEN}`, 'x-logzip-operator': operator });

describeWithMoto('route switch through the API (moto S3 + Lambda, real Redis)', () => {
  let h: Harness;
  let app: FastifyInstance;

  beforeEach(async () => {
    h = await createHarness({ storage: 's3', trigger: 'aws' });
    app = await buildApp({ ctx: h.ctx, adminToken: TOKEN, redis: h.redis, logger: false });
  });

  afterEach(async () => {
    await app.close();
    await h.close();
  });

  async function notification(): Promise<NotificationConfiguration> {
    const { $metadata: _, ...configuration } = await h.s3!.send(
      new GetBucketNotificationConfigurationCommand({ Bucket: h.bucket }),
    );
    return configuration;
  }

  async function switchTo(route: string, reason: string, operator = 'alice') {
    return app.inject({
      method: 'POST',
      url: '/api/route',
      headers: auth(operator),
      payload: { route, reason },
    });
  }

  it('switching back and forth keeps the foreign notification entries intact', async () => {
    // What moto cannot prove: that S3 then invokes (or stops invoking) the function — moto runs no
    // Lambda from S3 events without Docker — nor that AWS accepts the foreign entries' destinations.
    // Prepare
    const foreign = await notification();

    // Act
    const toLambda = await switchTo('lambda', 'post-deploy step');
    const withEntry = await notification();
    const toQueue = await switchTo('queue', 'Lambda timeouts since 02:10');
    const withoutEntry = await notification();
    const backToLambda = await switchTo('lambda', 'fixed');
    const again = await notification();

    // Assess
    expect(foreign.QueueConfigurations).toEqual(FOREIGN_ENTRIES.QueueConfigurations);
    expect(toLambda.statusCode).toBe(200);
    expect(toLambda.json<SwitchRouteResult>()).toMatchObject({
      ok: true,
      from: null,
      to: 'lambda',
      changed: true,
    });
    expect(withEntry.QueueConfigurations).toEqual(foreign.QueueConfigurations);
    expect(withEntry.TopicConfigurations).toEqual(foreign.TopicConfigurations);
    expect(withEntry.LambdaFunctionConfigurations).toEqual([
      expect.objectContaining({
        Id: TRIGGER_ID,
        Events: ['s3:ObjectCreated:*'],
        Filter: {
          Key: {
            FilterRules: [
              { Name: 'prefix', Value: INCOMING_PREFIX },
              { Name: 'suffix', Value: '.zip' },
            ],
          },
        },
      }),
    ]);
    expect(toQueue.json<SwitchRouteResult>()).toMatchObject({ ok: true, from: 'lambda', to: 'queue' });
    expect(withoutEntry).toEqual(foreign);
    expect(backToLambda.json<SwitchRouteResult>().status.drift.detected).toBe(false);
    expect(again).toEqual(withEntry);
    expect(await h.routes.get()).toBe('lambda');
  });

  it('is idempotent: the same switch twice changes nothing the second time', async () => {
    // Prepare
    await switchTo('lambda', 'first');
    const afterFirst = await notification();

    // Act
    const second = await switchTo('lambda', 'second');

    // Assess
    expect(second.json<SwitchRouteResult>()).toMatchObject({
      ok: true,
      changed: false,
      from: 'lambda',
      to: 'lambda',
    });
    expect(await notification()).toEqual(afterFirst);
  });

  it('detects drift when the configuration is changed behind the admin’s back', async () => {
    // What moto cannot prove: nothing specific; the S3 notification API behaves like AWS here.
    // Prepare
    await switchTo('queue', 'incident 42');
    const current = await notification();
    const trigger = createAwsTriggerControl({
      s3: h.s3!,
      lambda: h.lambda!,
      bucket: h.bucket,
      prefix: INCOMING_PREFIX,
      functionName: h.functionName!,
    });
    const arn = (await trigger.read()).details['functionArn'] as string;
    await h.s3!.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: h.bucket,
        NotificationConfiguration: {
          ...current,
          LambdaFunctionConfigurations: [
            { Id: 'by-hand', LambdaFunctionArn: arn, Events: ['s3:ObjectCreated:*'] },
          ],
        },
      }),
    );

    // Act
    const response = await app.inject({ method: 'GET', url: '/api/route', headers: auth() });

    // Assess
    const status = response.json<RouteStatus>();
    expect(status.desired).toBe('queue');
    expect(status.effective).toBe('lambda');
    expect(status.drift).toMatchObject({ detected: true, level: 'danger' });
    expect(status.drift.messages.join('\n')).toMatch(/route says queue but the S3 trigger is still on/);
    expect(status.drift.warnings.join('\n')).toMatch(/expected prefix "incoming\/" suffix ".zip"/);
  });

  it('a missing flag is unknown: the actual state is shown and nothing is guessed', async () => {
    // Act
    const status = (
      await app.inject({ method: 'GET', url: '/api/route', headers: auth() })
    ).json<RouteStatus>();

    // Assess
    expect(status.desired).toBeNull();
    expect(status.effective).toBe('queue');
    expect(status.drift.level).toBe('danger');
    expect(status.drift.messages[0]).toMatch(/route flag is not set/);
    expect(await h.routes.get()).toBeUndefined();
  });

  it('a switch that fails half-way is reported and leaves the flag truthful', async () => {
    // What moto cannot prove: moto would accept an entry for a deleted function; AWS would not. The
    // admin's own GetFunction check is what refuses here.
    // Prepare
    await switchTo('queue', 'incident');
    await h.lambda!.send(new DeleteFunctionCommand({ FunctionName: h.functionName! }));
    const before = await notification();

    // Act
    const response = await switchTo('lambda', 'try to go back');

    // Assess
    expect(response.statusCode).toBe(409);
    const body = response.json<{ error: { code: string; message: string }; result: SwitchRouteResult }>();
    expect(body.error.code).toBe('conflict');
    expect(body.error.message).toMatch(/does not exist/);
    expect(body.result).toMatchObject({ ok: false, phase: 'trigger', from: 'queue', to: 'lambda' });
    expect(await h.routes.get()).toBe('queue');
    expect(await notification()).toEqual(before);
    const audit = await h.ctx.audit.list();
    expect(audit[0]).toMatchObject({ operator: 'alice', action: 'route.switch', outcome: 'error' });
    expect(audit[0]?.details).toMatchObject({
      from: 'queue',
      to: 'lambda',
      reason: 'try to go back',
      phase: 'trigger',
    });
  });

  it('shows throttling (reserved concurrency 0) and the failure queue depth read back from AWS', async () => {
    // What moto cannot prove: moto stores reserved concurrency 0 but still accepts invocations; this
    // proves the admin reads it back and says what it means.
    // Prepare
    const endpoint = requireMoto();
    const sqs = new SQS({ endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
    const queue = await sqs.send(new CreateQueueCommand({ QueueName: `logzip-failures-${h.functionName}` }));
    await sqs.sendMessage({ QueueUrl: queue.QueueUrl!, MessageBody: '{"version":"1.0"}' });
    await h.lambda!.send(
      new PutFunctionConcurrencyCommand({ FunctionName: h.functionName!, ReservedConcurrentExecutions: 0 }),
    );
    h.ctx.trigger = createAwsTriggerControl({
      s3: h.s3!,
      lambda: h.lambda!,
      bucket: h.bucket,
      prefix: INCOMING_PREFIX,
      functionName: h.functionName!,
      sqs,
      failureQueueUrl: queue.QueueUrl!,
    });
    await switchTo('lambda', 'check');

    // Act
    const status = (
      await app.inject({ method: 'GET', url: '/api/route', headers: auth() })
    ).json<RouteStatus>();

    // Assess
    expect(status.actual?.details).toMatchObject({
      reservedConcurrency: 0,
      throttled: true,
      invokePermission: true,
      failureQueue: { url: queue.QueueUrl, visible: 1, inFlight: 0 },
    });
    expect(status.drift).toMatchObject({ detected: false, level: 'warning' });
    expect(status.drift.warnings.join('\n')).toMatch(/reserved concurrency is 0/);
    sqs.destroy();
  });

  it('records every switch in the audit log, in Redis and in the state store, with its operator', async () => {
    // Prepare
    await switchTo('lambda', 'deploy', 'alice');
    await switchTo('queue', 'incident 7', 'bob');

    // Act
    const api = (await app.inject({ method: 'GET', url: '/api/audit', headers: auth() })).json<{
      entries: Array<{ operator: string; action: string; details: Record<string, unknown> }>;
    }>();
    const inRedis = (await h.redis.lrange('logzip:audit', 0, -1)).map((line) => JSON.parse(line));
    const inState = await h.state.listAudit();

    // Assess
    expect(
      api.entries.map((e) => [e.operator, e.action, e.details['from'], e.details['to'], e.details['reason']]),
    ).toEqual([
      ['bob', 'route.switch', 'lambda', 'queue', 'incident 7'],
      ['alice', 'route.switch', null, 'lambda', 'deploy'],
    ]);
    expect(inRedis.map((e) => e.operator)).toEqual(['bob', 'alice']);
    expect(inState.map((e) => e.operator).sort()).toEqual(['alice', 'bob']);
  });
});
