/**
 * Regression (found by the fault suite, fixed): queue route, retries run out, and the last attempt's failure record
 * write fails. extractAndRecord returns the record it built even though putFailure threw, so the
 * processor marks the error "recorded" and the `failed` event handler never writes it: the job is
 * failed in BullMQ, the record still says `retrying` (attempts 1 and 2), and no manifest: by the
 * issue's definition the archive is lost (the sweeper would re-enqueue it at its next run).
 */
import { type BullmqProducer, createBullmqProducer } from '@logzip/core/bullmq';
import { describeWithMoto, waitUntil } from '@logzip/test-utils';
import { expect, it } from 'vitest';
import { shardedKey, type UploadedArchive, uploadVersion } from './helpers/corpus.js';
import { faultWorkerEnv, useFaultEnv } from './helpers/fault-env.js';
import { checkStore, DEFAULT_LAYOUT } from './helpers/verdict.js';
import { WorkerPool } from './helpers/workers.js';

describeWithMoto("the last attempt's failure record cannot be written", () => {
  const fx = useFaultEnv('repro-final');

  it('an archive whose retries ran out has a failed record', async () => {
    const { s3, bucket, proxy, redis } = fx;
    // Prepare
    const logId = 'final1';
    const key = shardedKey(logId);
    const files = new Map([['app.log', Buffer.from('hello\n'.repeat(100))]]);
    const archive: UploadedArchive = {
      logId,
      bucket,
      key,
      versions: [await uploadVersion(s3, bucket, key, files)],
    };
    const env = faultWorkerEnv(fx);
    const pool = new WorkerPool(env, 1, 'repro-final');
    const producer: BullmqProducer = createBullmqProducer({
      connection: redis,
      prefix: env['LOGZIP_QUEUE_PREFIX'],
      backoffDelayMs: 200,
    });
    proxy.setRules([
      // Every write of an extracted file fails (503 SlowDown): all three attempts fail.
      { method: 'PUT', path: `/${bucket}/extracted/${logId}/`, fault: { kind: 'slow-down' } },
      // The third attempt's failure record write fails (3 × 500: the SDK's attempts).
      {
        method: 'PUT',
        path: `/${bucket}/logzip-state/failures/${logId}.json`,
        skip: 2,
        times: 3,
        fault: { kind: 'internal-error' },
      },
    ]);
    try {
      await pool.start();

      // Act
      await producer.enqueue({ logId, bucket, key, reason: 'upload' });
      await waitUntil(async () => (await producer.getJobState(logId)) === 'failed', {
        timeoutMs: 30_000,
        what: 'job failed',
      });
      await new Promise((resolve) => setTimeout(resolve, 2_000)); // the failed-event handler's turn

      // Assess
      const verdict = await checkStore(s3, { bucket, ...DEFAULT_LAYOUT }, [archive]);
      expect(verdict.lost).toEqual([]);
      expect(verdict.failures.get(logId)?.state).toBe('failed');
    } finally {
      await pool.stop();
      await producer.close();
    }
  }, 60_000);
});
