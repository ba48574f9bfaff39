import { DEFAULT_LIMITS, type ExtractJob, extractAndRecord, QUEUE_NAME, silentLogger } from '@logzip/core';
import { UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { type Harness, OUTPUT_PREFIX } from './harness.js';

/**
 * A BullMQ worker on the harness's queue that runs the engine like the queue route does
 * (extractAndRecord: the manifest on success, the failure record resolved or updated).
 */
export function startTestWorker(
  harness: Pick<Harness, 'store' | 'state' | 'bucket' | 'queuePrefix'>,
  redisUrl: string,
): { close(): Promise<void> } {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const worker = new Worker<ExtractJob>(
    QUEUE_NAME,
    async (job) => {
      const data = job.data;
      const outcome = await extractAndRecord(
        { source: harness.store, output: harness.store, state: harness.state, logger: silentLogger },
        {
          logId: data.logId,
          source: { bucket: data.bucket, key: data.key },
          output: { bucket: harness.bucket, prefix: OUTPUT_PREFIX },
          limits: DEFAULT_LIMITS,
          fallbackEncoding: 'cp932',
          ...(data.force ? { force: true } : {}),
        },
        {
          route: 'queue',
          attempt: job.attemptsMade + 1,
          maxAttempts: 1,
          ...(job.id === undefined ? {} : { jobId: job.id }),
        },
      );
      if (!outcome.ok) throw new UnrecoverableError(`${outcome.error.code}: ${outcome.error.message}`);
      return { status: outcome.result.status, entries: outcome.result.entries.length };
    },
    { connection, prefix: harness.queuePrefix, concurrency: 2 },
  );
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
