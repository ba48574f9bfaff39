import { DEFAULT_LIMITS, QUEUE_NAME, silentLogger, type Tracer } from '@logzip/core';
import { createExtractProcessor } from '@logzip/core/bullmq';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { type Harness, OUTPUT_PREFIX } from './harness.js';

/**
 * A BullMQ worker on the harness's queue running the queue route's own processor (the manifest on
 * success, the failure record resolved or updated, the `failed` event's bookkeeping).
 */
export function startTestWorker(
  harness: Pick<Harness, 'store' | 'state' | 'bucket' | 'queuePrefix'> & Partial<Pick<Harness, 'producer'>>,
  redisUrl: string,
  options: { tracer?: Tracer } = {},
): { close(): Promise<void> } {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const { producer } = harness;
  const processor = createExtractProcessor({
    source: harness.store,
    output: harness.store,
    state: harness.state,
    outputLocation: { bucket: harness.bucket, prefix: OUTPUT_PREFIX },
    limits: DEFAULT_LIMITS,
    fallbackEncoding: 'cp932',
    logger: silentLogger,
    // Uploads that land while a job of their log ID finishes get a job of their own.
    ...(producer === undefined ? {} : { requeue: (job) => producer.enqueue(job) }),
    ...(options.tracer === undefined ? {} : { tracer: options.tracer }),
  });
  const worker = new Worker(QUEUE_NAME, processor.process, {
    connection,
    prefix: harness.queuePrefix,
    concurrency: 2,
  });
  worker.on('failed', (job, error) => void processor.onFailed(job, error).catch(() => {}));
  worker.on('completed', (job, result) => void processor.onCompleted(job, result).catch(() => {}));
  worker.on('error', () => {});
  return {
    async close() {
      await Promise.race([worker.close(), new Promise((resolve) => setTimeout(resolve, 5_000))]);
      await worker.close(true).catch(() => {});
      connection.disconnect();
    },
  };
}

/** Polls until `check` holds (or throws after `timeoutMs`). */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last === undefined ? '' : `: ${String(last)}`}`);
}
