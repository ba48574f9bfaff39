import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { type LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type Logger, silentLogger } from '@logzip/core';
import type { SqsBatchEvent } from '../sqs-batch.js';
import type { EmulatedContext, EmulatedHandler } from './emulator.js';

export interface MappingEmulatorOptions {
  sqs: SQSClient;
  /** The Lambda API that holds the mapping (moto): its State decides whether batches are taken. */
  lambda: LambdaClient;
  functionName: string;
  /** The trigger queue (LOGZIP_TRIGGER_QUEUE_URL). */
  queueUrl: string;
  handler: EmulatedHandler;
  /** How often the mapping's state is read again (default 2 s). */
  intervalMs?: number;
  /** The function timeout (default 15 min). */
  timeoutMs?: number;
  /**
   * How soon a returned message is visible again. AWS waits for the queue's visibility timeout
   * (≥ 6 × the function timeout); locally that would be an hour and a half, so the emulator
   * shortens it (default 2 s). Receive counts, and so the redrive, are the queue's own.
   */
  retryDelaySeconds?: number;
  /** At most this many batches at once (default: the mapping's MaximumConcurrency, else 2). */
  maxConcurrency?: number;
  /** Long-poll wait per receive (default 2 s). */
  waitSeconds?: number;
  logger?: Logger;
}

export interface RunningMappingEmulator {
  /** Batches handed to the function so far, with their outcome counts. */
  stats(): { mappingReads: number; batches: number; deleted: number; returned: number; crashed: number };
  stop(): Promise<void>;
}

interface MappingView {
  state: string;
  batchSize: number;
  maximumConcurrency: number | undefined;
}

/** Waits, or less when the signal aborts (then without an error: the loop checks the signal). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => {});
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The message ids a partial batch response returns; all of them when the response is not one. */
export function returnedIds(response: unknown, all: readonly string[]): string[] {
  if (typeof response !== 'object' || response === null) return [];
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  // AWS: a response without batchItemFailures (or an empty list) means the whole batch succeeded.
  if (!Array.isArray(failures)) return [];
  const ids: string[] = [];
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    // AWS: an invalid or unknown identifier fails the whole batch.
    if (typeof id !== 'string' || id === '' || !all.includes(id)) return [...all];
    ids.push(id);
  }
  return ids;
}

/**
 * Plays Lambda's SQS event source mapping locally, where moto keeps the mapping but never polls:
 * while the mapping of `functionName` on the queue is `Enabled` (or `Enabling`), up to
 * MaximumConcurrency pollers receive batches of BatchSize, invoke the bundle's handler with an SQS
 * event, delete the messages it did not return in `batchItemFailures`, and make the returned ones
 * visible again after `retryDelaySeconds`. A handler that throws or times out returns its whole
 * batch, as in AWS. The queue's own redrive policy moves a message to the dead-letter queue after
 * maxReceiveCount receives. Disabling the mapping stops new batches; a batch in flight finishes.
 *
 * @example
 * const emulator = startMappingEmulator({ sqs, lambda, functionName, queueUrl, handler });
 */
export function startMappingEmulator(options: MappingEmulatorOptions): RunningMappingEmulator {
  const log = (options.logger ?? silentLogger).child({
    component: 'mapping-emulator',
    queueUrl: options.queueUrl,
  });
  const abort = new AbortController();
  // Every poller's receive listens to this one signal (16 pollers, more than the default 10).
  setMaxListeners(64, abort.signal);
  const intervalMs = options.intervalMs ?? 2_000;
  const timeoutMs = options.timeoutMs ?? 15 * 60_000;
  const counts = { mappingReads: 0, batches: 0, deleted: 0, returned: 0, crashed: 0 };
  let queueArn: string | undefined;
  let view: { at: number; value: MappingView | undefined } | undefined;

  async function readMapping(): Promise<MappingView | undefined> {
    if (view !== undefined && Date.now() - view.at < intervalMs) return view.value;
    queueArn ??= (
      await options.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: options.queueUrl, AttributeNames: ['QueueArn'] }),
      )
    ).Attributes?.QueueArn;
    counts.mappingReads += 1;
    const { EventSourceMappings = [] } = await options.lambda.send(
      new ListEventSourceMappingsCommand({ FunctionName: options.functionName, EventSourceArn: queueArn }),
    );
    const mapping = EventSourceMappings[0];
    const value =
      mapping === undefined
        ? undefined
        : {
            state: mapping.State ?? 'Unknown',
            batchSize: mapping.BatchSize ?? 10,
            maximumConcurrency: mapping.ScalingConfig?.MaximumConcurrency,
          };
    if (value?.state !== view?.value?.state) {
      log.info({ state: value?.state ?? 'missing' }, 'event source mapping state');
    }
    view = { at: Date.now(), value };
    return value;
  }

  async function invoke(event: SqsBatchEvent): Promise<{ ok: true; response: unknown } | { ok: false }> {
    const awsRequestId = randomUUID();
    const deadline = Date.now() + timeoutMs;
    const context: EmulatedContext = {
      awsRequestId,
      functionName: options.functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: options.functionName,
      memoryLimitInMB: '1024',
      logGroupName: `/aws/lambda/${options.functionName}`,
      logStreamName: `emulator/${randomUUID()}`,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      const response = await Promise.race([
        options.handler(event, context),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`Task timed out after ${timeoutMs / 1000} seconds`)),
            timeoutMs,
          );
        }),
      ]);
      return { ok: true, response };
    } catch (error) {
      log.warn(
        { awsRequestId, err: messageOf(error) },
        'the function failed: the whole batch returns to the queue',
      );
      return { ok: false };
    } finally {
      clearTimeout(timer);
    }
  }

  async function settle(messages: Message[], returned: ReadonlySet<string>): Promise<void> {
    const done = messages.filter((m) => !returned.has(m.MessageId ?? ''));
    if (done.length > 0) {
      await options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
    for (const message of messages.filter((m) => returned.has(m.MessageId ?? ''))) {
      await options.sqs
        .send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: options.queueUrl,
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: options.retryDelaySeconds ?? 2,
          }),
        )
        .catch(() => {});
    }
    counts.deleted += done.length;
    counts.returned += messages.length - done.length;
  }

  async function poller(index: number): Promise<void> {
    while (!abort.signal.aborted) {
      let mapping: MappingView | undefined;
      try {
        mapping = await readMapping();
      } catch (error) {
        log.warn({ err: messageOf(error) }, 'could not read the event source mapping; retrying');
        await sleep(intervalMs, abort.signal);
        continue;
      }
      const limit = options.maxConcurrency ?? mapping?.maximumConcurrency ?? 2;
      if (mapping === undefined || !['Enabled', 'Enabling'].includes(mapping.state) || index >= limit) {
        await sleep(intervalMs, abort.signal);
        continue;
      }
      let messages: Message[];
      try {
        messages =
          (
            await options.sqs.send(
              new ReceiveMessageCommand({
                QueueUrl: options.queueUrl,
                MaxNumberOfMessages: Math.min(10, mapping.batchSize),
                WaitTimeSeconds: options.waitSeconds ?? 2,
                MessageSystemAttributeNames: ['All'],
              }),
              { abortSignal: abort.signal },
            )
          ).Messages ?? [];
      } catch (error) {
        if (abort.signal.aborted) break;
        log.warn({ err: messageOf(error) }, 'could not receive from the trigger queue; retrying');
        await sleep(intervalMs, abort.signal);
        continue;
      }
      if (messages.length === 0) continue;
      const event: SqsBatchEvent = {
        Records: messages.map((m) => ({
          messageId: m.MessageId ?? '',
          receiptHandle: m.ReceiptHandle ?? '',
          body: m.Body ?? '',
          attributes: {
            ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
            SentTimestamp: m.Attributes?.SentTimestamp ?? '',
          },
          eventSource: 'aws:sqs',
          eventSourceARN: queueArn ?? '',
        })),
      };
      counts.batches += 1;
      const ids = event.Records.map((r) => r.messageId);
      const result = await invoke(event);
      if (!result.ok) counts.crashed += 1;
      const returned = new Set(result.ok ? returnedIds(result.response, ids) : ids);
      try {
        await settle(messages, returned);
      } catch (error) {
        log.warn({ err: messageOf(error) }, 'could not delete a finished batch: its messages run again');
      }
    }
  }

  const pollers = Array.from({ length: 16 }, (_, i) => poller(i));
  log.info(
    { functionName: options.functionName },
    'playing the event source mapping (moto does not poll queues)',
  );
  return {
    stats: () => ({ ...counts }),
    async stop() {
      abort.abort();
      await Promise.all(pollers);
    },
  };
}
