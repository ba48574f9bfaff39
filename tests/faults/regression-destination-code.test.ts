/**
 * Regression (found by the fault suite, fixed): an event whose retries run out is recorded with code `internal`
 * instead of its real code when one of the handler's own record writes failed on the way. The
 * handler then counts its attempts one short (the third invocation records "attempt 2",
 * `retrying`), and the drain only keeps the handler's code for an attempt with the destination's
 * invoke count (3), which the record does not have.
 */
import { describeWithMoto, requireMoto, waitUntil } from '@logzip/test-utils';
import { expect, it } from 'vitest';
import { shardedKey, uploadVersion } from './helpers/corpus.js';
import { faultWorkerEnv, useFaultEnv } from './helpers/fault-env.js';
import { DESTINATION_KEY, s3Event, startLambdaService } from './helpers/lambda.js';
import { checkStore, DEFAULT_LAYOUT } from './helpers/verdict.js';
import { WorkerPool } from './helpers/workers.js';

describeWithMoto('Lambda retries run out after a failed record write', () => {
  const fx = useFaultEnv('repro-code');

  it('the failed record keeps the real error code', async () => {
    const { s3, bucket, proxy, redis } = fx;
    // Prepare
    const logId = 'code1';
    const key = shardedKey(logId);
    const files = new Map([['app.log', Buffer.from('hello\n'.repeat(100))]]);
    const version = await uploadVersion(s3, bucket, key, files);
    const archive = { logId, bucket, key, versions: [version] };
    const env = faultWorkerEnv(fx, {
      AWS_ENDPOINT_URL_S3: requireMoto(),
    });
    const drain = new WorkerPool(env, 1, 'repro-code-drain');
    proxy.setRules([
      // Every write of an extracted file fails (503 SlowDown): each invocation fails, retryable.
      { method: 'PUT', path: `/${bucket}/extracted/${logId}/`, fault: { kind: 'slow-down' } },
      // The first invocation's failure record write fails too (3 × 500: the SDK's attempts).
      {
        method: 'PUT',
        path: `/${bucket}/logzip-state/failures/${logId}.json`,
        times: 3,
        fault: { kind: 'internal-error' },
      },
    ]);
    await drain.start();
    const lambda = await startLambdaService({
      env: { LOGZIP_INCOMING_BUCKET: bucket, AWS_ENDPOINT_URL_S3: proxy.url, AWS_REGION: 'us-east-1' },
      containers: 1,
      destination: redis,
      logName: 'repro-code',
    });
    try {
      // Act
      const outcome = await lambda.deliver(s3Event({ bucket, key, size: version.size, etag: version.etag }));
      await waitUntil(
        async () =>
          (await redis.llen(DESTINATION_KEY)) + (await redis.llen(`${DESTINATION_KEY}:processing`)) === 0,
        { timeoutMs: 20_000, what: 'destination drained' },
      );

      // Assess
      expect(outcome.outcome).toBe('destination');
      const verdict = await checkStore(s3, { bucket, ...DEFAULT_LAYOUT }, [archive]);
      expect(verdict.failed).toEqual([logId]);
      expect(verdict.failures.get(logId)).toMatchObject({ state: 'failed', code: 'storage_unavailable' });
    } finally {
      await lambda.close();
      await drain.stop();
    }
  }, 60_000);
});
