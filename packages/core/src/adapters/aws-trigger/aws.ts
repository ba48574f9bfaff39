import { createHash } from 'node:crypto';
import {
  AddPermissionCommand,
  GetFunctionCommand,
  type GetFunctionCommandOutput,
  GetFunctionConcurrencyCommand,
  GetFunctionEventInvokeConfigCommand,
  type GetFunctionEventInvokeConfigCommandOutput,
  GetPolicyCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import {
  GetBucketNotificationConfigurationCommand,
  type NotificationConfiguration,
  PutBucketNotificationConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { TriggerControl, TriggerFilter, TriggerState } from '../../ports/route.js';
import { TriggerControlError, type TriggerStep } from './errors.js';
import {
  countForeignEntries,
  type NotificationPlan,
  planDisable,
  planEnable,
  policyAllowsBucket,
  triggerOfNotification,
} from './notification.js';
import { planWithoutQueueEntries } from './queue-notification.js';

/**
 * What the failure queue's depth is read with: the aggregated `SQS` client of
 * `@aws-sdk/client-sqs` (`new SQS({...})`) fits, so core does not depend on the SQS SDK.
 */
export interface QueueAttributesReader {
  getQueueAttributes(input: {
    QueueUrl: string;
    AttributeNames: Array<'ApproximateNumberOfMessages' | 'ApproximateNumberOfMessagesNotVisible'>;
  }): Promise<{ Attributes?: Partial<Record<string, string>> }>;
}

export interface AwsTriggerControlOptions {
  s3: S3Client;
  lambda: LambdaClient;
  /** The incoming bucket whose notification configuration holds the trigger. */
  bucket: string;
  /** The incoming prefix: the entry's prefix filter. */
  prefix: string;
  /** The entry's suffix filter. Default `.zip`. */
  suffix?: string;
  /** The extraction function: a name or an ARN (LOGZIP_LAMBDA_FUNCTION). */
  functionName: string;
  /** Reads the on-failure queue's depth when `failureQueueUrl` is given. */
  sqs?: QueueAttributesReader;
  failureQueueUrl?: string;
  /**
   * The ARN of a buffered-mode trigger queue being retired (the move back to direct mode): enable()
   * and disable() remove its notification entry in the same write as their own change.
   */
  retireQueueArn?: string;
}

/** The AWS error name of an SDK failure, and whether retrying can help. */
export function describeAwsError(error: unknown): {
  name: string;
  status: number | undefined;
  retryable: boolean;
} {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  const name = typeof e?.name === 'string' ? e.name : 'Error';
  const status = e?.$metadata?.httpStatusCode;
  const throttled = /throttl|TooManyRequests|SlowDown|RequestLimitExceeded/i.test(name);
  const retryable =
    status === undefined || status >= 500 || status === 429 || throttled || e?.$retryable !== undefined;
  return { name, status, retryable };
}

export function errorName(error: unknown): string {
  if (error instanceof TriggerControlError) return error.platformError ?? error.name;
  return describeAwsError(error).name;
}

export function isNotFound(error: unknown): boolean {
  const { name, status } = describeAwsError(error);
  return name === 'ResourceNotFoundException' || status === 404;
}

export function platformError(step: TriggerStep, what: string, error: unknown): TriggerControlError {
  const { name, retryable } = describeAwsError(error);
  const detail =
    error instanceof Error && error.message !== '' && error.message !== name ? `: ${error.message}` : '';
  return new TriggerControlError(step, 'platform_error', `${what} failed (${name}${detail})`, {
    cause: error,
    retryable,
    platformError: name,
  });
}

/** `arn:<partition>:lambda:<region>:<account>:function:<name>` → partition and account. */
export function arnParts(arn: string | undefined): { partition: string; account: string | undefined } {
  const parts = (arn ?? '').split(':');
  return { partition: parts[1] || 'aws', account: parts[4] || undefined };
}

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export async function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * The S3 → Lambda trigger of the incoming bucket, read and switched through the AWS APIs.
 *
 * `read()` reports what AWS actually has: logzip's notification entry and its filter, the
 * function's state, its reserved concurrency (0 = throttled: every event goes straight to the
 * failure destination), retries and on-failure destination, S3's invoke permission and the
 * failure queue's depth. `disable()` removes only the function's entry; `enable()` checks the
 * function is Active, adds S3's invoke permission if missing, and puts the entry back. The
 * notification API replaces the whole configuration, so both read it, edit it and write it back
 * with every other entry untouched. Both are idempotent: no write when nothing changes.
 *
 * @example
 * const trigger = createAwsTriggerControl({ s3, lambda, bucket: 'logs', prefix: 'incoming/', functionName: 'logzip-extract' });
 * const state = await trigger.disable(); // state.enabled === false
 */
export function createAwsTriggerControl(options: AwsTriggerControlOptions): TriggerControl {
  const { s3, lambda, bucket, functionName } = options;
  const expected: TriggerFilter = { prefix: options.prefix, suffix: options.suffix ?? '.zip' };
  const retire = (plan: NotificationPlan): NotificationPlan =>
    options.retireQueueArn === undefined ? plan : planWithoutQueueEntries(plan, options.retireQueueArn);

  async function readNotification(): Promise<NotificationConfiguration> {
    try {
      return await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
    } catch (error) {
      throw platformError(
        'read_notification',
        `reading the notification configuration of bucket ${bucket}`,
        error,
      );
    }
  }

  async function writeNotification(next: NotificationConfiguration): Promise<void> {
    try {
      await s3.send(
        new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: next }),
      );
    } catch (error) {
      throw platformError(
        'write_notification',
        `writing the notification configuration of bucket ${bucket}`,
        error,
      );
    }
  }

  async function getFunction(): Promise<GetFunctionCommandOutput> {
    try {
      return await lambda.send(new GetFunctionCommand({ FunctionName: functionName }));
    } catch (error) {
      if (isNotFound(error)) {
        throw new TriggerControlError(
          'get_function',
          'function_not_found',
          `the function ${functionName} does not exist`,
          {
            cause: error,
            platformError: 'ResourceNotFoundException',
          },
        );
      }
      throw platformError('get_function', `reading the function ${functionName}`, error);
    }
  }

  async function readPolicy(): Promise<string | undefined> {
    try {
      return (await lambda.send(new GetPolicyCommand({ FunctionName: functionName }))).Policy;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw platformError('get_policy', `reading the resource policy of ${functionName}`, error);
    }
  }

  async function readEventInvokeConfig(): Promise<GetFunctionEventInvokeConfigCommandOutput | undefined> {
    try {
      return await lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: functionName }));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async function readQueueDepth(): Promise<{ url: string; visible: number; inFlight: number } | undefined> {
    if (options.sqs === undefined || options.failureQueueUrl === undefined) return undefined;
    const answer = await options.sqs.getQueueAttributes({
      QueueUrl: options.failureQueueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    });
    return {
      url: options.failureQueueUrl,
      visible: Number(answer.Attributes?.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(answer.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  }

  function bucketArn(functionArn: string | undefined): string {
    return `arn:${arnParts(functionArn).partition}:s3:::${bucket}`;
  }

  async function read(): Promise<TriggerState> {
    const [notification, fn, concurrency, invokeConfig, policy, queue] = await Promise.all([
      readNotification(),
      settle(getFunction()),
      settle(lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: functionName }))),
      settle(readEventInvokeConfig()),
      settle(readPolicy()),
      settle(readQueueDepth()),
    ]);
    const problems: string[] = [];
    const errors: Record<string, string> = {};
    const { enabled, entries, firing, filter } = triggerOfNotification(notification, functionName);

    if (entries.length > 1) {
      problems.push(
        `the bucket has ${entries.length} notification entries for ${functionName}: each event may run twice`,
      );
    }
    if (entries.length > 0 && firing === undefined) {
      problems.push(
        `the notification entry for ${functionName} does not subscribe to s3:ObjectCreated:* events`,
      );
    }
    if (filter !== undefined && (filter.prefix !== expected.prefix || filter.suffix !== expected.suffix)) {
      problems.push(
        `the trigger filters prefix "${filter.prefix}" suffix "${filter.suffix}", ` +
          `expected prefix "${expected.prefix}" suffix "${expected.suffix}"`,
      );
    }

    let functionArn: string | undefined;
    let functionState: Record<string, unknown> | null = null;
    if (fn.ok) {
      const config = fn.value.Configuration;
      functionArn = config?.FunctionArn;
      functionState = {
        state: config?.State ?? null,
        stateReason: config?.StateReason ?? null,
        lastUpdateStatus: config?.LastUpdateStatus ?? null,
        timeoutSeconds: config?.Timeout ?? null,
        memoryMb: config?.MemorySize ?? null,
        ephemeralStorageMb: config?.EphemeralStorage?.Size ?? null,
      };
      if (config?.State !== undefined && config.State !== 'Active') {
        problems.push(
          `the function ${functionName} is ${config.State}${config.StateReason ? ` (${config.StateReason})` : ''}`,
        );
      }
    } else {
      errors.function = errorName(fn.error);
      problems.push(
        fn.error instanceof TriggerControlError && fn.error.failure === 'function_not_found'
          ? `the function ${functionName} does not exist`
          : `the function ${functionName} could not be read (${errorName(fn.error)})`,
      );
    }

    let reservedConcurrency: number | null = null;
    if (concurrency.ok) {
      reservedConcurrency = concurrency.value.ReservedConcurrentExecutions ?? null;
      if (reservedConcurrency === 0) {
        problems.push(
          'reserved concurrency is 0 (throttled): every event goes straight to the failure destination without running',
        );
      }
    } else if (fn.ok) {
      errors.concurrency = errorName(concurrency.error);
      problems.push(`the reserved concurrency could not be read (${errors.concurrency})`);
    }

    let retries: Record<string, unknown> | null = null;
    if (invokeConfig.ok) {
      const value = invokeConfig.value;
      const onFailure = value?.DestinationConfig?.OnFailure?.Destination ?? null;
      retries = {
        configured: value !== undefined,
        // Without an event invoke config Lambda retries twice and keeps events up to 6 hours.
        maximumRetryAttempts: value?.MaximumRetryAttempts ?? 2,
        maximumEventAgeInSeconds: value?.MaximumEventAgeInSeconds ?? 21_600,
        onFailureDestination: onFailure,
      };
      if (onFailure === null && fn.ok) {
        problems.push(
          'no on-failure destination: events that fail every retry are lost (only the logs keep them)',
        );
      }
    } else if (fn.ok) {
      errors.eventInvokeConfig = errorName(invokeConfig.error);
      problems.push(`the retry and on-failure settings could not be read (${errors.eventInvokeConfig})`);
    }

    let invokePermission: boolean | null = null;
    if (policy.ok) {
      invokePermission = policyAllowsBucket(policy.value, bucketArn(functionArn));
      if (!invokePermission && fn.ok) {
        problems.push(
          `S3 is not allowed to invoke ${functionName} for bucket ${bucket} (no matching resource policy)`,
        );
      }
    } else if (fn.ok) {
      errors.policy = errorName(policy.error);
      problems.push(`the function's resource policy could not be read (${errors.policy})`);
    }

    let failureQueue: Record<string, unknown> | null = null;
    if (queue.ok) {
      failureQueue = queue.value ?? null;
    } else {
      errors.failureQueue = errorName(queue.error);
      problems.push(`the failure queue's depth could not be read (${errors.failureQueue})`);
    }

    return {
      enabled,
      ...(filter === undefined ? {} : { filter }),
      details: {
        kind: 'aws',
        bucket,
        functionName,
        functionArn: functionArn ?? firing?.LambdaFunctionArn ?? null,
        entryId: firing?.Id ?? null,
        events: firing?.Events ?? [],
        expectedFilter: expected,
        foreignEntries: countForeignEntries(notification, functionName),
        function: functionState,
        reservedConcurrency,
        throttled: reservedConcurrency === 0,
        retries,
        invokePermission,
        failureQueue,
        ...(Object.keys(errors).length === 0 ? {} : { errors }),
      },
      problems,
    };
  }

  async function ensureInvokePermission(functionArn: string | undefined): Promise<void> {
    const sourceArn = bucketArn(functionArn);
    if (policyAllowsBucket(await readPolicy(), sourceArn)) return;
    const statementId = `logzip-s3-invoke-${createHash('sha256').update(sourceArn).digest('hex').slice(0, 16)}`;
    const { account } = arnParts(functionArn);
    try {
      await lambda.send(
        new AddPermissionCommand({
          FunctionName: functionName,
          StatementId: statementId,
          Action: 'lambda:InvokeFunction',
          Principal: 's3.amazonaws.com',
          SourceArn: sourceArn,
          ...(account === undefined ? {} : { SourceAccount: account }),
        }),
      );
    } catch (error) {
      // Our statement is already there (a concurrent switch added it): the permission exists.
      if (describeAwsError(error).name === 'ResourceConflictException') return;
      throw platformError('add_permission', `allowing S3 to invoke ${functionName}`, error);
    }
  }

  return {
    read,

    async enable(): Promise<TriggerState> {
      const fn = await getFunction();
      const state = fn.Configuration?.State;
      if (state !== undefined && state !== 'Active') {
        throw new TriggerControlError(
          'get_function',
          'function_not_active',
          `the function ${functionName} is ${state}${fn.Configuration?.StateReason ? ` (${fn.Configuration.StateReason})` : ''}, not Active`,
          { retryable: state === 'Pending' },
        );
      }
      const functionArn = fn.Configuration?.FunctionArn;
      if (functionArn === undefined) {
        throw new TriggerControlError(
          'get_function',
          'platform_error',
          `the function ${functionName} has no ARN`,
        );
      }
      await ensureInvokePermission(functionArn);
      const plan = retire(planEnable(await readNotification(), functionName, functionArn, expected));
      if (plan.changed) await writeNotification(plan.next);
      return read();
    },

    async disable(): Promise<TriggerState> {
      const plan = retire(planDisable(await readNotification(), functionName));
      if (plan.changed) await writeNotification(plan.next);
      return read();
    },
  };
}
