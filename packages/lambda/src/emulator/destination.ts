import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Redis } from 'ioredis';

/** What Lambda sends to an on-failure destination (AWS's asynchronous-invocation format; docs/architecture.md). */
export interface DestinationPayload {
  version: '1.0';
  timestamp: string;
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: 'RetriesExhausted' | 'EventAgeExceeded';
    approximateInvokeCount: number;
  };
  requestPayload: unknown;
  responseContext: { statusCode: number; executedVersion: string; functionError: string };
  responsePayload: { errorType: string; errorMessage: string; trace: string[] };
}

/** How one invocation failed, as Lambda reports it. */
export interface InvocationError {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

export function toInvocationError(error: unknown): InvocationError {
  if (error instanceof Error) {
    return {
      errorType: error.name,
      errorMessage: error.message,
      trace: (error.stack ?? `${error.name}: ${error.message}`).split('\n'),
    };
  }
  return { errorType: 'Error', errorMessage: String(error), trace: [] };
}

export function buildDestinationPayload(input: {
  requestId: string;
  functionArn: string;
  invokeCount: number;
  event: unknown;
  error: InvocationError;
  at: Date;
}): DestinationPayload {
  return {
    version: '1.0',
    timestamp: input.at.toISOString(),
    requestContext: {
      requestId: input.requestId,
      functionArn: `${input.functionArn}:$LATEST`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: input.invokeCount,
    },
    requestPayload: input.event,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: input.error,
  };
}

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
