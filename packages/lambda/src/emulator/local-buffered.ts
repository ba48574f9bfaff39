import { readFile } from 'node:fs/promises';
import {
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
} from '@aws-sdk/client-lambda';
import {
  CreateBucketCommand,
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { SQS } from '@aws-sdk/client-sqs';
import { bucketSendPolicy, planQueueEntry } from '@logzip/core/aws-trigger';

/** What `pnpm start --buffered` asks for: two moto servers and the names to create in them. */
export interface LocalBufferedOptions {
  /** The moto that plays S3 and SQS (its S3 sends the bucket's notifications to the queue for real). */
  dataPlane: string;
  /**
   * A second moto for the function and its mapping: an enabled mapping in the data plane's moto
   * would make its SQS consume (and delete) every message itself, leaving nothing for the emulator.
   */
  controlPlane: string;
  bucket: string;
  /** The incoming prefix: the notification entry's prefix filter. */
  prefix: string;
  functionName: string;
  /** The function's code (the built Lambda bundle's zip); it is never run by moto. */
  codeZip: string;
  /** The function timeout in seconds (default 60); the queue's visibility timeout is 6 × it. */
  timeoutSeconds?: number;
  /** Receives before a message moves to the dead-letter queue (default 5). */
  maxReceiveCount?: number;
  batchSize?: number;
  maximumConcurrency?: number;
  region?: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

export interface LocalBufferedStack {
  queueUrl: string;
  queueArn: string;
  deadLetterQueueUrl: string;
  mappingUuid: string;
}

/** moto's default account: both servers use it, so a queue's ARN is the same string in each. */
const ACCOUNT = '123456789012';

/**
 * moto checks that a function's role exists (as AWS does). The Lambda package has no IAM SDK, and
 * one Query-API call does not justify one: moto routes a request by the service in the
 * credential scope and does not verify the signature.
 */
async function createRole(endpoint: string, region: string, name: string): Promise<string> {
  const body = new URLSearchParams({
    Action: 'CreateRole',
    Version: '2010-05-08',
    RoleName: name,
    AssumeRolePolicyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ],
    }),
  });
  const response = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${region}/iam/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body,
  });
  const text = await response.text();
  if (!response.ok && !text.includes('EntityAlreadyExists')) {
    throw new Error(`CreateRole on ${endpoint}: HTTP ${response.status} ${text.slice(0, 300)}`);
  }
  return `arn:aws:iam::${ACCOUNT}:role/${name}`;
}

/**
 * Creates on two local moto servers what the template creates in AWS for buffered mode: the
 * incoming bucket, the trigger queue with its dead-letter queue (redrive after maxReceiveCount) and a
 * policy letting only the bucket send, the bucket's notification entry sending to the queue (every
 * other entry kept), the function and its event source mapping (disabled, reporting batch item
 * failures) in the control plane, next to a same-named queue there so the mapping's source ARN is
 * the trigger queue's. Idempotent: a second call on the same servers finds what exists.
 *
 * @example
 * const stack = await provisionLocalBuffered({ dataPlane, controlPlane, bucket: 'logzip-local',
 *   prefix: 'incoming/', functionName: 'logzip-extract', codeZip: 'packages/lambda/dist/lambda.zip',
 *   credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
 */
export async function provisionLocalBuffered(options: LocalBufferedOptions): Promise<LocalBufferedStack> {
  const region = options.region ?? 'us-east-1';
  const client = (endpoint: string) => ({ endpoint, region, credentials: options.credentials });
  const s3 = new S3Client({ ...client(options.dataPlane), forcePathStyle: true });
  const sqs = new SQS(client(options.dataPlane));
  const mirror = new SQS(client(options.controlPlane));
  const lambda = new LambdaClient(client(options.controlPlane));
  const timeout = options.timeoutSeconds ?? 60;
  const queueName = `${options.functionName}-trigger`;
  try {
    await s3.send(new CreateBucketCommand({ Bucket: options.bucket })).catch((error: unknown) => {
      if ((error as { name?: string }).name !== 'BucketAlreadyOwnedByYou') throw error;
    });

    const dlq = await sqs.createQueue({ QueueName: `${queueName}-dlq` });
    const deadLetterQueueUrl = dlq.QueueUrl as string;
    const dlqArn = (
      await sqs.getQueueAttributes({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] })
    ).Attributes?.QueueArn as string;
    const queueUrl = (await sqs.createQueue({ QueueName: queueName })).QueueUrl as string;
    const queueArn = (await sqs.getQueueAttributes({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
      .Attributes?.QueueArn as string;
    await sqs.setQueueAttributes({
      QueueUrl: queueUrl,
      Attributes: {
        VisibilityTimeout: String(6 * timeout),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn,
          maxReceiveCount: options.maxReceiveCount ?? 5,
        }),
        Policy: bucketSendPolicy(queueArn, options.bucket, ACCOUNT),
      },
    });

    const current = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: options.bucket }));
    const plan = planQueueEntry(current, queueArn, options.functionName, {
      prefix: options.prefix,
      suffix: '.zip',
    });
    if (plan.changed) {
      await s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: options.bucket,
          NotificationConfiguration: plan.next,
        }),
      );
    }

    await mirror.createQueue({ QueueName: queueName });
    const role = await createRole(options.controlPlane, region, `${options.functionName}-role`);
    await lambda
      .send(
        new CreateFunctionCommand({
          FunctionName: options.functionName,
          Runtime: 'nodejs20.x',
          Role: role,
          Handler: 'index.handler',
          Timeout: timeout,
          Code: { ZipFile: await readFile(options.codeZip) },
        }),
      )
      .catch((error: unknown) => {
        if ((error as { name?: string }).name !== 'ResourceConflictException') throw error;
      });
    const existing = await lambda.send(
      new ListEventSourceMappingsCommand({ FunctionName: options.functionName, EventSourceArn: queueArn }),
    );
    let mappingUuid = existing.EventSourceMappings?.[0]?.UUID;
    if (mappingUuid === undefined) {
      const created = await lambda.send(
        new CreateEventSourceMappingCommand({
          FunctionName: options.functionName,
          EventSourceArn: queueArn,
          Enabled: false,
          BatchSize: options.batchSize ?? 10,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          ScalingConfig: { MaximumConcurrency: options.maximumConcurrency ?? 2 },
        }),
      );
      mappingUuid = created.UUID as string;
    }
    return { queueUrl, queueArn, deadLetterQueueUrl, mappingUuid };
  } finally {
    s3.destroy();
    sqs.destroy();
    mirror.destroy();
    lambda.destroy();
  }
}
