/**
 * Regression (found by the fault suite, fixed): an archive re-uploaded with the same size between the engine's
 * HEAD and its GET is extracted from the new bytes under a manifest that names the old version.
 */
import { type BullmqProducer, createBullmqProducer } from '@logzip/core/bullmq';
import { describeWithMoto, waitUntil } from '@logzip/test-utils';
import { expect, it } from 'vitest';
import { shardedKey, type UploadedArchive, uploadVersion } from './helpers/corpus.js';
import { faultWorkerEnv, useFaultEnv } from './helpers/fault-env.js';
import { checkStore, DEFAULT_LAYOUT } from './helpers/verdict.js';
import { WorkerPool } from './helpers/workers.js';

describeWithMoto('re-upload of the same size between HEAD and GET', () => {
  const fx = useFaultEnv('repro-stale');

  it('the manifest names the version whose bytes are in the folder', async () => {
    const { s3, bucket, proxy, redis } = fx;
    // Prepare: two versions of one log ID's archive, same names, same sizes, different bytes.
    const logId = 'stale1';
    const key = shardedKey(logId);
    const v1 = new Map([['app.log', Buffer.from('version one: all good\n'.repeat(50))]]);
    const v2 = new Map([['app.log', Buffer.from('version TWO: all good\n'.repeat(50))]]);
    const archive: UploadedArchive = {
      logId,
      bucket,
      key,
      versions: [await uploadVersion(s3, bucket, key, v1)],
    };
    const env = faultWorkerEnv(fx);
    const pool = new WorkerPool(env, 1, 'repro-stale');
    const producer: BullmqProducer = createBullmqProducer({
      connection: redis,
      prefix: env['LOGZIP_QUEUE_PREFIX'],
    });
    // The run's GET of the archive waits 2 s (after its HEAD): the re-upload lands in between.
    proxy.setRules([
      { method: 'GET', path: `/${bucket}/${key}`, times: 1, fault: { kind: 'latency', ms: 2_000 } },
    ]);
    try {
      await pool.start();

      // Act
      await producer.enqueue({ logId, bucket, key, reason: 'upload' });
      await waitUntil(async () => proxy.stats.byKind.latency === 1, {
        timeoutMs: 10_000,
        what: 'GET delayed',
      });
      const second = await uploadVersion(s3, bucket, key, v2);
      expect(second.size).toBe(archive.versions[0]!.size);
      archive.versions.push(second);
      await waitUntil(async () => (await producer.getJobState(logId)) === 'completed', {
        timeoutMs: 20_000,
        what: 'job completed',
      });

      // Assess
      const verdict = await checkStore(s3, { bucket, ...DEFAULT_LAYOUT }, [archive]);
      expect(verdict.inconsistent).toEqual([]);
    } finally {
      await pool.stop();
      await producer.close();
    }
  }, 60_000);
});
