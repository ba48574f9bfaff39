import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  createStateStore,
  type ObjectInfo,
  type QueueProducer,
  type StateStore,
  type Tracer,
} from '@logzip/core';
import { createS3Client, createS3ObjectStore } from '@logzip/core/s3';
import { createIndexedStateStore, type FailureIndex } from '@logzip/core/state';
import { MOTO_REGION } from '@logzip/test-utils';
import { readLambdaConfig } from '../../src/config.js';
import { createHandler, type InvocationContext, type LogzipHandler } from '../../src/create-handler.js';
import type { EmfRecord } from '../../src/emf.js';
import { createLambdaLogger } from '../../src/logger.js';

/** A log ID nobody else in the shared bucket uses. */
export function newLogId(): string {
  return `t${randomUUID().replace(/-/g, '').slice(0, 20)}`;
}

/** Lambda's context: one awsRequestId, a deadline counted down from `remainingMs`. */
export function lambdaContext(awsRequestId: string = randomUUID(), remainingMs = 900_000): InvocationContext {
  const deadline = Date.now() + remainingMs;
  return { awsRequestId, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
}

export interface HandlerHarness {
  handler: LogzipHandler;
  state: StateStore;
  /** Parsed JSON log lines of the handler. */
  logs: Array<Record<string, unknown>>;
  /** The EMF records the handler emitted. */
  metrics: EmfRecord[];
}

/**
 * The handler wired as the module scope wires it (readLambdaConfig + the S3 adapter + the state
 * store), with the S3 endpoint of your choice (moto, or the fault proxy in front of it) and SDK
 * attempts at 1 so injected faults reach the handler.
 */
export function createHarness(options: {
  bucket: string;
  endpoint: string;
  env?: Record<string, string>;
  producer?: QueueProducer;
  handoffTimeoutMs?: number;
  tracer?: Tracer;
  /** Indexes the state store (the pending set included), as the deployed function does with Redis. */
  index?: FailureIndex;
}): HandlerHarness {
  const { config, errors } = readLambdaConfig({
    LOGZIP_INCOMING_BUCKET: options.bucket,
    AWS_REGION: MOTO_REGION,
    AWS_ENDPOINT_URL_S3: options.endpoint,
    LOGZIP_LAMBDA_SAFETY_MARGIN: '1s',
    ...options.env,
  });
  if (config === undefined) throw new Error(errors.join('\n'));
  const client = createS3Client(config.env, { maxAttempts: 1 });
  const store = createS3ObjectStore({ client });
  const plainState = createStateStore({ store, bucket: config.output.bucket, prefix: config.statePrefix });
  const state = options.index === undefined ? plainState : createIndexedStateStore(plainState, options.index);
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line !== '') logs.push(JSON.parse(line));
      done();
    },
  });
  const logger = createLambdaLogger({ level: 'debug', destination });
  const metrics: EmfRecord[] = [];
  const handler = createHandler({
    config,
    store,
    state,
    logger,
    metrics: (records) => metrics.push(...records),
    ...(options.producer === undefined ? {} : { producer: options.producer }),
    ...(options.handoffTimeoutMs === undefined ? {} : { handoffTimeoutMs: options.handoffTimeoutMs }),
    ...(options.tracer === undefined ? {} : { tracer: options.tracer }),
  });
  return { handler, state, logs, metrics };
}

/** Uploads like a client would and returns what S3 then knows of the object (for the event). */
export async function upload(s3: S3Client, bucket: string, key: string, body: Buffer): Promise<ObjectInfo> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length }));
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  return {
    bucket,
    key,
    size: head.ContentLength ?? body.length,
    etag: (head.ETag ?? '').replace(/"/g, ''),
    lastModified: head.LastModified ?? new Date(),
  };
}

/** Keys and ETags under a prefix. */
export async function listObjects(s3: S3Client, bucket: string, prefix: string) {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => ({
    key: o.Key as string,
    etag: o.ETag,
    lastModified: o.LastModified,
  }));
}
