import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { LogzipConfig } from '../../config.js';
import type { Logger } from '../../ports/logger.js';
import type { ObjectStore } from '../../ports/object-store.js';
import { noopTracer, type Tracer } from '../../ports/tracer.js';
import { createIndexedStateStore, type IndexWriter } from '../../state/indexed-state-store.js';
import { createStateStore } from '../../state/object-state-store.js';
import type { StateStore } from '../../state/state-store.js';
import { readTracingSettings } from '../../tracing-config.js';
import { createFsObjectStore } from '../fs/index.js';
import { createS3Client, createS3ObjectStore } from '../s3/index.js';

export interface Storage {
  /** Reads archives and writes extracted files (one store: the buckets live on the same service). */
  store: ObjectStore;
  /** Manifests, failure records and audit entries in the output bucket's state prefix. */
  state: StateStore;
  incoming: { bucket: string; prefix: string };
  output: { bucket: string; prefix: string };
  /** `folder` when LOGZIP_STORAGE_DIR is set, else `s3`. */
  kind: 'folder' | 's3';
}

export interface CreateStorageOptions {
  logger?: Logger;
  /** An S3 client to use instead of one built from the config (tests, shared clients). */
  s3Client?: S3Client;
  /** The failure index: every state write then updates it too (createRedisFailureIndex). */
  index?: IndexWriter;
}

/**
 * The storage a process works on, from its validated config: folders under LOGZIP_STORAGE_DIR
 * (created on first use) or S3 (`AWS_ENDPOINT_URL_S3` for S3-compatible servers).
 */
export function createStorage(config: LogzipConfig, options: CreateStorageOptions = {}): Storage {
  const incomingBucket = config.incoming.bucket;
  if (incomingBucket === undefined) {
    throw new Error('LOGZIP_INCOMING_BUCKET is not configured');
  }
  const outputBucket = config.output.bucket ?? incomingBucket;
  let store: ObjectStore;
  let kind: Storage['kind'];
  const dir = config.env.LOGZIP_STORAGE_DIR;
  if (dir !== undefined) {
    const rootDir = resolve(dir);
    for (const bucket of new Set([incomingBucket, outputBucket]))
      mkdirSync(join(rootDir, bucket), { recursive: true });
    store = createFsObjectStore({ rootDir });
    kind = 'folder';
  } else {
    store = createS3ObjectStore({ client: options.s3Client ?? createS3Client(config.env) });
    kind = 's3';
  }
  options.logger?.debug({ kind, incomingBucket, outputBucket }, 'storage ready');
  const state = createStateStore({ store, bucket: outputBucket, prefix: config.statePrefix });
  return {
    store,
    state:
      options.index === undefined
        ? state
        : createIndexedStateStore(
            state,
            options.index,
            options.logger === undefined ? {} : { logger: options.logger },
          ),
    incoming: { bucket: incomingBucket, prefix: config.incoming.prefix },
    output: { bucket: outputBucket, prefix: config.output.prefix },
    kind,
  };
}

/**
 * The tracer the `OTEL_*` variables ask for: the no-op tracer when they name no endpoint (then the
 * OpenTelemetry SDK is never imported: it is a chunk of its own in the Lambda bundle), else the SDK
 * behind the tracing port. Throws on invalid values, like any configuration error.
 *
 * @example
 * const tracer = await loadTracer(process.env, 'logzip-worker', logger);
 */
export async function loadTracer(
  env: Record<string, string | undefined>,
  defaultServiceName: string,
  logger?: Logger,
): Promise<Tracer> {
  const { settings, errors } = readTracingSettings(env, defaultServiceName);
  if (errors.length > 0) throw new TracingConfigError(errors);
  if (settings === undefined) return noopTracer;
  const { createOtelTracer } = await import('../otel/index.js');
  logger?.info(
    { url: settings.url, serviceName: settings.serviceName, sampler: settings.sampler.name },
    'tracing on: spans go to the OTLP receiver',
  );
  return createOtelTracer(settings);
}

/** Bad `OTEL_*` values, each named. */
export class TracingConfigError extends Error {
  constructor(readonly errors: string[]) {
    super(errors.join('; '));
    this.name = 'TracingConfigError';
  }
}
