import {
  type EventSourceMappingConfiguration,
  GetFunctionCommand,
  type LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { TriggerControl, TriggerFilter, TriggerState } from '../../ports/route.js';
import {
  arnParts,
  errorName,
  platformError,
  readNotificationConfiguration,
  settle,
  writeNotificationConfiguration,
} from './aws.js';
import { TriggerControlError } from './errors.js';
import { countForeignEntries, findEntries } from './notification.js';
import { findQueueEntries, planQueueEntry, queuePolicyAllowsBucket } from './queue-notification.js';

/**
 * What the queues are read with: the aggregated `SQS` client of `@aws-sdk/client-sqs`
 * (`new SQS({...})`) fits, so core does not depend on the SQS SDK.
 */
export interface QueueReader {
  getQueueAttributes(input: {
    QueueUrl: string;
    AttributeNames: QueueAttributeName[];
  }): Promise<{ Attributes?: Partial<Record<string, string>> }>;
  getQueueUrl(input: {
    QueueName: string;
    QueueOwnerAWSAccountId?: string;
  }): Promise<{ QueueUrl?: string | undefined }>;
}

export interface BufferedTriggerControlOptions {
  s3: S3Client;
  lambda: LambdaClient;
  sqs: QueueReader;
  /** The incoming bucket whose notification configuration sends to the queue. */
  bucket: string;
  /** The incoming prefix: the entry's prefix filter. */
  prefix: string;
  /** The entry's suffix filter. Default `.zip`. */
  suffix?: string;
  /** The extraction function: a name or an ARN (LOGZIP_LAMBDA_FUNCTION). */
  functionName: string;
  /** The standard queue S3 notifies (LOGZIP_TRIGGER_QUEUE_URL). */
  queueUrl: string;
  /**
   * The age in seconds of the queue's oldest message. SQS has no such queue attribute: in AWS it
   * is the CloudWatch metric `ApproximateAgeOfOldestMessage`. Without a reader the age is
   * reported as unknown (null), never guessed from a receive, which would count against the
   * message's maxReceiveCount.
   */
  readOldestAgeSeconds?: (queueArn: string) => Promise<number | undefined>;
}

/** The mapping states in which Lambda takes (or is about to take) batches from the queue. */
const CONSUMING_STATES = new Set(['Enabled', 'Enabling']);

type QueueAttributeName =
  | 'QueueArn'
  | 'Policy'
  | 'RedrivePolicy'
  | 'VisibilityTimeout'
  | 'ApproximateNumberOfMessages'
  | 'ApproximateNumberOfMessagesNotVisible'
  | 'ApproximateNumberOfMessagesDelayed';

const QUEUE_ATTRIBUTES: QueueAttributeName[] = [
  'QueueArn',
  'Policy',
  'RedrivePolicy',
  'VisibilityTimeout',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
];

interface QueueFacts {
  url: string;
  arn: string;
  visible: number;
  inFlight: number;
  delayed: number;
  visibilityTimeoutSeconds: number | null;
  policy: string | undefined;
  redrive: { deadLetterTargetArn: string; maxReceiveCount: number } | undefined;
}

/** `arn:aws:sqs:<region>:<account>:<name>` → the queue's name and account. */
function queueNameOf(arn: string): { name: string; account: string | undefined } {
  const parts = arn.split(':');
  return { name: parts[5] ?? arn, account: parts[4] || undefined };
}

function count(value: string | undefined): number {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

function parseRedrive(text: string | undefined): QueueFacts['redrive'] {
  if (text === undefined || text === '') return undefined;
  try {
    const parsed = JSON.parse(text) as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    if (typeof parsed.deadLetterTargetArn !== 'string') return undefined;
    return {
      deadLetterTargetArn: parsed.deadLetterTargetArn,
      maxReceiveCount: Number(parsed.maxReceiveCount),
    };
  } catch {
    return undefined;
  }
}

/**
 * The buffered trigger (S3 → SQS → the function's event source mapping), read and switched through
 * the AWS APIs. The route is the mapping's `Enabled` flag: `enable()` turns Lambda's polling on,
 * `disable()` off, and messages wait in the queue meanwhile (the worker consumes them under the
 * `queue` route). The bucket's notification entry that sends to the queue is installed by both
 * when it is missing (every other entry kept, a direct-mode entry of the function replaced in the
 * same write) and never removed: a switch cannot make an upload go unannounced.
 *
 * `read()` reports the mapping's state as AWS gives it (`Enabled`, `Disabled`, `Enabling`,
 * `Disabling`, `Updating`…), its batch size and maximum concurrency, the queue's depth, its
 * dead-letter queue's depth, and as drift: a missing entry, a queue policy that does not let the
 * bucket send, a missing mapping.
 *
 * @example
 * const trigger = createBufferedTriggerControl({ s3, lambda, sqs: new SQS({}), bucket: 'logs',
 *   prefix: 'incoming/', functionName: 'logzip-extract', queueUrl });
 * await trigger.disable(); // the mapping is Disabling, then Disabled; uploads wait in the queue
 */
export function createBufferedTriggerControl(options: BufferedTriggerControlOptions): TriggerControl {
  const { s3, lambda, sqs, bucket, functionName, queueUrl } = options;
  const expected: TriggerFilter = { prefix: options.prefix, suffix: options.suffix ?? '.zip' };

  async function readQueue(url: string): Promise<QueueFacts> {
    let answer: { Attributes?: Partial<Record<string, string>> };
    try {
      answer = await sqs.getQueueAttributes({ QueueUrl: url, AttributeNames: QUEUE_ATTRIBUTES });
    } catch (error) {
      throw platformError('read_queue', `reading the attributes of queue ${url}`, error);
    }
    const a = answer.Attributes ?? {};
    if (a.QueueArn === undefined) {
      throw new TriggerControlError('read_queue', 'platform_error', `the queue ${url} reported no ARN`);
    }
    const visibility = a.VisibilityTimeout === undefined ? null : Number(a.VisibilityTimeout);
    return {
      url,
      arn: a.QueueArn,
      visible: count(a.ApproximateNumberOfMessages),
      inFlight: count(a.ApproximateNumberOfMessagesNotVisible),
      delayed: count(a.ApproximateNumberOfMessagesDelayed),
      visibilityTimeoutSeconds: visibility,
      policy: a.Policy,
      redrive: parseRedrive(a.RedrivePolicy),
    };
  }

  async function readDeadLetterQueue(arn: string): Promise<QueueFacts> {
    const { name, account } = queueNameOf(arn);
    let url: string | undefined;
    try {
      url = (
        await sqs.getQueueUrl({
          QueueName: name,
          ...(account === undefined ? {} : { QueueOwnerAWSAccountId: account }),
        })
      ).QueueUrl;
    } catch (error) {
      throw platformError('read_queue', `finding the dead-letter queue ${arn}`, error);
    }
    if (url === undefined) {
      throw new TriggerControlError(
        'read_queue',
        'platform_error',
        `the dead-letter queue ${arn} has no URL`,
      );
    }
    return readQueue(url);
  }

  const readNotification = () => readNotificationConfiguration(s3, bucket);

  /** Every mapping of the function on the queue (paged: AWS returns up to 100 per call). */
  async function findMappings(queueArn: string): Promise<EventSourceMappingConfiguration[]> {
    const found: EventSourceMappingConfiguration[] = [];
    let marker: string | undefined;
    try {
      do {
        const page = await lambda.send(
          new ListEventSourceMappingsCommand({
            FunctionName: functionName,
            EventSourceArn: queueArn,
            ...(marker === undefined ? {} : { Marker: marker }),
          }),
        );
        found.push(...(page.EventSourceMappings ?? []));
        marker = page.NextMarker;
      } while (marker !== undefined && marker !== '');
    } catch (error) {
      throw platformError('find_mapping', `listing the event source mappings of ${functionName}`, error);
    }
    return found;
  }

  async function ensureEntry(queueArn: string): Promise<void> {
    const plan = planQueueEntry(await readNotification(), queueArn, functionName, expected);
    if (plan.changed) await writeNotificationConfiguration(s3, bucket, plan.next);
  }

  async function read(): Promise<TriggerState> {
    const queue = await readQueue(queueUrl);
    const [notification, mappings, dlq, age, fn] = await Promise.all([
      readNotification(),
      settle(findMappings(queue.arn)),
      settle(
        queue.redrive === undefined
          ? Promise.resolve(undefined)
          : readDeadLetterQueue(queue.redrive.deadLetterTargetArn),
      ),
      settle(options.readOldestAgeSeconds?.(queue.arn) ?? Promise.resolve(undefined)),
      settle(lambda.send(new GetFunctionCommand({ FunctionName: functionName }))),
    ]);
    const problems: string[] = [];
    const drift: string[] = [];
    const errors: Record<string, string> = {};

    const { entries, matching } = findQueueEntries(notification, queue.arn, expected);
    if (matching === undefined) {
      drift.push(
        entries.length === 0
          ? `the bucket has no notification entry sending to ${queue.arn}: new uploads announce nothing (switching the route installs it)`
          : `the bucket's entry for ${queue.arn} does not send creation events for prefix "${expected.prefix}" suffix "${expected.suffix}"`,
      );
    }
    const direct = findEntries(notification, functionName);
    if (direct.entries.length > 0) {
      drift.push(
        `the bucket still has a direct-mode entry invoking ${functionName}: each upload runs twice (switching the route removes it)`,
      );
    }
    const functionArn = fn.ok ? fn.value.Configuration?.FunctionArn : undefined;
    const bucketArn = `arn:${arnParts(functionArn ?? queue.arn).partition}:s3:::${bucket}`;
    const policyAllows = queuePolicyAllowsBucket(queue.policy, bucketArn);
    if (!policyAllows) {
      drift.push(
        `the queue policy of ${queue.arn} does not let ${bucketArn} send: S3 cannot deliver the events`,
      );
    }
    const timeout = fn.ok ? fn.value.Configuration?.Timeout : undefined;
    if (
      timeout !== undefined &&
      queue.visibilityTimeoutSeconds !== null &&
      queue.visibilityTimeoutSeconds < 6 * timeout
    ) {
      problems.push(
        `the queue's visibility timeout (${queue.visibilityTimeoutSeconds} s) is under 6 × the function's timeout (${timeout} s): a batch still running can be taken twice`,
      );
    }
    if (!fn.ok) {
      errors.function = errorName(fn.error);
      problems.push(`the function ${functionName} could not be read (${errors.function})`);
    } else if (fn.value.Configuration?.State !== undefined && fn.value.Configuration.State !== 'Active') {
      problems.push(`the function ${functionName} is ${fn.value.Configuration.State}`);
    }

    let mapping: EventSourceMappingConfiguration | undefined;
    if (mappings.ok) {
      mapping = mappings.value[0];
      if (mapping === undefined) {
        drift.push(
          `no event source mapping connects ${queue.arn} to ${functionName}: Lambda never takes the messages`,
        );
      } else if (mappings.value.length > 1) {
        problems.push(`${mappings.value.length} event source mappings connect the queue to ${functionName}`);
      }
      if (
        mapping !== undefined &&
        !(mapping.FunctionResponseTypes ?? []).includes('ReportBatchItemFailures')
      ) {
        problems.push(
          'the event source mapping does not report batch item failures: one failed archive returns its whole batch',
        );
      }
      if (mapping?.State === 'Disabling') {
        problems.push('the event source mapping is Disabling: Lambda may still take batches for a while');
      }
    } else {
      errors.mapping = errorName(mappings.error);
      drift.push(`the event source mapping could not be read (${errors.mapping})`);
    }

    let deadLetterQueue: Record<string, unknown> | null = null;
    if (queue.redrive === undefined) {
      problems.push(
        'the queue has no redrive policy: a poison message is received again for its whole retention',
      );
    } else if (dlq.ok && dlq.value !== undefined) {
      deadLetterQueue = {
        url: dlq.value.url,
        arn: dlq.value.arn,
        visible: dlq.value.visible,
        inFlight: dlq.value.inFlight,
        maxReceiveCount: queue.redrive.maxReceiveCount,
      };
      if (dlq.value.visible > 0) {
        problems.push(
          `${dlq.value.visible} message(s) in the dead-letter queue: the worker records them as failures`,
        );
      }
    } else if (!dlq.ok) {
      errors.deadLetterQueue = errorName(dlq.error);
      problems.push(`the dead-letter queue could not be read (${errors.deadLetterQueue})`);
    }
    if (!age.ok) errors.oldestAge = errorName(age.error);
    const oldestAgeSeconds = age.ok ? (age.value ?? null) : null;

    const state = mapping?.State ?? null;
    return {
      enabled: state !== null && CONSUMING_STATES.has(state),
      ...(matching === undefined ? {} : { filter: expected }),
      details: {
        kind: 'aws-buffered',
        mode: 'buffered',
        bucket,
        functionName,
        functionArn: functionArn ?? mapping?.FunctionArn ?? null,
        expectedFilter: expected,
        entryId: matching?.Id ?? null,
        foreignEntries: countForeignEntries(notification, functionName) - entries.length,
        queuePolicyAllowsBucket: policyAllows,
        mapping:
          mapping === undefined
            ? null
            : {
                uuid: mapping.UUID ?? null,
                state,
                stateTransitionReason: mapping.StateTransitionReason ?? null,
                batchSize: mapping.BatchSize ?? null,
                maximumConcurrency: mapping.ScalingConfig?.MaximumConcurrency ?? null,
                reportBatchItemFailures: (mapping.FunctionResponseTypes ?? []).includes(
                  'ReportBatchItemFailures',
                ),
                lastModified: mapping.LastModified?.toISOString() ?? null,
              },
        queue: {
          url: queue.url,
          arn: queue.arn,
          visible: queue.visible,
          inFlight: queue.inFlight,
          delayed: queue.delayed,
          oldestAgeSeconds,
          visibilityTimeoutSeconds: queue.visibilityTimeoutSeconds,
        },
        deadLetterQueue,
        ...(Object.keys(errors).length === 0 ? {} : { errors }),
      },
      problems,
      drift,
    };
  }

  async function setEnabled(enabled: boolean): Promise<TriggerState> {
    const queue = await readQueue(queueUrl);
    // First the entry: whatever the route, every upload must reach the queue.
    await ensureEntry(queue.arn);
    const mappings = await findMappings(queue.arn);
    const mapping = mappings[0];
    if (mapping?.UUID === undefined) {
      throw new TriggerControlError(
        'find_mapping',
        'mapping_not_found',
        `no event source mapping connects ${queue.arn} to ${functionName} (deploy the template with TriggerMode=buffered)`,
      );
    }
    const state = mapping.State ?? '';
    const already = enabled ? CONSUMING_STATES.has(state) : state === 'Disabled' || state === 'Disabling';
    if (!already) {
      try {
        await lambda.send(new UpdateEventSourceMappingCommand({ UUID: mapping.UUID, Enabled: enabled }));
      } catch (error) {
        throw platformError(
          'update_mapping',
          `${enabled ? 'enabling' : 'disabling'} the event source mapping ${mapping.UUID}`,
          error,
        );
      }
    }
    return read();
  }

  return {
    read,
    enable: () => setEnabled(true),
    disable: () => setEnabled(false),
  };
}
