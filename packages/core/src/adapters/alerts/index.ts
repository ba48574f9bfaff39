import type { SNSClient } from '@aws-sdk/client-sns';
import { createFailureAlerter, disabledAlerter } from '../../alerts/notify.js';
import { describeUrl, secretsOf } from '../../alerts/redact.js';
import type { AlertChannel, FailureAlerter } from '../../alerts/types.js';
import type { LogzipConfig } from '../../config.js';
import type { Clock } from '../../ports/clock.js';
import type { Logger } from '../../ports/logger.js';
import type { ObjectStore } from '../../ports/object-store.js';
import { createSnsChannel, SNS_TOPIC_ARN_RE } from './sns.js';
import { createWebhookChannel } from './webhook.js';

export * from '../../alerts/index.js';
export type { SnsChannelOptions } from './sns.js';
export { createSnsChannel, SNS_TOPIC_ARN_RE } from './sns.js';
export type { WebhookChannelOptions } from './webhook.js';
export { createWebhookChannel } from './webhook.js';

/** The variables the alert channels read (a validated config's `env` fits). */
export interface AlertEnv {
  LOGZIP_ALERT_WEBHOOK_URL?: string | undefined;
  LOGZIP_ALERT_SNS_TOPIC_ARN?: string | undefined;
  AWS_REGION?: string | undefined;
  AWS_ENDPOINT_URL_SNS?: string | undefined;
}

/**
 * What is wrong with the alert settings, one message per variable (empty when fine), for the
 * process's start-up check (exit 78): the webhook must be an http(s) URL, the topic an SNS topic ARN.
 */
export function alertConfigErrors(env: AlertEnv): string[] {
  const errors: string[] = [];
  const webhook = env.LOGZIP_ALERT_WEBHOOK_URL;
  if (webhook !== undefined && webhook !== '') {
    let protocol: string | undefined;
    try {
      protocol = new URL(webhook).protocol;
    } catch {
      protocol = undefined;
    }
    if (protocol !== 'https:' && protocol !== 'http:') {
      errors.push('LOGZIP_ALERT_WEBHOOK_URL: must be an http:// or https:// URL');
    }
  }
  const arn = env.LOGZIP_ALERT_SNS_TOPIC_ARN;
  if (arn !== undefined && arn !== '' && !SNS_TOPIC_ARN_RE.test(arn)) {
    errors.push(
      `LOGZIP_ALERT_SNS_TOPIC_ARN: "${arn}" is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)`,
    );
  }
  return errors;
}

export interface AlertChannelsOptions {
  fetch?: typeof fetch;
  snsClient?: SNSClient;
}

/** The channels the environment configures: the webhook and/or the SNS topic (none when neither is set). */
export function createAlertChannels(env: AlertEnv, options: AlertChannelsOptions = {}): AlertChannel[] {
  const channels: AlertChannel[] = [];
  const webhook = env.LOGZIP_ALERT_WEBHOOK_URL;
  if (webhook !== undefined && webhook !== '') {
    channels.push(createWebhookChannel({ url: webhook, ...(options.fetch ? { fetch: options.fetch } : {}) }));
  }
  const topicArn = env.LOGZIP_ALERT_SNS_TOPIC_ARN;
  if (topicArn !== undefined && topicArn !== '') {
    const endpoint = env.AWS_ENDPOINT_URL_SNS === '' ? undefined : env.AWS_ENDPOINT_URL_SNS;
    const arnRegion = SNS_TOPIC_ARN_RE.exec(topicArn)?.[1];
    const region = arnRegion ?? (env.AWS_REGION === '' ? undefined : env.AWS_REGION);
    channels.push(
      createSnsChannel({
        topicArn,
        ...(region === undefined ? {} : { region }),
        ...(endpoint === undefined ? {} : { endpoint }),
        ...(options.snsClient ? { client: options.snsClient } : {}),
      }),
    );
  }
  return channels;
}

export interface AlerterFromConfigOptions extends AlertChannelsOptions {
  /** The store the state prefix lives on (createStorage(config).store): alert markers go there. */
  store: ObjectStore;
  logger?: Logger;
  clock?: Clock;
  timeoutMs?: number;
  retryDelayMs?: number;
}

/**
 * The alerter of a process, from its validated config: the configured channels, markers under
 * `LOGZIP_STATE_PREFIX` in the output bucket, links to `LOGZIP_PUBLIC_URL`, and every secret of
 * the config scrubbed from alerts. With no channel configured it does nothing.
 *
 * @example
 * ```ts
 * const storage = createStorage(config, { logger });
 * const alerter = createAlerterFromConfig(config, { store: storage.store, logger });
 * ```
 */
export function createAlerterFromConfig(
  config: LogzipConfig,
  options: AlerterFromConfigOptions,
): FailureAlerter {
  const channels = createAlertChannels(config.env, options);
  if (channels.length === 0) return disabledAlerter;
  const bucket = config.output.bucket ?? config.incoming.bucket;
  const webhook = config.env.LOGZIP_ALERT_WEBHOOK_URL;
  options.logger?.info(
    {
      channels: channels.map((c) => c.name),
      ...(webhook === undefined ? {} : { webhook: describeUrl(webhook) }),
      ...(config.env.LOGZIP_ALERT_SNS_TOPIC_ARN === undefined
        ? {}
        : { snsTopicArn: config.env.LOGZIP_ALERT_SNS_TOPIC_ARN }),
      publicUrl: config.env.LOGZIP_PUBLIC_URL,
    },
    'failure alerts enabled',
  );
  return createFailureAlerter({
    channels,
    ...(bucket === undefined
      ? {}
      : { markers: { store: options.store, bucket, prefix: config.statePrefix } }),
    publicUrl: config.env.LOGZIP_PUBLIC_URL,
    secrets: secretsOf(config.env),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
  });
}
