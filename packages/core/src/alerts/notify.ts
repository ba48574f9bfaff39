import { randomUUID } from 'node:crypto';
import type { Clock } from '../ports/clock.js';
import { systemClock } from '../ports/clock.js';
import { type Logger, silentLogger } from '../ports/logger.js';
import { isPreconditionFailed } from '../ports/object-store.js';
import type { FailureRecord } from '../state/types.js';
import {
  type AlertMarker,
  type AlertMarkerLocation,
  claimAlertMarker,
  completeAlertMarker,
  readAlertMarker,
} from './dedupe.js';
import { isAlertDeliveryError } from './errors.js';
import { buildFailureAlert } from './message.js';
import { scrubSecrets } from './redact.js';
import type {
  AlertChannel,
  AlertOutcome,
  ChannelOutcome,
  FailureAlert,
  FailureAlerter,
  FailureRun,
  NotifyOptions,
} from './types.js';

export const DEFAULT_ALERT_TIMEOUT_MS = 5_000;
export const DEFAULT_ALERT_RETRY_DELAY_MS = 1_000;
/** Failures this process has announced, remembered to spare a marker round trip (and as the dedupe without markers). */
const REMEMBERED = 1_000;
/** A try with less time than this is not started. */
const MIN_TRY_MS = 100;

export interface FailureAlerterOptions {
  channels: readonly AlertChannel[];
  /**
   * Where the alert markers go (the state prefix). Without it, alerts are deduplicated within this
   * process only.
   */
  markers?: AlertMarkerLocation | undefined;
  /** LOGZIP_PUBLIC_URL, for the link to the admin's archive page. */
  publicUrl: string;
  /** Secret values removed from alerts and from logged channel errors (secretsOf(config.env)). */
  secrets?: readonly string[];
  logger?: Logger;
  clock?: Clock;
  /** How long one try of one channel may take (default 5 s). */
  timeoutMs?: number;
  /** The pause before the one retry (default 1 s). */
  retryDelayMs?: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error.cause as { code?: unknown } | undefined)?.code;
    return typeof code === 'string' && !error.message.includes(code)
      ? `${error.message} (${code})`
      : error.message;
  }
  return String(error);
}

/** `promise`, or a rejection when `signal` fires first (a channel that ignores its signal still ends). */
function bounded<T>(promise: Promise<T>, signal: AbortSignal, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error(`no answer within ${ms} ms`));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(signal.aborted ? new Error(`no answer within ${ms} ms`) : error);
      },
    );
  });
}

/**
 * Announces final failures: one alert per failure (see failureIdOf) to every configured channel.
 *
 * - Only a record in state `failed` is announced; `retrying` and `resolved` ones are skipped.
 * - Dedupe: before sending, the failure's marker (`<statePrefix>alerts/<logId>-<hash>.json`) is
 *   created with `ifNoneMatch`; whoever loses that race sends nothing. If the marker cannot be
 *   written at all (storage down, often the very reason of the failure), the alert goes out anyway:
 *   a rare duplicate is better than an outage nobody hears of.
 * - Each channel gets `timeoutMs` per try and one retry (not after a 4xx other than 408/429);
 *   channels run side by side. A channel that fails is logged (never with the webhook URL's path)
 *   and the others still get the alert.
 * - Never throws: an alert never fails the extraction or the job that reported the failure.
 *
 * @example
 * ```ts
 * const alerter = createFailureAlerter({
 *   channels: [createWebhookChannel({ url })],
 *   markers: { store, bucket: config.output.bucket, prefix: config.statePrefix },
 *   publicUrl: config.env.LOGZIP_PUBLIC_URL,
 *   logger,
 * });
 * if (record.state === 'failed') await alerter.notifyFailure(record, { source: 'queue', jobId, jobCreatedAt });
 * ```
 */
export function createFailureAlerter(options: FailureAlerterOptions): FailureAlerter {
  const channels = [...options.channels];
  const clock = options.clock ?? systemClock;
  const log = (options.logger ?? silentLogger).child({ component: 'alerts' });
  const timeoutMs = options.timeoutMs ?? DEFAULT_ALERT_TIMEOUT_MS;
  const retryDelayMs = options.retryDelayMs ?? DEFAULT_ALERT_RETRY_DELAY_MS;
  const secrets = options.secrets ?? [];
  const announced = new Set<string>();

  function remember(identity: string): void {
    announced.add(identity);
    if (announced.size > REMEMBERED) announced.delete(announced.values().next().value as string);
  }

  async function sendOne(
    channel: AlertChannel,
    alert: FailureAlert,
    deadline: number,
  ): Promise<ChannelOutcome> {
    let tries = 0;
    let lastError = 'no time left to send it';
    while (tries < 2) {
      const tryMs = Math.min(timeoutMs, deadline - Date.now());
      if (tryMs < MIN_TRY_MS) break;
      tries += 1;
      const signal = AbortSignal.timeout(tryMs);
      try {
        await bounded(channel.send(alert, { signal }), signal, tryMs);
        return { channel: channel.name, ok: true, tries };
      } catch (error) {
        lastError = scrubSecrets(messageOf(error), secrets);
        const retryable = !isAlertDeliveryError(error) || error.retryable;
        log.warn(
          {
            logId: alert.logId,
            failureId: alert.failureId,
            channel: channel.name,
            try: tries,
            err: lastError,
          },
          retryable && tries < 2 ? 'alert channel failed; trying once more' : 'alert channel failed',
        );
        if (!retryable || deadline - Date.now() < retryDelayMs + MIN_TRY_MS) break;
        if (tries < 2) await sleep(retryDelayMs);
      }
    }
    return { channel: channel.name, ok: false, tries, error: lastError };
  }

  /**
   * True when this process may send: the marker was created, or could not be written at all. Each
   * try is bounded like a channel's (the store may be the slow thing that failed the archive).
   */
  async function claim(marker: AlertMarker, deadline: number): Promise<boolean> {
    const markers = options.markers;
    if (markers === undefined) return true;
    for (let attempt = 1; attempt <= 2; attempt++) {
      const tryMs = Math.max(MIN_TRY_MS, Math.min(timeoutMs, (deadline - Date.now()) / 2));
      const signal = AbortSignal.timeout(tryMs);
      try {
        await bounded(claimAlertMarker(markers, marker), signal, tryMs);
        return true;
      } catch (error) {
        if (isPreconditionFailed(error)) {
          // A first try that timed out may have created it after all: then it is ours.
          if (attempt === 1) return false;
          const held = await readAlertMarker(markers, marker.logId, marker.key, marker.failureId).catch(
            () => marker,
          );
          return held?.claimId === marker.claimId;
        }
        if (attempt === 2) {
          log.warn(
            {
              logId: marker.logId,
              failureId: marker.failureId,
              err: scrubSecrets(messageOf(error), secrets),
            },
            'could not write the alert marker; sending the alert without cross-process dedupe',
          );
        }
      }
    }
    return true;
  }

  async function notifyFailure(
    record: FailureRecord,
    run: FailureRun,
    notifyOptions: NotifyOptions = {},
  ): Promise<AlertOutcome> {
    const deadline =
      notifyOptions.budgetMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + notifyOptions.budgetMs;
    if (channels.length === 0) return { status: 'skipped', reason: 'no_channels' };
    if (record.state !== 'failed') return { status: 'skipped', reason: 'not_failed' };
    try {
      const alert = buildFailureAlert(record, run, { publicUrl: options.publicUrl, secrets });
      const { failureId } = alert;
      // One event can hold several archives: the identity is the marker's (log ID, key, failure).
      const identity = `${record.logId}\n${record.source.key}\n${failureId}`;
      if (announced.has(identity)) return { status: 'duplicate', failureId };
      if (deadline - Date.now() < MIN_TRY_MS) {
        // Not claimed: whoever reports this failure next (the Lambda destination's drain) may still announce it.
        log.warn({ logId: record.logId, failureId }, 'no time left to send the failure alert: not sent');
        return { status: 'failed', failureId, channels: [] };
      }
      remember(identity);
      const marker: AlertMarker = {
        version: 1,
        logId: record.logId,
        key: record.source.key,
        failureId,
        code: record.code,
        source: run.source,
        claimedAt: clock.now().toISOString(),
        claimId: randomUUID(),
        channels: channels.map((c) => c.name),
      };
      if (!(await claim(marker, deadline))) {
        log.info(
          { logId: record.logId, failureId, source: run.source },
          'failure already announced (alert marker exists): not alerting again',
        );
        return { status: 'duplicate', failureId };
      }
      const outcomes = await Promise.all(channels.map((channel) => sendOne(channel, alert, deadline)));
      const sent = outcomes.some((o) => o.ok);
      const status = sent ? 'sent' : 'failed';
      const summary = {
        logId: record.logId,
        failureId,
        code: record.code,
        source: run.source,
        channels: outcomes.map((o) => (o.ok ? `${o.channel}:ok` : `${o.channel}:failed`)),
      };
      if (sent) log.info(summary, 'failure alert sent');
      else log.error(summary, 'failure alert could not be delivered by any channel');
      if (options.markers !== undefined) {
        await completeAlertMarker(options.markers, {
          ...marker,
          outcome: { status, finishedAt: clock.now().toISOString(), channels: outcomes },
        }).catch(() => {
          // The claim is what dedupes; the outcome is only for operators reading the marker.
        });
      }
      return { status, failureId, channels: outcomes };
    } catch (error) {
      // A bug here must not reach the extraction: report it and carry on.
      log.error(
        { logId: record.logId, err: scrubSecrets(messageOf(error), secrets) },
        'failure alert could not be built or sent',
      );
      return { status: 'failed', failureId: '', channels: [] };
    }
  }

  return { enabled: channels.length > 0, notifyFailure };
}

/** An alerter with no channel: every call is `skipped` (alerts not configured). */
export const disabledAlerter: FailureAlerter = {
  enabled: false,
  notifyFailure: async () => ({ status: 'skipped', reason: 'no_channels' }),
};
