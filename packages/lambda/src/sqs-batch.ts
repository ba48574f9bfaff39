import type { Logger } from '@logzip/core';
import type { InvocationContext } from './create-handler.js';

/** One message of an SQS batch as Lambda's event source mapping delivers it. */
export interface SqsMessage {
  messageId: string;
  body: string;
  receiptHandle?: string;
  attributes?: { ApproximateReceiveCount?: string; SentTimestamp?: string };
  eventSource?: string;
  eventSourceARN?: string;
}

export interface SqsBatchEvent {
  Records: SqsMessage[];
}

/** The partial batch response: only these messages return to the queue. */
export interface SqsBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

/** What became of one message: `done` is deleted by Lambda, the others return to the queue. */
export type MessageOutcome = 'done' | 'retry' | 'crashed' | 'unfinished';

export interface SqsBatchResult extends SqsBatchResponse {
  outcomes: Record<string, MessageOutcome>;
}

/** Whether the function was invoked by an SQS event source mapping. */
export function isSqsBatchEvent(event: unknown): event is SqsBatchEvent {
  if (typeof event !== 'object' || event === null) return false;
  const records = (event as { Records?: unknown }).Records;
  return (
    Array.isArray(records) &&
    records.length > 0 &&
    records.every(
      (r) =>
        typeof r === 'object' &&
        r !== null &&
        (r as SqsMessage).eventSource === 'aws:sqs' &&
        typeof (r as SqsMessage).messageId === 'string',
    )
  );
}

export interface ProcessSqsBatchOptions {
  /** Messages handled at once (each is one archive: extraction holds memory and sockets). */
  concurrency: number;
  /** Time kept free at the end of the invocation: no message starts this close to the deadline. */
  safetyMarginMs: number;
  logger: Logger;
  /**
   * One message's work: `done` when the message may be deleted (extracted, already extracted,
   * rejected for good, not ours), `retry` when it must come back. A throw is a crash: see below.
   */
  processMessage(message: SqsMessage, log: Logger): Promise<'done' | 'retry'>;
}

/**
 * Runs a batch with bounded concurrency and answers with exactly the messages that must return
 * to the queue. A message whose handling throws (a bug, not an archive's failure: those resolve
 * `retry`) crashes the batch: no further message starts, the ones running finish, and the crashed
 * one with every unstarted one is returned. Messages not started before the deadline's safety
 * margin are returned too. Never throws: an error from the handler would make Lambda return the
 * whole batch, finished messages included, and run them again.
 *
 * @example
 * const { batchItemFailures } = await processSqsBatch(event, context, { concurrency: 4, safetyMarginMs: 30_000, logger, processMessage });
 */
export async function processSqsBatch(
  event: SqsBatchEvent,
  context: InvocationContext,
  options: ProcessSqsBatchOptions,
): Promise<SqsBatchResult> {
  const messages = event.Records;
  const outcomes: Record<string, MessageOutcome> = {};
  let next = 0;
  let crashed = false;

  async function runOne(message: SqsMessage): Promise<void> {
    const log = options.logger.child({ sqsMessageId: message.messageId });
    try {
      outcomes[message.messageId] = await options.processMessage(message, log);
    } catch (error) {
      crashed = true;
      outcomes[message.messageId] = 'crashed';
      log.error(
        { err: error instanceof Error ? error.message : String(error), stack: (error as Error)?.stack },
        'message handling crashed: the batch stops, unfinished messages return to the queue',
      );
    }
  }

  async function lane(): Promise<void> {
    while (!crashed && next < messages.length) {
      if (context.getRemainingTimeInMillis() < options.safetyMarginMs) return;
      const message = messages[next++] as SqsMessage;
      await runOne(message);
    }
  }

  const lanes = Math.max(1, Math.min(options.concurrency, messages.length));
  await Promise.all(Array.from({ length: lanes }, () => lane()));

  const batchItemFailures: Array<{ itemIdentifier: string }> = [];
  for (const message of messages) {
    outcomes[message.messageId] ??= 'unfinished';
    if (outcomes[message.messageId] !== 'done') batchItemFailures.push({ itemIdentifier: message.messageId });
  }
  return { batchItemFailures, outcomes };
}
