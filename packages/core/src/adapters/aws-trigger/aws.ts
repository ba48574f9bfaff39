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

/** The bucket's notification configuration (the whole of it: S3 replaces it on every write). */
export async function readNotificationConfiguration(
  s3: S3Client,
  bucket: string,
): Promise<NotificationConfiguration> {
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

/** Writes the bucket's whole notification configuration back. */
export async function writeNotificationConfiguration(
  s3: S3Client,
  bucket: string,
  next: NotificationConfiguration,
): Promise<void> {
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

/** What one AWS trigger control works on. */
interface AwsTrigger {
  options: AwsTriggerControlOptions;
  lambda: LambdaClient;
  bucket: string;
  functionName: string;
  expected: TriggerFilter;
}

async function getFunction({ lambda, functionName }: AwsTrigger): Promise<GetFunctionCommandOutput> {
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

async function readPolicy({ lambda, functionName }: AwsTrigger): Promise<string | undefined> {
  try {
    return (await lambda.send(new GetPolicyCommand({ FunctionName: functionName }))).Policy;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw platformError('get_policy', `reading the resource policy of ${functionName}`, error);
  }
}

async function readEventInvokeConfig({
  lambda,
  functionName,
}: AwsTrigger): Promise<GetFunctionEventInvokeConfigCommandOutput | undefined> {
  try {
    return await lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: functionName }));
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function readQueueDepth({
  options,
}: AwsTrigger): Promise<{ url: string; visible: number; inFlight: number } | undefined> {
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

function bucketArn(bucket: string, functionArn: string | undefined): string {
  return `arn:${arnParts(functionArn).partition}:s3:::${bucket}`;
}

/** What is wrong with the notification entries of the function (several, wrong events, wrong filter). */
function entryProblems(t: AwsTrigger, trigger: ReturnType<typeof triggerOfNotification>): string[] {
  const { functionName, expected } = t;
  const { entries, firing, filter } = trigger;
  const problems: string[] = [];
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
  return problems;
}

/** Problems and unreadable parts, collected while the function's facts are described. */
interface Findings {
  problems: string[];
  errors: Record<string, string>;
}

function describeFunction(
  functionName: string,
  fn: Settled<GetFunctionCommandOutput>,
  found: Findings,
): { functionArn: string | undefined; functionState: Record<string, unknown> | null } {
  if (!fn.ok) {
    found.errors.function = errorName(fn.error);
    found.problems.push(
      fn.error instanceof TriggerControlError && fn.error.failure === 'function_not_found'
        ? `the function ${functionName} does not exist`
        : `the function ${functionName} could not be read (${errorName(fn.error)})`,
    );
    return { functionArn: undefined, functionState: null };
  }
  const config = fn.value.Configuration;
  if (config?.State !== undefined && config.State !== 'Active') {
    found.problems.push(
      `the function ${functionName} is ${config.State}${config.StateReason ? ` (${config.StateReason})` : ''}`,
    );
  }
  return {
    functionArn: config?.FunctionArn,
    functionState: {
      state: config?.State ?? null,
      stateReason: config?.StateReason ?? null,
      lastUpdateStatus: config?.LastUpdateStatus ?? null,
      timeoutSeconds: config?.Timeout ?? null,
      memoryMb: config?.MemorySize ?? null,
      ephemeralStorageMb: config?.EphemeralStorage?.Size ?? null,
    },
  };
}

function describeConcurrency(
  concurrency: Settled<{ ReservedConcurrentExecutions?: number | undefined }>,
  functionRead: boolean,
  found: Findings,
): number | null {
  if (!concurrency.ok) {
    if (functionRead) {
      found.errors.concurrency = errorName(concurrency.error);
      found.problems.push(`the reserved concurrency could not be read (${found.errors.concurrency})`);
    }
    return null;
  }
  const reserved = concurrency.value.ReservedConcurrentExecutions ?? null;
  if (reserved === 0) {
    found.problems.push(
      'reserved concurrency is 0 (throttled): every event goes straight to the failure destination without running',
    );
  }
  return reserved;
}

function describeRetries(
  invokeConfig: Settled<GetFunctionEventInvokeConfigCommandOutput | undefined>,
  functionRead: boolean,
  found: Findings,
): Record<string, unknown> | null {
  if (!invokeConfig.ok) {
    if (functionRead) {
      found.errors.eventInvokeConfig = errorName(invokeConfig.error);
      found.problems.push(
        `the retry and on-failure settings could not be read (${found.errors.eventInvokeConfig})`,
      );
    }
    return null;
  }
  const value = invokeConfig.value;
  const onFailure = value?.DestinationConfig?.OnFailure?.Destination ?? null;
  if (onFailure === null && functionRead) {
    found.problems.push(
      'no on-failure destination: events that fail every retry are lost (only the logs keep them)',
    );
  }
  return {
    configured: value !== undefined,
    // Without an event invoke config Lambda retries twice and keeps events up to 6 hours.
    maximumRetryAttempts: value?.MaximumRetryAttempts ?? 2,
    maximumEventAgeInSeconds: value?.MaximumEventAgeInSeconds ?? 21_600,
    onFailureDestination: onFailure,
  };
}

function describePermission(
  t: AwsTrigger,
  policy: Settled<string | undefined>,
  functionArn: string | undefined,
  functionRead: boolean,
  found: Findings,
): boolean | null {
  if (!policy.ok) {
    if (functionRead) {
      found.errors.policy = errorName(policy.error);
      found.problems.push(`the function's resource policy could not be read (${found.errors.policy})`);
    }
    return null;
  }
  const allowed = policyAllowsBucket(policy.value, bucketArn(t.bucket, functionArn));
  if (!allowed && functionRead) {
    found.problems.push(
      `S3 is not allowed to invoke ${t.functionName} for bucket ${t.bucket} (no matching resource policy)`,
    );
  }
  return allowed;
}

/** What AWS actually has, read in parallel; a part that cannot be read is a problem, not a failure. */
async function readTrigger(t: AwsTrigger): Promise<TriggerState> {
  const { lambda, bucket, functionName, expected } = t;
  const [notification, fn, concurrency, invokeConfig, policy, queue] = await Promise.all([
    readNotificationConfiguration(t.options.s3, bucket),
    settle(getFunction(t)),
    settle(lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: functionName }))),
    settle(readEventInvokeConfig(t)),
    settle(readPolicy(t)),
    settle(readQueueDepth(t)),
  ]);
  const trigger = triggerOfNotification(notification, functionName);
  const found: Findings = { problems: entryProblems(t, trigger), errors: {} };
  const { functionArn, functionState } = describeFunction(functionName, fn, found);
  const reservedConcurrency = describeConcurrency(concurrency, fn.ok, found);
  const retries = describeRetries(invokeConfig, fn.ok, found);
  const invokePermission = describePermission(t, policy, functionArn, fn.ok, found);
  let failureQueue: Record<string, unknown> | null = null;
  if (queue.ok) failureQueue = queue.value ?? null;
  else {
    found.errors.failureQueue = errorName(queue.error);
    found.problems.push(`the failure queue's depth could not be read (${found.errors.failureQueue})`);
  }
  const { enabled, firing, filter } = trigger;
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
      ...(Object.keys(found.errors).length === 0 ? {} : { errors: found.errors }),
    },
    problems: found.problems,
  };
}

async function ensureInvokePermission(t: AwsTrigger, functionArn: string | undefined): Promise<void> {
  const { lambda, functionName } = t;
  const sourceArn = bucketArn(t.bucket, functionArn);
  if (policyAllowsBucket(await readPolicy(t), sourceArn)) return;
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

/** The function must be Active; then S3 may invoke it, and the entry goes (back) in. */
async function enableTrigger(t: AwsTrigger): Promise<TriggerState> {
  const { functionName } = t;
  const fn = await getFunction(t);
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
  await ensureInvokePermission(t, functionArn);
  const plan = retire(
    t,
    planEnable(
      await readNotificationConfiguration(t.options.s3, t.bucket),
      functionName,
      functionArn,
      t.expected,
    ),
  );
  if (plan.changed) await writeNotificationConfiguration(t.options.s3, t.bucket, plan.next);
  return readTrigger(t);
}

/** The plan, also without the retired queue's entry when a move back to direct mode asks for it. */
function retire(t: AwsTrigger, plan: NotificationPlan): NotificationPlan {
  return t.options.retireQueueArn === undefined
    ? plan
    : planWithoutQueueEntries(plan, t.options.retireQueueArn);
}

async function disableTrigger(t: AwsTrigger): Promise<TriggerState> {
  const plan = retire(
    t,
    planDisable(await readNotificationConfiguration(t.options.s3, t.bucket), t.functionName),
  );
  if (plan.changed) await writeNotificationConfiguration(t.options.s3, t.bucket, plan.next);
  return readTrigger(t);
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
  const t: AwsTrigger = {
    options,
    lambda: options.lambda,
    bucket: options.bucket,
    functionName: options.functionName,
    expected: { prefix: options.prefix, suffix: options.suffix ?? '.zip' },
  };
  return {
    read: () => readTrigger(t),
    enable: () => enableTrigger(t),
    disable: () => disableTrigger(t),
  };
}
