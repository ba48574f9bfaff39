import { randomUUID } from 'node:crypto';
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetPolicyCommand,
  LambdaClient,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
} from '@aws-sdk/client-lambda';
import {
  CreateBucketCommand,
  GetBucketNotificationConfigurationCommand,
  type NotificationConfiguration,
  PutBucketNotificationConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  buildZip,
  createMotoS3Client,
  describeWithMoto,
  MOTO_CREDENTIALS,
  MOTO_REGION,
  motoLambdaRole,
  requireMoto,
} from '@logzip/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createAwsTriggerControl,
  createLocalTriggerControl,
  TRIGGER_ID,
  TriggerControlError,
} from '../../src/adapters/aws-trigger/index.js';
import type { Route, RouteStore } from '../../src/ports/route.js';

// moto_server is started once per run by the integration global setup, which also switches its
// Lambda backend to use_docker=false before any test creates a function.
let endpoint: string;
let s3: S3Client;
let lambda: LambdaClient;
let roleArn: string;

async function createFunction(name: string): Promise<string> {
  const code = await buildZip([
    { name: 'index.mjs', data: 'export const handler = async () => ({ ok: true });\n' },
  ]);
  const created = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs20.x',
      Role: roleArn,
      Handler: 'index.handler',
      Code: { ZipFile: code },
    }),
  );
  return created.FunctionArn!;
}

async function readConfiguration(bucket: string): Promise<NotificationConfiguration> {
  const { $metadata: _, ...configuration } = await s3.send(
    new GetBucketNotificationConfigurationCommand({ Bucket: bucket }),
  );
  return configuration;
}

/** A bucket whose configuration already has entries that belong to someone else. */
async function bucketWithForeignEntries(): Promise<{ bucket: string; foreign: NotificationConfiguration }> {
  const bucket = `trigger-${randomUUID()}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const otherFunction = await createFunction(`other-${randomUUID().slice(0, 8)}`);
  const foreign: NotificationConfiguration = {
    QueueConfigurations: [
      {
        Id: 'audit-deletes',
        QueueArn: 'arn:aws:sqs:us-east-1:123456789012:audit',
        Events: ['s3:ObjectRemoved:*'],
      },
    ],
    LambdaFunctionConfigurations: [
      {
        Id: 'thumbnails',
        LambdaFunctionArn: otherFunction,
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'images/' }] } },
      },
    ],
  };
  await s3.send(
    new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: foreign }),
  );
  return { bucket, foreign: await readConfiguration(bucket) };
}

function memoryRouteStore(initial?: Route): RouteStore {
  let value = initial;
  return {
    async get() {
      return value;
    },
    async set(route) {
      value = route;
    },
  };
}

describeWithMoto('createAwsTriggerControl', () => {
  beforeAll(async () => {
    endpoint = requireMoto();
    s3 = createMotoS3Client();
    lambda = new LambdaClient({ endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
    roleArn = await motoLambdaRole(endpoint);
  });

  it('switching off and on again keeps every foreign notification entry intact', async () => {
    // What moto cannot prove: AWS validates destinations on Put (a foreign entry whose queue or
    // function is gone makes the whole Put fail); moto accepts any ARN. Only the editing is proven.
    // Prepare
    const { bucket, foreign } = await bucketWithForeignEntries();
    const functionName = `logzip-${randomUUID().slice(0, 8)}`;
    const functionArn = await createFunction(functionName);
    const trigger = createAwsTriggerControl({ s3, lambda, bucket, prefix: 'incoming/', functionName });

    // Act
    const enabled = await trigger.enable();
    const afterEnable = await readConfiguration(bucket);
    const disabled = await trigger.disable();
    const afterDisable = await readConfiguration(bucket);
    const enabledAgain = await trigger.enable();
    const afterSecondEnable = await readConfiguration(bucket);

    // Assess
    expect(enabled.enabled).toBe(true);
    expect(enabled.filter).toEqual({ prefix: 'incoming/', suffix: '.zip' });
    expect(enabled.details['entryId']).toBe(TRIGGER_ID);
    expect(afterEnable.QueueConfigurations).toEqual(foreign.QueueConfigurations);
    expect(afterEnable.LambdaFunctionConfigurations).toEqual([
      ...(foreign.LambdaFunctionConfigurations ?? []),
      expect.objectContaining({
        Id: TRIGGER_ID,
        LambdaFunctionArn: functionArn,
        Events: ['s3:ObjectCreated:*'],
      }),
    ]);
    expect(disabled.enabled).toBe(false);
    expect(afterDisable).toEqual(foreign);
    expect(enabledAgain.enabled).toBe(true);
    expect(afterSecondEnable).toEqual(afterEnable);
  });

  it('is idempotent: enabling twice leaves one entry and one permission, disabling twice is a no-op', async () => {
    // What moto cannot prove: that S3 then invokes the function (moto does not run Lambdas from
    // S3 events without Docker) nor that AWS would accept the permission's SourceAccount.
    // Prepare
    const { bucket, foreign } = await bucketWithForeignEntries();
    const functionName = `logzip-${randomUUID().slice(0, 8)}`;
    await createFunction(functionName);
    const trigger = createAwsTriggerControl({ s3, lambda, bucket, prefix: 'incoming/', functionName });

    // Act
    await trigger.enable();
    const second = await trigger.enable();
    const entries = (await readConfiguration(bucket)).LambdaFunctionConfigurations ?? [];
    const policy = JSON.parse(
      (await lambda.send(new GetPolicyCommand({ FunctionName: functionName }))).Policy!,
    );
    await trigger.disable();
    const secondDisable = await trigger.disable();

    // Assess
    expect(second.enabled).toBe(true);
    expect(second.details['invokePermission']).toBe(true);
    expect(entries.filter((entry) => entry.Id === TRIGGER_ID)).toHaveLength(1);
    expect(policy.Statement).toHaveLength(1);
    expect(policy.Statement[0]).toMatchObject({
      Principal: { Service: 's3.amazonaws.com' },
      Action: 'lambda:InvokeFunction',
      Condition: { ArnLike: { 'AWS:SourceArn': `arn:aws:s3:::${bucket}` } },
    });
    expect(secondDisable.enabled).toBe(false);
    expect(await readConfiguration(bucket)).toEqual(foreign);
  });

  it('refuses to enable a function that does not exist and leaves the configuration untouched', async () => {
    // What moto cannot prove: moto itself would accept a notification entry for a missing function
    // (AWS refuses it); the adapter checks with GetFunction first, which is what this proves.
    // Prepare
    const { bucket, foreign } = await bucketWithForeignEntries();
    const trigger = createAwsTriggerControl({
      s3,
      lambda,
      bucket,
      prefix: 'incoming/',
      functionName: 'no-such-fn',
    });

    // Act
    const error = await trigger.enable().catch((e: unknown) => e);
    const state = await trigger.read();

    // Assess
    expect(error).toBeInstanceOf(TriggerControlError);
    expect(error).toMatchObject({ step: 'get_function', failure: 'function_not_found' });
    expect(await readConfiguration(bucket)).toEqual(foreign);
    expect(state.enabled).toBe(false);
    expect(state.problems).toContain('the function no-such-fn does not exist');
  });

  it('reads throttling, retries, the destination and a wrong filter back from AWS', async () => {
    // What moto cannot prove: moto stores reserved concurrency 0 but does not throttle, and it
    // ignores a second PutFunctionEventInvokeConfig; this proves the values are read and shown.
    // Prepare
    const { bucket } = await bucketWithForeignEntries();
    const functionName = `logzip-${randomUUID().slice(0, 8)}`;
    const functionArn = await createFunction(functionName);
    const before = await createAwsTriggerControl({
      s3,
      lambda,
      bucket,
      prefix: 'incoming/',
      functionName,
    }).read();
    await lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: functionName, ReservedConcurrentExecutions: 0 }),
    );
    await lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: functionName,
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 21_600,
        DestinationConfig: {
          OnFailure: { Destination: 'arn:aws:sqs:us-east-1:123456789012:logzip-failures' },
        },
      }),
    );
    const current = await readConfiguration(bucket);
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: {
          ...current,
          LambdaFunctionConfigurations: [
            ...(current.LambdaFunctionConfigurations ?? []),
            {
              Id: 'hand-made',
              LambdaFunctionArn: functionArn,
              Events: ['s3:ObjectCreated:Put'],
              Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'uploads/' }] } },
            },
          ],
        },
      }),
    );
    const trigger = createAwsTriggerControl({ s3, lambda, bucket, prefix: 'incoming/', functionName });

    // Act
    const state = await trigger.read();

    // Assess
    expect(before.details['retries']).toMatchObject({ configured: false, onFailureDestination: null });
    expect(before.problems.join('\n')).toMatch(/no on-failure destination/);
    expect(state.enabled).toBe(true);
    expect(state.filter).toEqual({ prefix: 'uploads/', suffix: '' });
    expect(state.details).toMatchObject({
      reservedConcurrency: 0,
      throttled: true,
      function: { state: 'Active' },
      retries: {
        configured: true,
        maximumRetryAttempts: 2,
        onFailureDestination: 'arn:aws:sqs:us-east-1:123456789012:logzip-failures',
      },
      invokePermission: false,
    });
    expect(state.problems.join('\n')).toMatch(/reserved concurrency is 0/);
    expect(state.problems.join('\n')).toMatch(/expected prefix "incoming\/" suffix ".zip"/);
    expect(state.problems.join('\n')).toMatch(/S3 is not allowed to invoke/);
  });

  it('disables even when the function is gone, and removes an entry under a foreign Id for the function', async () => {
    // What moto cannot prove: AWS would have refused the hand-made entry's Put without the invoke
    // permission; moto accepts it, which lets this test set the scene.
    // Prepare
    const { bucket, foreign } = await bucketWithForeignEntries();
    const functionName = `logzip-${randomUUID().slice(0, 8)}`;
    const functionArn = await createFunction(functionName);
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: {
          ...foreign,
          LambdaFunctionConfigurations: [
            ...(foreign.LambdaFunctionConfigurations ?? []),
            { Id: 'made-by-hand', LambdaFunctionArn: functionArn, Events: ['s3:ObjectCreated:*'] },
          ],
        },
      }),
    );
    await lambda.send(new DeleteFunctionCommand({ FunctionName: functionName }));
    const trigger = createAwsTriggerControl({ s3, lambda, bucket, prefix: 'incoming/', functionName });

    // Act
    const state = await trigger.disable();

    // Assess
    expect(state.enabled).toBe(false);
    expect(await readConfiguration(bucket)).toEqual(foreign);
  });
});

describe('createLocalTriggerControl', () => {
  it('is the route flag: enable sets lambda, disable sets queue, a missing flag does not fire', async () => {
    // Prepare
    const routeStore = memoryRouteStore();
    const trigger = createLocalTriggerControl({ routeStore });

    // Act
    const unset = await trigger.read();
    const enabled = await trigger.enable();
    const flagAfterEnable = await routeStore.get();
    const disabled = await trigger.disable();

    // Assess
    expect(unset.enabled).toBe(false);
    expect(unset.problems).toHaveLength(1);
    expect(enabled.enabled).toBe(true);
    expect(flagAfterEnable).toBe('lambda');
    expect(disabled).toMatchObject({
      enabled: false,
      details: { kind: 'local', flag: 'queue' },
      problems: [],
    });
  });
});
