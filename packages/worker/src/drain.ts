import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  alertIfFinal,
  attemptsOfRequest,
  type Clock,
  type FailureRecord,
  isErrorCode,
  type Logger,
  LogzipError,
  recordFailedAttempt,
  type StateStore,
  silentLogger,
  systemClock,
} from '@logzip/core';
import type { FailureAlerter } from '@logzip/core/alerts';
import { DEFAULT_KEYS } from '@logzip/core/bullmq';
import { type LambdaFailure, parseDestinationMessage } from '@logzip/core/events';
import type { Redis } from 'ioredis';

export interface RecordLambdaFailureDeps {
  state: StateStore;
  clock?: Clock;
}

/**
 * Writes one Lambda failure into the log ID's failure record: state `failed`, route `lambda`, the
 * request id. When the handler itself already recorded this attempt (same request id and invoke
 * count) with a precise code, that code is kept: the destination only sees the error's type name.
 * A record of an archive extracted since (a later run, the queue) is marked `resolved` again.
 */
export async function recordLambdaFailure(
  deps: RecordLambdaFailureDeps,
  failure: LambdaFailure,
): Promise<FailureRecord> {
  const manifest = await deps.state.getManifest(failure.logId);
  return recordFailedAttempt(
    deps.state,
    {
      logId: failure.logId,
      source: failure.source,
      route: 'lambda',
      error: (previous) => destinationError(failure, previous),
      attempt: failure.attempt,
      // The destination only hears of an event whose retries are over: this attempt was the last.
      maxAttempts: failure.attempt,
      requestId: failure.requestId,
      run: failure.run,
      at: failure.at,
      extractedSince:
        manifest !== undefined &&
        manifest.source.key === failure.source.key &&
        Date.parse(manifest.finishedAt) > failure.at.getTime(),
    },
    deps.clock ?? systemClock,
  );
}

/**
 * The error a destination message stands for. When the handler itself already recorded this
 * attempt with a precise code, that code is kept: the destination only sees the error's type name.
 */
function destinationError(failure: LambdaFailure, previous: FailureRecord | undefined): LogzipError {
  // By request id alone: when one of the handler's record writes failed its attempt numbers run
  // short of Lambda's invoke count, and the code it knew must not turn into `internal`.
  const known = attemptsOfRequest(previous, 'lambda', failure.requestId).at(-1);
  const useKnown = known !== undefined && !isErrorCode(failure.errorType) && failure.code === 'internal';
  const error = new LogzipError(
    useKnown ? known.code : failure.code,
    useKnown ? known.message : failure.message,
  );
  error.stack =
    useKnown && previous?.stack !== undefined
      ? previous.stack
      : failure.trace.length > 0
        ? failure.trace.join('\n')
        : `${failure.errorType ?? 'Error'}: ${failure.message}`;
  return error;
}

export interface DrainHandlerOptions {
  state: StateStore;
  logIdPattern: RegExp;
  logger?: Logger;
  clock?: Clock;
  /** Called per failure recorded (metrics). */
  onRecorded?: (failure: LambdaFailure, record: FailureRecord) => void;
  onUnparseable?: (reason: string) => void;
  /**
   * Announces each failure recorded `failed`. The Lambda handler has usually announced its last
   * attempt already: the alert marker (named after the awsRequestId) makes this a no-op then, and
   * the one alert for timeouts and crashes, which never reach the handler's code.
   */
  alerter?: FailureAlerter;
}

export type HandleOutcome =
  | { outcome: 'recorded'; records: FailureRecord[] }
  | { outcome: 'unparseable'; reason: string };

/** Parses one message and records its failures. Throws when storage fails (the message is kept for later). */
export async function handleDestinationMessage(
  body: string,
  options: DrainHandlerOptions,
): Promise<HandleOutcome> {
  const parsed = parseDestinationMessage(body, options.logIdPattern);
  if (!parsed.ok) {
    options.onUnparseable?.(parsed.reason);
    return { outcome: 'unparseable', reason: parsed.reason };
  }
  return recordLambdaFailures(parsed.failures, options, 'from its on-failure destination');
}

/**
 * Writes each failure into its log ID's failure record, logs it and announces the final ones: what
 * the drain of the on-failure destination and the drain of the trigger's dead-letter queue share.
 */
export async function recordLambdaFailures(
  failures: readonly LambdaFailure[],
  options: DrainHandlerOptions,
  from: string,
): Promise<HandleOutcome> {
  const log = options.logger ?? silentLogger;
  const records: FailureRecord[] = [];
  for (const failure of failures) {
    const record = await recordLambdaFailure(
      { state: options.state, ...(options.clock ? { clock: options.clock } : {}) },
      failure,
    );
    records.push(record);
    options.onRecorded?.(failure, record);
    log.warn(
      {
        logId: failure.logId,
        requestId: failure.requestId,
        key: failure.source.key,
        code: record.code,
        condition: failure.condition,
        errorType: failure.errorType,
        state: record.state,
        route: 'lambda',
      },
      `Lambda run failed for good: failure record written ${from}`,
    );
    await alertIfFinal(options.alerter, record, {
      source: 'lambda-destination',
      requestId: failure.requestId,
      condition: failure.condition,
    });
  }
  return { outcome: 'recorded', records };
}

export interface Drain {
  /** Stops after the message in hand is handled. */
  stop(): Promise<void>;
  /** Settles when the loop has ended. */
  readonly done: Promise<void>;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One received message, as a custom handler of the SQS drain sees it. */
export interface DrainMessage {
  body: string;
  messageId: string | undefined;
  receiveCount: number;
}

export interface SqsDrainOptions extends DrainHandlerOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** Reads a message of another shape than the destination's (the trigger's dead-letter queue). */
  handleMessage?: (message: DrainMessage, options: DrainHandlerOptions) => Promise<HandleOutcome>;
  /** Long-poll wait (default 20 s, SQS's maximum). */
  waitSeconds?: number;
  /** Pause after an error before polling again (default 5 s). */
  errorDelayMs?: number;
}

/**
 * Long-polls the Lambda's on-failure SQS queue, turns each message into failure records, then
 * deletes it. A message it cannot understand is logged and left alone: after the queue's
 * maxReceiveCount SQS moves it to the dead-letter queue. A storage failure also leaves the
 * message, to be received again after its visibility timeout.
 */
export function startSqsDrain(options: SqsDrainOptions): Drain {
  const log = (options.logger ?? silentLogger).child({ component: 'drain', queueUrl: options.queueUrl });
  const abort = new AbortController();
  const done = (async () => {
    log.info({}, "draining the Lambda's on-failure queue");
    while (!abort.signal.aborted) {
      let messages: Array<{
        Body?: string;
        ReceiptHandle?: string;
        MessageId?: string;
        Attributes?: Partial<Record<string, string>>;
      }> = [];
      try {
        const received = await options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: options.waitSeconds ?? 20,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          { abortSignal: abort.signal },
        );
        messages = received.Messages ?? [];
      } catch (error) {
        if (abort.signal.aborted) break;
        log.warn({ err: messageOf(error) }, 'could not receive from the failure queue; retrying');
        await sleep(options.errorDelayMs ?? 5_000, abort.signal);
        continue;
      }
      for (const message of messages) {
        const messageLog = log.child({ messageId: message.MessageId });
        try {
          const handlerOptions = { ...options, logger: messageLog };
          const handled =
            options.handleMessage === undefined
              ? await handleDestinationMessage(message.Body ?? '', handlerOptions)
              : await options.handleMessage(
                  {
                    body: message.Body ?? '',
                    messageId: message.MessageId,
                    receiveCount: Number(message.Attributes?.['ApproximateReceiveCount'] ?? 1),
                  },
                  handlerOptions,
                );
          if (handled.outcome === 'unparseable') {
            messageLog.error(
              { reason: handled.reason, body: (message.Body ?? '').slice(0, 2_000) },
              'unparseable failure-queue message left for the dead-letter queue',
            );
            continue;
          }
          await options.sqs.send(
            new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: message.ReceiptHandle }),
          );
        } catch (error) {
          messageLog.warn(
            { err: messageOf(error) },
            'could not record a failure-queue message; it will be received again',
          );
        }
      }
    }
    log.info({}, 'failure-queue drain stopped');
  })();
  return {
    done,
    async stop() {
      abort.abort();
      await done;
    },
  };
}

export interface RedisDrainOptions extends DrainHandlerOptions {
  /** A connection the drain may block on; it is closed when the drain stops. */
  redis: Redis;
  key?: string;
  /** How long one blocking pop waits (default 5 s). */
  blockSeconds?: number;
  errorDelayMs?: number;
}

/**
 * The same drain over the Redis list the local emulator writes (`logzip:lambda-destination`,
 * newest first). Each item moves to `<key>:processing` while it is handled, so a crash leaves it
 * there to be put back at the next start; unparseable items go to `<key>:dead`.
 */
export function startRedisDrain(options: RedisDrainOptions): Drain {
  const key = options.key ?? DEFAULT_KEYS.lambdaDestination;
  const processing = `${key}:processing`;
  const dead = `${key}:dead`;
  const redis = options.redis;
  const log = (options.logger ?? silentLogger).child({ component: 'drain', list: key });
  const abort = new AbortController();
  let blocking = false;
  const done = (async () => {
    log.info({}, 'draining the local Lambda destination list');
    // Items a crashed drain was handling: put them back (recording is idempotent).
    try {
      while ((await redis.lmove(processing, key, 'LEFT', 'RIGHT')) !== null) {}
    } catch (error) {
      if (!abort.signal.aborted)
        log.warn({ err: messageOf(error) }, 'could not recover in-flight destination items');
    }
    while (!abort.signal.aborted) {
      let body: string | null;
      try {
        blocking = true;
        body = await redis.blmove(key, processing, 'RIGHT', 'LEFT', options.blockSeconds ?? 5);
      } catch (error) {
        if (abort.signal.aborted) break;
        log.warn({ err: messageOf(error) }, 'could not read the destination list; retrying');
        await sleep(options.errorDelayMs ?? 5_000, abort.signal);
        continue;
      } finally {
        blocking = false;
      }
      if (body === null) continue;
      try {
        const handled = await handleDestinationMessage(body, { ...options, logger: log });
        if (handled.outcome === 'unparseable') {
          log.error(
            { reason: handled.reason, body: body.slice(0, 2_000) },
            `unparseable destination item moved to ${dead}`,
          );
          await redis.multi().lrem(processing, 1, body).lpush(dead, body).exec();
        } else {
          await redis.lrem(processing, 1, body);
        }
      } catch (error) {
        log.warn({ err: messageOf(error) }, 'could not record a destination item; it goes back to the list');
        await redis
          .multi()
          .lrem(processing, 1, body)
          .rpush(key, body)
          .exec()
          .catch(() => {});
        await sleep(options.errorDelayMs ?? 5_000, abort.signal);
      }
    }
    log.info({}, 'destination list drain stopped');
  })();
  return {
    done,
    async stop() {
      abort.abort();
      // Wake a blocking pop at once (the connection is the drain's own); an item in hand finishes first.
      if (blocking) redis.disconnect();
      await done;
      redis.disconnect();
    },
  };
}
