import { randomUUID } from 'node:crypto';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  DeleteEventSourceMappingCommand,
  DeleteFunctionCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import { SQS } from '@aws-sdk/client-sqs';
import { MOTO_CREDENTIALS, MOTO_REGION, requireMoto } from './moto.js';
import { buildZip } from './zip/index.js';

/** The pieces of the buffered trigger that the template creates in AWS, made in moto for a test. */
export interface BufferedStack {
  sqs: SQS;
  lambda: LambdaClient;
  queueUrl: string;
  queueArn: string;
  deadLetterQueueUrl: string;
  deadLetterQueueArn: string;
  functionName: string;
  functionArn: string;
  /** The event source mapping's UUID (created disabled), when `mapping` was not false. */
  mappingUuid: string | undefined;
  /** What createBufferedTriggerControl needs besides `s3`, the bucket and the prefix. */
  triggerOptions: { lambda: LambdaClient; sqs: SQS; functionName: string; queueUrl: string };
  /** Messages in a queue of the stack: visible + in flight. */
  depth(queueUrl: string): Promise<number>;
  /** Deletes the mapping, the function and both queues. */
  remove(): Promise<void>;
}

export interface BufferedStackOptions {
  /** The bucket allowed to send by the queue policy (none: no policy). */
  bucket?: string;
  /** Seconds a received message stays invisible (default 30). */
  visibilityTimeoutSeconds?: number;
  /** Receives before a message moves to the dead-letter queue (default 3). */
  maxReceiveCount?: number;
  /** Create the event source mapping (default true). */
  mapping?: boolean;
  batchSize?: number;
  maximumConcurrency?: number;
  /**
   * A second moto for the function and its mapping (startMotoServer). Without it an enabled
   * mapping makes the run's moto consume every message sent to the queue itself (see moto-server.ts);
   * with it the mapping lives on a same-named queue there and only the emulator consumes.
   */
  controlPlane?: string;
}

function clientConfig(endpoint: string = requireMoto()) {
  return { endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS };
}

/** A moto SQS client (the aggregated one: it fits core's QueueReader). */
export function createMotoSqsClient(): SQS {
  return new SQS(clientConfig());
}

/** The queue policy the template writes: only this bucket, of this account, may send. */
export function bucketSendPolicy(queueArn: string, bucket: string, account = '123456789012'): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'logzip-s3-send',
        Effect: 'Allow',
        Principal: { Service: 's3.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: {
          ArnEquals: { 'aws:SourceArn': `arn:aws:s3:::${bucket}` },
          StringEquals: { 'aws:SourceAccount': account },
        },
      },
    ],
  });
}

const roles = new Map<string, Promise<string>>();

/**
 * An IAM role in moto that Lambda may assume, for CreateFunction (moto checks it exists, as AWS
 * does). One per moto endpoint and test file: later calls return the same ARN.
 */
export function motoLambdaRole(endpoint: string): Promise<string> {
  const existing = roles.get(endpoint);
  if (existing !== undefined) return existing;
  const roleArn = new IAMClient(clientConfig(endpoint))
    .send(
      new CreateRoleCommand({
        RoleName: `logzip-test-${randomUUID().slice(0, 8)}`,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        }),
      }),
    )
    .then((created) => created.Role?.Arn as string);
  roles.set(endpoint, roleArn);
  return roleArn;
}

/**
 * Creates in moto what the template creates in buffered mode: the queue with its dead-letter
 * queue and redrive policy, the queue policy for one bucket, a function and its event source
 * mapping (disabled, reporting batch item failures). moto's Lambda must run with
 * `use_docker: false` (the integration global setup does it): the function is never invoked.
 */
export async function createBufferedStack(options: BufferedStackOptions = {}): Promise<BufferedStack> {
  const sqs = createMotoSqsClient();
  const controlPlane = options.controlPlane ?? requireMoto();
  const lambda = new LambdaClient(clientConfig(controlPlane));
  const name = `logzip-buffered-${randomUUID().slice(0, 12)}`;
  const dlq = await sqs.createQueue({ QueueName: `${name}-dlq` });
  const deadLetterQueueUrl = dlq.QueueUrl as string;
  const deadLetterQueueArn = (
    await sqs.getQueueAttributes({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] })
  ).Attributes?.QueueArn as string;
  const queue = await sqs.createQueue({
    QueueName: name,
    Attributes: {
      VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 30),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: deadLetterQueueArn,
        maxReceiveCount: options.maxReceiveCount ?? 3,
      }),
    },
  });
  const queueUrl = queue.QueueUrl as string;
  const queueArn = (await sqs.getQueueAttributes({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
    .Attributes?.QueueArn as string;
  if (options.bucket !== undefined) {
    await sqs.setQueueAttributes({
      QueueUrl: queueUrl,
      Attributes: { Policy: bucketSendPolicy(queueArn, options.bucket) },
    });
  }
  const code = await buildZip([
    { name: 'index.mjs', data: 'export const handler = async () => ({ batchItemFailures: [] });\n' },
  ]);
  const created = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs20.x',
      Role: await motoLambdaRole(controlPlane),
      Handler: 'index.handler',
      Code: { ZipFile: code },
    }),
  );
  let mappingUuid: string | undefined;
  let mirror: SQS | undefined;
  if (options.controlPlane !== undefined) {
    // The same name in the same account and region: the same ARN, with no messages ever sent to it.
    mirror = new SQS(clientConfig(options.controlPlane));
    await mirror.createQueue({ QueueName: name });
  }
  if (options.mapping !== false) {
    const mapping = await lambda.send(
      new CreateEventSourceMappingCommand({
        FunctionName: name,
        EventSourceArn: queueArn,
        Enabled: false,
        BatchSize: options.batchSize ?? 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: options.maximumConcurrency ?? 5 },
      }),
    );
    mappingUuid = mapping.UUID;
  }
  return {
    sqs,
    lambda,
    queueUrl,
    queueArn,
    deadLetterQueueUrl,
    deadLetterQueueArn,
    functionName: name,
    functionArn: created.FunctionArn as string,
    mappingUuid,
    triggerOptions: { lambda, sqs, functionName: name, queueUrl },
    async depth(url) {
      const { Attributes } = await sqs.getQueueAttributes({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      });
      return (
        Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
        Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
      );
    },
    async remove() {
      if (mappingUuid !== undefined) {
        await lambda.send(new DeleteEventSourceMappingCommand({ UUID: mappingUuid })).catch(() => {});
      }
      await lambda.send(new DeleteFunctionCommand({ FunctionName: name })).catch(() => {});
      await sqs.deleteQueue({ QueueUrl: queueUrl }).catch(() => {});
      await sqs.deleteQueue({ QueueUrl: deadLetterQueueUrl }).catch(() => {});
      sqs.destroy();
      lambda.destroy();
      mirror?.destroy();
    },
  };
}
