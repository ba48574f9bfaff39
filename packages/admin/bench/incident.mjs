#!/usr/bin/env node
/**
 * Incident benchmark: `pnpm bench:incident` (builds first), or `node packages/admin/bench/incident.mjs`
 * after `pnpm build`. Figures of the failure groups and a group retry as an operation.
 *
 * It writes BENCH_RECORDS (10,000) failed records in five groups (sizes 8,000 / 500 / 500 / 500 /
 * 500) in the documented layout on folder storage (LOGZIP_STORAGE_DIR, a temp folder), through the
 * grouped state store as the workers write them; starts the admin API in this process and a worker
 * as a child process (dist/main.js); then measures, through the HTTP API:
 *   - GET /api/failures/groups (BENCH_PROBES calls: median and worst),
 *   - POST /api/operations for the 8,000 group (answer time: the selection frozen and stored),
 *   - the time until the operation shows progress,
 *   - pause: the time until the processed count stops moving (read every 50 ms),
 *   - resume: that it continues at the count it stopped at,
 *   - abort: the time until the count stops moving again.
 * Redis: REDIS_URL (default redis://127.0.0.1:6379), under unique key and queue prefixes (safe on
 * a shared server; they are deleted at the end). BENCH_RATE (500) is the operation's rate.
 * Figures go to stdout and test-artifacts/bench/incident.json.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createStateStore, LogzipError, silentLogger } from '@logzip/core';
import { createFsObjectStore } from '@logzip/core/fs';
import { createRedisFailureGroups } from '@logzip/core/redis-index';
import { createGroupedStateStore, recordAttempt } from '@logzip/core/state';
import { Redis } from 'ioredis';
import { buildApp } from '../dist/app.js';
import { readAdminConfig } from '../dist/config.js';
import { createAdminContext } from '../dist/context.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 10_000);
const PROBES = Number(process.env.BENCH_PROBES ?? 50);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TOKEN = 'bench-admin-token-0123456789abcdef-0123456789';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WORKER_MAIN = join(ROOT, 'packages/worker/dist/main.js');

const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'logzip-incident-'));
const env = {
  LOGZIP_STORAGE_DIR: dir,
  LOGZIP_INCOMING_BUCKET: 'logs',
  REDIS_URL,
  LOGZIP_INDEX_PREFIX: `bench-${run}:`,
  LOGZIP_QUEUE_PREFIX: `bench-${run}`,
  LOGZIP_ADMIN_TOKEN: TOKEN,
  LOGZIP_WORKER_METRICS_PORT: '0',
  LOGZIP_SWEEP_INTERVAL: '0s',
  LOG_LEVEL: 'warn',
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (n) => Math.round(n * 10) / 10;

function failure(logId, where, at) {
  const error = new LogzipError('storage_unavailable', `S3 GetObject failed for ${logId}`);
  error.stack = `LogzipError: x\n    at ${where} (/app/engine.js:${logId.length}:1)\n    at extract (/app/engine.js:2:2)`;
  return recordAttempt(undefined, {
    logId,
    source: { bucket: 'logs', key: `incoming/${logId}.zip` },
    route: 'queue',
    error,
    attempt: 3,
    maxAttempts: 3,
    at,
  });
}

async function main() {
  const redis = new Redis(REDIS_URL);
  const groups = createRedisFailureGroups({ redis, namespace: env.LOGZIP_INDEX_PREFIX });
  const state = createGroupedStateStore(
    createStateStore({
      store: createFsObjectStore({ rootDir: dir }),
      bucket: 'logs',
      prefix: 'logzip-state/',
    }),
    groups,
  );
  const sizes = [Math.round(RECORDS * 0.8), ...Array(4).fill(Math.round(RECORDS * 0.05))];
  const causes = ['readEntry', 'verifyCrc', 'openArchive', 'putObject', 'listParts'];
  let written = 0;
  const t0 = performance.now();
  for (const [g, size] of sizes.entries()) {
    for (let i = 0; i < size; i += 200) {
      await Promise.all(
        Array.from({ length: Math.min(200, size - i) }, (_, k) =>
          state.putFailure(failure(`g${g}_${i + k}`, causes[g], new Date(Date.now() - (i + k) * 1000))),
        ),
      );
    }
    written += size;
  }
  const seedSeconds = (performance.now() - t0) / 1000;

  const config = readAdminConfig(env);
  if (config.config === undefined) throw new Error(config.errors.join('\n'));
  const ctx = await createAdminContext(config.config, { logger: silentLogger });
  const app = await buildApp({ ctx, adminToken: TOKEN, redis: ctx.redis, logger: false });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const headers = {
    authorization: `Bearer ${TOKEN}`,
    'x-logzip-operator': 'bench',
    'content-type': 'application/json',
  };
  const call = async (method, path, body) => {
    const started = performance.now();
    const response = await fetch(`${base}${path}`, {
      method,
      headers,
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const json = await response.json();
    return { status: response.status, json, ms: performance.now() - started };
  };

  const worker = spawn(process.execPath, [WORKER_MAIN], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const groupTimes = [];
    let list;
    for (let i = 0; i < PROBES; i++) {
      list = await call('GET', '/api/failures/groups');
      groupTimes.push(list.ms);
    }
    const big = list.json.groups.find((g) => g.count === sizes[0]);
    const processed = async () => {
      const { json } = await call('GET', `/api/operations/${created.json.operation.id}`);
      return { count: json.done + json.failed + json.skipped, op: json };
    };
    /** Reads every 50 ms until two reads 250 ms apart agree: the time the count stopped moving. */
    const stillAfter = async (since) => {
      let last = (await processed()).count;
      let lastChange = performance.now();
      for (;;) {
        await sleep(50);
        const now = (await processed()).count;
        if (now !== last) {
          last = now;
          lastChange = performance.now();
        } else if (performance.now() - lastChange > 1_000) {
          return { count: last, ms: Math.max(0, lastChange - since) };
        }
      }
    };

    const created = await call('POST', '/api/operations', {
      kind: 'reenqueue',
      group: big.fingerprint,
      reason: 'bench',
      ratePerSecond: RATE,
    });
    if (created.status !== 202) throw new Error(`create: ${created.status} ${JSON.stringify(created.json)}`);
    const createdAt = performance.now();
    while ((await processed()).count === 0) await sleep(20);
    const firstProgressMs = performance.now() - createdAt;
    while ((await processed()).count < RATE * 2) await sleep(100);

    const pauseAt = performance.now();
    await call('POST', `/api/operations/${created.json.operation.id}/pause`, { reason: 'bench' });
    const paused = await stillAfter(pauseAt);
    await call('POST', `/api/operations/${created.json.operation.id}/resume`, {});
    const resumeAt = performance.now();
    while ((await processed()).count <= paused.count) await sleep(20);
    const resumedMs = performance.now() - resumeAt;
    await sleep(1_000);
    const abortAt = performance.now();
    const beforeAbort = await processed();
    await call('POST', `/api/operations/${created.json.operation.id}/abort`, { reason: 'bench' });
    const aborted = await stillAfter(abortAt);
    const final = (await processed()).op;

    const figures = {
      records: written,
      groups: sizes,
      seedSeconds: ms(seedSeconds),
      groupsApiMs: { median: ms(median(groupTimes)), max: ms(Math.max(...groupTimes)), probes: PROBES },
      createOperationMs: ms(created.ms),
      firstProgressMs: ms(firstProgressMs),
      pauseTakesEffectMs: ms(paused.ms),
      resumeContinuesMs: ms(resumedMs),
      resumedFrom: paused.count,
      abortTakesEffectMs: ms(aborted.ms),
      processedBeforeAbort: beforeAbort.count,
      final: {
        state: final.state,
        done: final.done,
        skipped: final.skipped,
        failed: final.failed,
        left: final.left,
      },
      ratePerSecond: RATE,
      measuredRate: final.rate,
    };
    console.log(JSON.stringify(figures, null, 2));
    mkdirSync(join(ROOT, 'test-artifacts/bench'), { recursive: true });
    writeFileSync(join(ROOT, 'test-artifacts/bench/incident.json'), `${JSON.stringify(figures, null, 2)}\n`);
  } finally {
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker.once('exit', resolve));
    await app.close();
    await ctx.close();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `bench-${run}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
