import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PrivateRedis, redisServerAvailable, startPrivateRedis } from '@logzip/test-utils';
import { describe, expect, it } from 'vitest';
import { spawnWorker, stopWorker, workerEnv } from '../helpers/harness.js';

const SHUTDOWN_TIMEOUT_MS = 3_000;
/** process.exit waits at most 1 s for the log to flush (main.ts); the rest is the process ending. */
const EXIT_SLACK_MS = 2_000;

describe.runIf(await redisServerAvailable())(
  'regression (issue 17): SIGTERM with Redis gone took 56 s against a 30 s shutdown deadline',
  () => {
    it('exits within LOGZIP_WORKER_SHUTDOWN_TIMEOUT when its Redis was killed', async () => {
      // Prepare: a worker on a private redis-server, which is then killed
      const dir = await mkdtemp(join(tmpdir(), 'logzip-shutdown-'));
      let redis: PrivateRedis | undefined;
      const worker = await (async () => {
        redis = await startPrivateRedis({ dir });
        return spawnWorker(
          workerEnv({
            REDIS_URL: redis.url,
            LOGZIP_STORAGE_DIR: join(dir, 'data'),
            LOGZIP_WORKER_SHUTDOWN_TIMEOUT: `${SHUTDOWN_TIMEOUT_MS}ms`,
          }),
        );
      })();
      try {
        await worker.waitForLine((l) => String(l['msg']).startsWith('worker started'), 'worker started');
        await redis?.stop();

        // Act
        const signalled = Date.now();
        worker.child.kill('SIGTERM');
        const exit = await Promise.race([
          worker.exited,
          new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), SHUTDOWN_TIMEOUT_MS * 5)),
        ]);
        const elapsed = Date.now() - signalled;

        // Assess
        expect(exit, `still running ${elapsed} ms after SIGTERM`).toBeDefined();
        expect(elapsed).toBeLessThanOrEqual(SHUTDOWN_TIMEOUT_MS + EXIT_SLACK_MS);
        expect(worker.lines.map((l) => l['msg'])).toContain('shutting down');
      } finally {
        await stopWorker(worker).catch(() => undefined);
        await redis?.stop();
        await rm(dir, { recursive: true, force: true });
      }
    }, 60_000);
  },
);
