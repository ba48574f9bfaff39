import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DestinationPayload } from '@logzip/core/events';
import type { Redis } from 'ioredis';

/** Where the emulator delivers destination payloads: the drain reads either. */
export interface DestinationSink {
  /** A short description for logs (`sqs:<url>` or `redis:<list>`). */
  readonly target: string;
  send(payload: DestinationPayload): Promise<void>;
}

export function sqsDestination(sqs: SQSClient, queueUrl: string): DestinationSink {
  return {
    target: `sqs:${queueUrl}`,
    async send(payload) {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(payload) }));
    },
  };
}

/** The local on-failure destination: a Redis list of payload JSON strings, newest first. */
export function redisListDestination(redis: Redis, listKey: string): DestinationSink {
  return {
    target: `redis:${listKey}`,
    async send(payload) {
      await redis.lpush(listKey, JSON.stringify(payload));
    },
  };
}
