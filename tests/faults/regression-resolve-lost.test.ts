/**
 * Regression (found by the fault suite, fixed): when marking the failure record `resolved` fails after a successful
 * extraction (one reset of the record's GET), the record stays `retrying` for good, beside a
 * complete manifest. Nothing revisits it: the sweeper skips archives that have a manifest.
 */
import { type BullmqProducer, createBullmqProducer } from '@logzip/core/bullmq';
import { describeWithMoto, waitUntil } from '@logzip/test-utils';
import { expect, it } from 'vitest';
import { shardedKey, type UploadedArchive, uploadVersion } from './helpers/corpus.js';
import { faultWorkerEnv, useFaultEnv } from './helpers/fault-env.js';
import { checkStore, DEFAULT_LAYOUT } from './helpers/verdict.js';
import { WorkerPool } from './helpers/workers.js';

describeWithMoto('resolving the failure record fails once', () => {
  const fx = useFaultEnv('repro-resolve');

  it('an extracted archive does not keep an open failure record', async () => {
    const { s3, bucket, proxy, redis } = fx;
    // Prepare
    const logId = 'resolve1';
    const key = shardedKey(logId);
    const files = new Map([['app.log', Buffer.from('hello\n'.repeat(100))]]);
    const archive: UploadedArchive = {
      logId,
      bucket,
      key,
      versions: [await uploadVersion(s3, bucket, key, files)],
    };
    const env = faultWorkerEnv(fx);
    const pool = new WorkerPool(env, 1, 'repro-resolve');
    const producer: BullmqProducer = createBullmqProducer({
      connection: redis,
      prefix: env['LOGZIP_QUEUE_PREFIX'],
      backoffDelayMs: 200,
    });
    proxy.setRules([
      // Attempt 1 fails (3 × 500 on the archive, more than the SDK retries): record `retrying`.
      { method: 'GET', path: `/${bucket}/${key}`, times: 3, fault: { kind: 'internal-error' } },
      // Attempt 2 succeeds; its read of the record (to mark it resolved) is cut mid-body once.
      {
        method: 'GET',
        path: `/${bucket}/logzip-state/failures/${logId}.json`,
        skip: 1,
        times: 1,
        fault: { kind: 'reset-mid-body' },
      },
    ]);
    try {
      await pool.start();

      // Act
      await producer.enqueue({ logId, bucket, key, reason: 'upload' });
      await waitUntil(async () => (await producer.getJobState(logId)) === 'completed', {
        timeoutMs: 20_000,
        what: 'job completed',
      });

      // Assess
      const verdict = await checkStore(s3, { bucket, ...DEFAULT_LAYOUT }, [archive]);
      expect(verdict.extracted).toEqual([logId]);
      expect(verdict.failures.get(logId)?.state).toBe('resolved');
    } finally {
      await pool.stop();
      await producer.close();
    }
  }, 60_000);
});
