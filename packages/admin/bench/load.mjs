#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStateStore, LogzipError } from '@logzip/core';
import { createFsObjectStore } from '@logzip/core/fs';
import { recordAttempt } from '@logzip/core/state';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { ARTIFACTS, children, freePort, start, stop, waitFor } from './processes.mjs';
import { storedZip } from './zip.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const FAILURES = Number(process.env.BENCH_FAILURES ?? 200);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';
const UI_RATE = 20;

const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const SERVER_JS = join(PACKAGE, 'dist', 'server.js');
const BENCH_SERVER = join(PACKAGE, 'bench', 'server.mjs');
const INGEST_REQUEST = join(PACKAGE, 'bench', 'ingest-request.cjs');
const BUCKET = 'logzip-bench';

function which(name) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function rssMiB(pid) {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Math.round(kb / 1024);
  } catch {
    return undefined;
  }
}

/** Failure records like the routes write, so GET /api/failures has a realistic page to list. */
async function seedFailures(storageDir, count) {
  const state = createStateStore({
    store: createFsObjectStore({ rootDir: storageDir }),
    bucket: BUCKET,
    prefix: 'logzip-state/',
  });
  const codes = ['corrupt', 'storage_unavailable', 'crc_mismatch', 'timeout', 'unsafe_path'];
  for (let i = 0; i < count; i++) {
    const error = new LogzipError(codes[i % codes.length], `seeded failure ${i} for the load test`);
    const logId = `seed${i}`;
    await state.putFailure(
      recordAttempt(undefined, {
        logId,
        source: { bucket: BUCKET, key: `incoming/${logId}.zip` },
        route: i % 2 === 0 ? 'lambda' : 'queue',
        error,
        attempt: 3,
        maxAttempts: 3,
        requestId: randomBytes(16).toString('hex'),
        at: new Date(Date.now() - i * 60_000),
      }),
    );
  }
}

async function startAdmin(entry, env, logName) {
  const child = start(process.execPath, [entry], { env }, logName);
  const base = env.LOGZIP_PUBLIC_URL;
  await waitFor(async () => (await fetch(`${base}/healthz`)).ok, `admin service (${logName})`);
  const route = await fetch(`${base}/api/route`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${env.LOGZIP_ADMIN_TOKEN}`,
      'x-logzip-operator': 'load-test',
      'content-type': 'application/json',
    },
    body: JSON.stringify({ route: 'queue', reason: 'load test' }),
  });
  if (!route.ok) throw new Error(`POST /api/route: ${route.status} ${await route.text()}`);
  return child;
}

function summarize(name, result, extra = {}) {
  return {
    scenario: name,
    connections: result.connections,
    seconds: result.duration,
    requests: result.requests.total,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    '2xx': result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    statusCodes: result.statusCodeStats,
    ...extra,
  };
}

function run(options) {
  return autocannon({ duration: SECONDS, connections: CONNECTIONS, ...options });
}

async function main() {
  for (const file of [SERVER_JS, join(PACKAGE, 'dist', 'index.js')]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`pnpm build\` first`);
  }
  const redisServer = which('redis-server');
  if (redisServer === undefined)
    throw new Error('redis-server is not on PATH (apt-get install redis-server)');
  const work = mkdtempSync(join(tmpdir(), 'logzip-bench-'));
  const redisPort = await freePort();
  start(
    redisServer,
    ['--bind', '127.0.0.1', '--port', String(redisPort), '--dir', work, '--save', '', '--appendonly', 'no'],
    {},
    'redis.log',
  );
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const redis = new Redis(redisUrl, { retryStrategy: () => 100 });
  redis.on('error', () => {});
  const adminToken = randomBytes(24).toString('hex');
  const ingestToken = randomBytes(24).toString('hex');
  const zip = storedZip([
    { name: 'app.log', data: Buffer.from('2026-11-28 12:00:00 INFO started\n'.repeat(40)) },
    { name: 'logs/crash.log', data: Buffer.from('2026-11-28 12:00:01 ERROR boom\n'.repeat(20)) },
  ]);
  const results = [];
  const env = async (storageDir) => {
    const port = await freePort();
    return {
      PATH: process.env.PATH,
      LOGZIP_ADMIN_TOKEN: adminToken,
      LOGZIP_INGEST_TOKEN: ingestToken,
      LOGZIP_ADMIN_HOST: '127.0.0.1',
      LOGZIP_ADMIN_PORT: String(port),
      LOGZIP_PUBLIC_URL: `http://127.0.0.1:${port}`,
      LOGZIP_STORAGE_DIR: storageDir,
      LOGZIP_INCOMING_BUCKET: BUCKET,
      REDIS_URL: redisUrl,
      LOG_LEVEL: LOG_LEVEL,
    };
  };
  const admin = { authorization: `Bearer ${adminToken}` };
  const ingest = {
    authorization: `Bearer ${ingestToken}`,
    'content-type': 'application/zip',
  };

  try {
    await waitFor(async () => (await redis.ping()) === 'PONG', 'redis-server');

    // Phase A: the service as shipped.
    const dirA = join(work, 'a');
    await seedFailures(dirA, FAILURES);
    const envA = await env(dirA);
    const serverA = await startAdmin(SERVER_JS, envA, 'admin-shipped.log');
    const base = envA.LOGZIP_PUBLIC_URL;
    results.push(summarize('GET /healthz', await run({ url: `${base}/healthz` })));
    results.push(summarize('GET /api/route', await run({ url: `${base}/api/route`, headers: admin })));
    results.push(
      summarize(
        `GET /api/failures (${FAILURES} records)`,
        await run({ url: `${base}/api/failures`, headers: admin }),
      ),
    );
    const shipped = await run({
      url: base,
      method: 'PUT',
      headers: ingest,
      body: zip,
      workers: 1,
      requests: [{ setupRequest: INGEST_REQUEST }],
    });
    results.push(
      summarize('PUT /api/archives/:logId, shipped limit (600/min)', shipped, {
        accepted: shipped.statusCodeStats?.['202']?.count ?? 0,
        rateLimited: shipped.statusCodeStats?.['429']?.count ?? 0,
      }),
    );
    const rssA = rssMiB(serverA.pid);
    await stop(serverA);
    await redis.flushall();

    // Phase B: ingest rate limit lifted; the UI's latency idle and under the flood.
    const dirB = join(work, 'b');
    const envB = { ...(await env(dirB)), BENCH_INGEST_RATE_LIMIT: '1000000000' };
    const serverB = await startAdmin(BENCH_SERVER, envB, 'admin-flood.log');
    const baseB = envB.LOGZIP_PUBLIC_URL;
    const probe = () =>
      run({ url: `${baseB}/api/route`, headers: admin, connections: 1, overallRate: UI_RATE });
    results.push(summarize(`UI: GET /api/route at ${UI_RATE}/s, idle`, await probe()));
    const [flood, underFlood] = await Promise.all([
      run({
        url: baseB,
        method: 'PUT',
        headers: ingest,
        body: zip,
        workers: 1,
        requests: [{ setupRequest: INGEST_REQUEST }],
      }),
      probe(),
    ]);
    results.push(summarize('PUT /api/archives/:logId flood, limit lifted', flood));
    results.push(summarize(`UI: GET /api/route at ${UI_RATE}/s, during the flood`, underFlood));
    const rssB = rssMiB(serverB.pid);

    // Every accepted upload is stored and has a job.
    const accepted = flood['2xx'];
    const stored = readdirSync(join(dirB, BUCKET, 'incoming'), { recursive: true }).filter((f) =>
      String(f).endsWith('.zip'),
    ).length;
    // BullMQ's wait list of the queue (no worker runs here): one job per stored archive.
    const waiting = await redis.llen('bull:logzip-extract:wait');
    await stop(serverB);

    const report = {
      at: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
      settings: {
        seconds: SECONDS,
        connections: CONNECTIONS,
        failures: FAILURES,
        logLevel: LOG_LEVEL,
        uiRate: UI_RATE,
      },
      results,
      flood: { accepted, stored, jobs: waiting, zipBytes: zip.length },
      rssMiB: { shipped: rssA, flood: rssB },
    };
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'admin-load.json'), `${JSON.stringify(report, null, 2)}\n`);

    const rows = results.map(
      (r) =>
        `| ${r.scenario} | ${r.connections} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.max} | ${r['2xx']} | ${r.non2xx}${
          r.rateLimited ? ` (${r.rateLimited} × 429)` : ''
        } | ${r.errors} |`,
    );
    console.log(
      [
        `admin load test: ${SECONDS} s per scenario, loopback, ${report.machine.cpus} CPUs (${report.machine.model}), Node ${process.version}, LOG_LEVEL=${LOG_LEVEL}`,
        '',
        '| scenario | connections | requests/s | p50 ms | p99 ms | max ms | 2xx | non-2xx | errors |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
        ...rows,
        '',
        `flood: ${accepted} uploads answered 202, ${stored} archives stored, ${waiting} jobs queued ` +
          `(requests in flight at the end are stored but not counted as answered); ` +
          `service RSS ${rssA} MiB after phase A, ${rssB} MiB after the flood`,
      ].join('\n'),
    );
    // Requests still in flight when a scenario ends are stored and queued, but not counted as
    // answered: up to one per connection more archives than 202 answers.
    if (stored < accepted || stored > accepted + CONNECTIONS || waiting !== stored) {
      throw new Error(`accepted ${accepted} uploads but stored ${stored} and queued ${waiting}`);
    }
  } finally {
    redis.disconnect();
    for (const child of children.reverse()) await stop(child);
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
