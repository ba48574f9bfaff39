import { createHash } from 'node:crypto';
import type { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { AlertDeliveryError } from '../../alerts/errors.js';
import { renderSnsPublish } from '../../alerts/message.js';
import type { AlertChannel } from '../../alerts/types.js';

/** `arn:<partition>:sns:<region>:<account>:<topic>`; FIFO topics end in `.fifo`. */
export const SNS_TOPIC_ARN_RE =
  /^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,256}(?:\.fifo)?)$/;

export interface SnsChannelOptions {
  /** LOGZIP_ALERT_SNS_TOPIC_ARN. */
  topicArn: string;
  /** A client to use; by default one is built on the first alert (the SDK is loaded only then). */
  client?: SNSClient;
  /** Default: the topic ARN's region, else AWS_REGION. */
  region?: string | undefined;
  /** AWS_ENDPOINT_URL_SNS (moto, LocalStack). */
  endpoint?: string | undefined;
}

interface Sdk {
  client: SNSClient;
  PublishCommand: typeof PublishCommand;
}

/** The AWS error name and HTTP status of an SDK failure, if it carries them. */
function describeSdkError(error: unknown): { text: string; status: number | undefined; retryable: boolean } {
  const e = error as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number } };
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const message = typeof e.message === 'string' ? e.message : String(error);
  const status = e.$metadata?.httpStatusCode;
  const throttled = /Throttl|TooManyRequests|RequestLimitExceeded/i.test(name);
  return {
    text: `${name}: ${message}`,
    status,
    retryable: status === undefined || status >= 500 || status === 429 || throttled,
  };
}

/**
 * A channel that publishes each alert to an SNS topic: Subject (≤ 100 ASCII characters), the plain
 * text as Message (what e-mail subscribers read), and MessageAttributes `logId`, `code`, `route` and
 * `source` for subscription filter policies. A FIFO topic gets the log ID as MessageGroupId and the
 * failure id's hash as MessageDeduplicationId. `@aws-sdk/client-sns` is an optional peer
 * dependency, imported on the first alert: processes without SNS alerts never load it.
 *
 * @example
 * ```ts
 * const channel = createSnsChannel({
 *   topicArn: config.env.LOGZIP_ALERT_SNS_TOPIC_ARN,
 *   endpoint: config.env.AWS_ENDPOINT_URL_SNS,
 * });
 * ```
 */
export function createSnsChannel(options: SnsChannelOptions): AlertChannel {
  const { topicArn } = options;
  const arnRegion = SNS_TOPIC_ARN_RE.exec(topicArn)?.[1];
  const fifo = topicArn.endsWith('.fifo');
  let sdk: Promise<Sdk> | undefined;

  function load(): Promise<Sdk> {
    sdk ??= import('@aws-sdk/client-sns').then(
      (module) => {
        const region = options.region ?? arnRegion;
        const client =
          options.client ??
          new module.SNSClient({
            ...(region === undefined ? {} : { region }),
            ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
            // The alerter bounds each try and retries once itself.
            maxAttempts: 1,
            requestHandler: { connectionTimeout: 5_000, socketTimeout: 10_000 },
          });
        return { client, PublishCommand: module.PublishCommand };
      },
      (error: unknown) => {
        sdk = undefined;
        throw new AlertDeliveryError(
          'sns',
          `@aws-sdk/client-sns could not be loaded (install it next to @logzip/core): ${(error as Error).message}`,
          { retryable: false },
        );
      },
    );
    return sdk;
  }

  return {
    name: 'sns',
    async send(alert, { signal }) {
      const { client, PublishCommand } = await load();
      const content = renderSnsPublish(alert);
      const attributes = Object.fromEntries(
        Object.entries(content.attributes).map(([name, value]) => [
          name,
          { DataType: 'String', StringValue: value },
        ]),
      );
      try {
        await client.send(
          new PublishCommand({
            TopicArn: topicArn,
            Subject: content.subject,
            Message: content.message,
            MessageAttributes: attributes,
            ...(fifo
              ? {
                  MessageGroupId: alert.logId,
                  MessageDeduplicationId: createHash('sha256').update(alert.failureId).digest('hex'),
                }
              : {}),
          }),
          { abortSignal: signal },
        );
      } catch (error) {
        if (signal.aborted)
          throw new AlertDeliveryError('sns', `SNS Publish to ${topicArn} did not answer in time`);
        const described = describeSdkError(error);
        throw new AlertDeliveryError('sns', `SNS Publish to ${topicArn} failed: ${described.text}`, {
          retryable: described.retryable,
          ...(described.status === undefined ? {} : { status: described.status }),
        });
      }
    },
  };
}
