import { AlertDeliveryError } from '../../alerts/errors.js';
import { renderSlackPayload } from '../../alerts/message.js';
import { describeUrl } from '../../alerts/redact.js';
import type { AlertChannel, FailureAlert } from '../../alerts/types.js';

export interface WebhookChannelOptions {
  /** LOGZIP_ALERT_WEBHOOK_URL. A secret: it is never logged, only its scheme and host. */
  url: string;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** The JSON body (default: a Slack-compatible `{ text, blocks }`, renderSlackPayload). */
  render?: (alert: FailureAlert) => unknown;
}

const MAX_DETAIL_CHARS = 200;

/**
 * A channel that POSTs each alert as JSON to a webhook: Slack incoming webhooks, and the many
 * tools that accept their format (Mattermost, Rocket.Chat, Discord's `/slack` endpoints, Teams
 * workflows...). Any 2xx is delivered; 5xx, 408 and 429 are worth the alerter's one retry; other
 * answers are not. Errors name the host only: a webhook URL's path is its credential.
 *
 * @example
 * ```ts
 * const channel = createWebhookChannel({ url: config.env.LOGZIP_ALERT_WEBHOOK_URL });
 * ```
 */
export function createWebhookChannel(options: WebhookChannelOptions): AlertChannel {
  const doFetch = options.fetch ?? fetch;
  const render = options.render ?? renderSlackPayload;
  const where = describeUrl(options.url);
  return {
    name: 'webhook',
    async send(alert, { signal }) {
      let response: Response;
      try {
        response = await doFetch(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'logzip-alerts' },
          body: JSON.stringify(render(alert)),
          signal,
        });
      } catch (error) {
        if (signal.aborted) throw new AlertDeliveryError('webhook', `${where} did not answer in time`);
        // undici's "fetch failed" says why in its cause (ECONNREFUSED, ENOTFOUND...); neither names the path.
        const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
        const why =
          typeof cause?.code === 'string'
            ? cause.code
            : typeof cause?.message === 'string'
              ? cause.message
              : (error as Error).message;
        throw new AlertDeliveryError('webhook', `could not reach ${where}: ${why}`);
      }
      const detail = (await response.text().catch(() => '')).trim().slice(0, MAX_DETAIL_CHARS);
      if (response.ok) return;
      const status = response.status;
      throw new AlertDeliveryError(
        'webhook',
        `${where} answered ${status}${detail === '' ? '' : `: ${detail.replace(/\s+/g, ' ')}`}`,
        { status, retryable: status >= 500 || status === 408 || status === 429 },
      );
    },
  };
}
