/**
 * Stored operations run by real worker processes (dist/main.js, folder storage, real Redis):
 * progress, pause and resume, and a worker SIGKILLed mid-operation whose successor loses nothing
 * and repeats nothing that had finished. Waits follow measured progress, never fixed timings.
 */
import { randomBytes } from 'node:crypto';
import { createStateStore, type FailureRecord, LogzipError } from '@logzip/core';
import { createRedis, enqueueOperationRun, OPERATIONS_QUEUE_NAME } from '@logzip/core/bullmq';
import { createFsObjectStore } from '@logzip/core/fs';
import { createRedisFailureGroups, createRedisOperationStore } from '@logzip/core/redis-index';
import { createGroupedStateStore, fingerprintFailure, recordAttempt } from '@logzip/core/state';
import { describeWithRedis, type TempDir, tempDir } from '@logzip/test-utils';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { spawnWorker, stopWorker, type WorkerProcess, waitFor, workerEnv } from '../helpers/harness.js';

const TOTAL = 3_000;
const RATE = 400;

/** Letters only: the fingerprint keeps it, so this run's group is its own in the shared database. */
const uniqueFrame = () =>
  `incident${randomBytes(6)
    .toString('hex')
    .replace(/[0-9]/g, (d) => 'ghijklmnop'[Number(d)] ?? 'x')}`;

function failure(logId: string, frame: string): FailureRecord {
  const error = new LogzipError('storage_unavailable', `S3 GetObject failed for ${logId}`);
  error.stack = `LogzipError: x\n    at ${frame} (/app/engine.js:1:1)\n    at extract (/app/engine.js:2:2)`;
  return recordAttempt(undefined, {
    logId,
    source: { bucket: 'logs', key: `incoming/${logId}.zip` },
    route: 'queue',
    error,
    attempt: 3,
    maxAttempts: 3,
    at: new Date(),
  });
}

describeWithRedis('operations in worker processes', () => {
  let dir: TempDir;
  let env: Record<string, string>;
  let redis: Redis;
  let queue: Queue;
  const workers: WorkerProcess[] = [];

  beforeEach(async () => {
    dir = await tempDir('ops-proc');
    env = workerEnv({ LOGZIP_STORAGE_DIR: dir.path, LOG_LEVEL: 'info' });
    redis = createRedis(env['REDIS_URL'] as string);
    queue = new Queue(OPERATIONS_QUEUE_NAME, {
      connection: redis,
      prefix: env['LOGZIP_QUEUE_PREFIX'] as string,
    });
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map(stopWorker));
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    redis.disconnect();
    await dir.cleanup();
  });

  async function startWorkerProcess(): Promise<WorkerProcess> {
    const worker = spawnWorker(env);
    workers.push(worker);
    await worker.waitForLine((l) => String(l['msg']).startsWith('worker started'), 'worker started');
    return worker;
  }

  it('runs a group retry with progress, pause and resume, and survives a SIGKILLed worker without losing or repeating work', async () => {
    // Prepare: 3,000 failed records of one cause, grouped as the worker's write path groups them
    const frame = uniqueFrame();
    const groups = createRedisFailureGroups({ redis });
    const state = createGroupedStateStore(
      createStateStore({
        store: createFsObjectStore({ rootDir: dir.path }),
        bucket: 'logs',
        prefix: 'logzip-state/',
      }),
      groups,
    );
    const logIds = Array.from({ length: TOTAL }, (_, i) => `ops${frame.slice(-6)}_${i}`);
    for (let i = 0; i < TOTAL; i += 100)
      await Promise.all(logIds.slice(i, i + 100).map((id) => state.putFailure(failure(id, frame))));
    const fingerprint = fingerprintFailure(failure(logIds[0] as string, frame)).fingerprint;
    const selected: string[] = [];
    for await (const page of groups.scanMembers(fingerprint)) selected.push(...page);
    const operations = createRedisOperationStore({ redis });
    const first = await startWorkerProcess();

    // Act 1: create and hand to the worker; progress shows
    const created = await operations.create(
      {
        kind: 'reenqueue',
        createdBy: 'dana',
        reason: 'S3 outage',
        selection: { group: fingerprint },
        options: { ratePerSecond: RATE },
      },
      selected,
      new Date(),
    );
    await enqueueOperationRun(queue, created.id);
    const processed = async () => {
      const op = await operations.get(created.id);
      return op === undefined ? 0 : op.done + op.failed + op.skipped;
    };
    await waitFor(async () => (await processed()) > 0, 'first progress');

    // Act 2: pause; the count stops moving; resume; it moves again
    await waitFor(async () => (await processed()) >= 300, '300 processed');
    await operations.transition(created.id, ['running'], 'paused', new Date());
    await first.waitForLine(
      (l) => l['msg'] === 'operation run ends' && l['state'] === 'paused',
      'the run saw the pause',
    );
    const atPause = await processed();
    const pausedRun = first.lines.find((l) => l['msg'] === 'operation run ends');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stillPaused = await processed();
    await operations.transition(created.id, ['paused'], 'running', new Date());
    await enqueueOperationRun(queue, created.id);
    await waitFor(async () => (await processed()) > atPause + 300, 'progress after the resume');

    // Act 3: SIGKILL the worker mid-run; a new worker continues
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = await processed();
    const second = await startWorkerProcess();
    const ended = await second.waitForLine(
      (l) => l['msg'] === 'operation run ends' && l['state'] === 'finished',
      'the successor finished the operation',
      120_000,
    );
    const final = await operations.get(created.id);
    const results = await operations.results(created.id, { offset: 0, limit: TOTAL + 10 });

    // Assess
    expect(selected).toHaveLength(TOTAL);
    expect(created).toMatchObject({ state: 'running', total: TOTAL, left: TOTAL });
    expect(stillPaused).toBe(atPause);
    expect(pausedRun?.['performed']).toBe(atPause);
    expect(atKill).toBeGreaterThan(atPause);
    expect(atKill).toBeLessThan(TOTAL);
    // Nothing lost: one result per log ID, all counted. Nothing finished repeated: the successor
    // performed exactly what had no result when the kill landed.
    expect(final).toMatchObject({ state: 'finished', total: TOTAL, left: 0 });
    expect((final?.done ?? 0) + (final?.failed ?? 0) + (final?.skipped ?? 0)).toBe(TOTAL);
    expect(new Set(results.map((r) => r.logId)).size).toBe(TOTAL);
    expect(ended['performed']).toBe(TOTAL - atKill);
    // No archive exists for these records: each is reported, not failed.
    expect(results.every((r) => r.outcome === 'skipped' && r.detail === 'not_found')).toBe(true);
  }, 180_000);
});
