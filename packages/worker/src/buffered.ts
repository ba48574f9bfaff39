import type { SQSClient } from '@aws-sdk/client-sqs';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import type { Logger, RouteStore } from '@logzip/core';
import type { BullmqProducer } from '@logzip/core/bullmq';
import { handleDeadLetterMessage } from './dead-letter.js';
import { type Drain, type DrainHandlerOptions, startSqsDrain } from './drain.js';
import { startNotificationConsumer } from './notification-consumer.js';

export interface BufferedConsumersOptions {
  sqs: SQSClient;
  /** The trigger queue (LOGZIP_TRIGGER_QUEUE_URL). */
  queueUrl: string;
  producer: BullmqProducer;
  routes: RouteStore;
  incoming: { bucket: string; prefix: string };
  logIdPattern: RegExp;
  logger: Logger;
  drainOptions: DrainHandlerOptions;
  onStored?: (outcome: 'enqueued' | 'collapsed') => void;
  /** Long-poll wait of both loops (default 5 s for the trigger queue, 20 s for the dead-letter queue). */
  waitSeconds?: number;
}

/** The dead-letter queue named by the trigger queue's redrive policy, or undefined without one. */
export async function findDeadLetterQueueUrl(sqs: SQSClient, queueUrl: string): Promise<string | undefined> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }),
  );
  const redrive = Attributes?.RedrivePolicy;
  if (redrive === undefined) return undefined;
  const arn = (JSON.parse(redrive) as { deadLetterTargetArn?: string }).deadLetterTargetArn;
  if (arn === undefined) return undefined;
  const [, , , , account, name] = arn.split(':');
  const { QueueUrl } = await sqs.send(
    new GetQueueUrlCommand({ QueueName: name, ...(account ? { QueueOwnerAWSAccountId: account } : {}) }),
  );
  return QueueUrl;
}

/**
 * What the worker runs in buffered mode: the trigger queue's consumer (active while the route is
 * `queue`) and the drain of its dead-letter queue into failure records (always: poison messages of
 * either consumer end there).
 */
export async function startBufferedConsumers(options: BufferedConsumersOptions): Promise<Drain> {
  const log = options.logger.child({ component: 'buffered' });
  const consumer = startNotificationConsumer({
    sqs: options.sqs,
    queueUrl: options.queueUrl,
    producer: options.producer,
    routes: options.routes,
    incoming: options.incoming,
    logIdPattern: options.logIdPattern,
    logger: options.logger,
    ...(options.waitSeconds === undefined ? {} : { waitSeconds: options.waitSeconds }),
    ...(options.onStored === undefined ? {} : { onStored: options.onStored }),
  });
  let deadLetter: Drain | undefined;
  try {
    const deadLetterQueueUrl = await findDeadLetterQueueUrl(options.sqs, options.queueUrl);
    if (deadLetterQueueUrl === undefined) {
      log.warn(
        { queueUrl: options.queueUrl },
        'the trigger queue has no redrive policy: no dead-letter queue to drain',
      );
    } else {
      deadLetter = startSqsDrain({
        ...options.drainOptions,
        sqs: options.sqs,
        queueUrl: deadLetterQueueUrl,
        ...(options.waitSeconds === undefined ? {} : { waitSeconds: options.waitSeconds }),
        handleMessage: (message, handlerOptions) =>
          handleDeadLetterMessage(message, {
            ...handlerOptions,
            incomingBucket: options.incoming.bucket,
            incomingPrefix: options.incoming.prefix,
          }),
      });
    }
  } catch (error) {
    await consumer.stop();
    throw error;
  }
  return {
    done: Promise.all([consumer.done, deadLetter?.done]).then(() => {}),
    async stop() {
      await Promise.all([consumer.stop(), deadLetter?.stop()]);
    },
  };
}
