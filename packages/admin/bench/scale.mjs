#!/usr/bin/env node
/**
 * Operations at volume: `pnpm bench:scale` (builds first), or `node packages/admin/bench/scale.mjs`
 * after `pnpm build`. Run it under the machine's heavy-work lock where several people share it.
 *
 * Loopback only, a private redis-server (free port, temp folder; never a shared Redis). It writes
 * BENCH_SCALE failure records and as many manifests straight into a folder store (the layout the
 * state store writes, version 1), then measures:
 *
 * - `logzip reindex --json` as a child process: records/s and the process's peak RSS (VmHWM);
 * - Redis memory per indexed failure and per manifest (used_memory before/after, the manifest
 *   hash's MEMORY USAGE);
 * - a whole `logzip failures --limit 50 --json` process (median of 5);
 * - the admin service (dist/server.js) under autocannon: GET /api/failures?limit=50 (first page,
 *   a filtered page, a page deep behind a cursor), GET /api/failures/counts, and the status of
 *   one log ID, GET /api/archives/:logId (p50/p99 server side, loopback);
 * - the periodic sweep (`logzip sweep --json`, a child process) with BENCH_SCALE extracted archives
 *   (their manifests indexed, none pending) and BENCH_NEW new uploads pending past their grace time;
 * - the full sweep (`logzip sweep --full --rate 0 --json`): archives checked per second, peak RSS.
 *
 * Environment: BENCH_SCALE (1000000), BENCH_NEW (1000), BENCH_SECONDS (10), BENCH_CONNECTIONS (10),
 * BENCH_KEEP_DIR (reuse a seeded folder between runs). Figures go to stdout (Markdown) and to
 * test-artifacts/bench/scale.json.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { ARTIFACTS, children, freePort, start, stop, waitFor } from './processes.mjs';

const SCALE = Number(process.env.BENCH_SCALE ?? 1_000_000);
const NEW = Number(process.env.BENCH_NEW ?? 1_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const KEEP_DIR = process.env.BENCH_KEEP_DIR;

const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const SERVER_JS = join(PACKAGE, 'dist', 'server.js');
const CLI_JS = join(PACKAGE, 'dist', 'cli', 'index.js');
const BUCKET = 'logzip-bench';
const STATE = 'logzip-state/';
const CODES = ['corrupt', 'storage_unavailable', 'crc_mismatch', 'timeout', 'unsafe_path'];
const run = promisify(execFile);

const logIdOf = (i) => `L${String(i).padStart(8, '0')}`;
const archiveKeyOf = (logId) => `incoming/${logId.slice(-2)}/${logId}.zip`;
/** The archive's bytes: small, distinct; the manifest names their MD5 (the folder store's ETag). */
const archiveBody = (logId) => Buffer.from(`PK bench archive ${logId}\n`);
const md5 = (body) => createHash('md5').update(body).digest('hex');

/** Version 1 objects as the routes write them (a failure with one attempt and a stack; a one-file manifest). */
function seed(dir) {
  const failures = join(dir, BUCKET, STATE, 'failures');
  const manifests = join(dir, BUCKET, STATE, 'manifests');
  mkdirSync(failures, { recursive: true });
  mkdirSync(manifests, { recursive: true });
  for (let d = 0; d < 100; d++)
    mkdirSync(join(dir, BUCKET, 'incoming', String(d).padStart(2, '0')), { recursive: true });
  const now = Date.now();
  const stack = `LogzipError: seeded\n${'    at extractArchive (file:///app/packages/core/dist/engine/extract.js:120:11)\n'.repeat(8)}`;
  const started = Date.now();
  for (let i = 0; i < SCALE; i++) {
    const logId = logIdOf(i);
    const at = new Date(now - (SCALE - i) * 2_000).toISOString();
    const code = CODES[i % CODES.length];
    const state = i % 10 === 0 ? 'resolved' : i % 10 === 1 ? 'retrying' : 'failed';
    const record = {
      version: 1,
      logId,
      state,
      source: { bucket: BUCKET, key: archiveKeyOf(logId) },
      route: i % 2 === 0 ? 'lambda' : 'queue',
      code,
      message: `${code}: seeded failure ${i} for the scale benchmark`,
      stack,
      attempts: [{ at, route: 'queue', jobId: `log-${logId}`, attempt: 1, code, message: `${code}: seeded` }],
      createdAt: at,
      updatedAt: at,
      ...(state === 'resolved' ? { resolvedAt: at } : {}),
    };
    writeFileSync(join(failures, `${logId}.json`), `${JSON.stringify(record)}\n`);
    // The archive it was extracted from, so the full sweep finds every one extracted.
    const body = archiveBody(logId);
    writeFileSync(join(dir, BUCKET, archiveKeyOf(logId)), body);
    const manifest = {
      version: 1,
      logId,
      source: { bucket: BUCKET, key: archiveKeyOf(logId), etag: md5(body), size: body.length },
      output: { bucket: BUCKET, prefix: 'extracted/' },
      entries: [{ path: 'app.log', key: `extracted/${logId}/app.log`, size: 4096, crc32: '0a1b2c3d' }],
      bytes: 4096,
      startedAt: at,
      finishedAt: at,
      durationMs: 12,
      route: 'queue',
    };
    writeFileSync(join(manifests, `${logId}.json`), `${JSON.stringify(manifest)}\n`);
    if (i > 0 && i % 100_000 === 0)
      process.stderr.write(`seeded ${i} (${Math.round(i / ((Date.now() - started) / 1000))}/s)\n`);
  }
  return Date.now() - started;
}

/** Runs a child to its end, sampling its peak RSS (VmHWM) while it runs. */
async function measured(command, args, env) {
  const started = Date.now();
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  let peakKiB = 0;
  const timer = setInterval(() => {
    try {
      const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
      if (kb > peakKiB) peakKiB = kb;
    } catch {}
  }, 100);
  const code = await new Promise((resolve) => child.once('exit', resolve));
  clearInterval(timer);
  return { code, stdout, stderr, ms: Date.now() - started, peakMiB: Math.round(peakKiB / 1024) };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function load(name, url, headers) {
  const result = await autocannon({ url, headers, duration: SECONDS, connections: CONNECTIONS });
  return {
    scenario: name,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

async function main() {
  for (const file of [SERVER_JS, CLI_JS]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`pnpm build\` first`);
  }
  const work = KEEP_DIR ?? mkdtempSync(join(tmpdir(), 'logzip-scale-'));
  const storage = join(work, 'storage');
  const report = { scale: SCALE, seconds: SECONDS, connections: CONNECTIONS };
  const redisPort = await freePort();
  start(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(redisPort), '--dir', work, '--save', '', '--appendonly', 'no'],
    {},
    'scale-redis.log',
  );
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const redis = new Redis(redisUrl, { retryStrategy: () => 100 });
  redis.on('error', () => {});
  const adminToken = randomBytes(24).toString('hex');
  const adminPort = await freePort();
  const env = {
    PATH: process.env.PATH,
    LOGZIP_ADMIN_TOKEN: adminToken,
    LOGZIP_ADMIN_HOST: '127.0.0.1',
    LOGZIP_ADMIN_PORT: String(adminPort),
    LOGZIP_PUBLIC_URL: `http://127.0.0.1:${adminPort}`,
    LOGZIP_STORAGE_DIR: storage,
    LOGZIP_INCOMING_BUCKET: BUCKET,
    LOGZIP_INDEX_RETENTION_DAYS: '0',
    REDIS_URL: redisUrl,
    LOG_LEVEL: 'warn',
  };
  try {
    await waitFor(async () => (await redis.ping()) === 'PONG', 'redis-server');
    if (!existsSync(join(storage, BUCKET, archiveKeyOf(logIdOf(SCALE - 1))))) {
      report.seedMs = seed(storage);
    }

    const before = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
    const reindex = await measured(process.execPath, [CLI_JS, 'reindex', '--json'], env);
    if (reindex.code !== 0)
      throw new Error(`reindex exited ${reindex.code}: ${reindex.stderr}${reindex.stdout}`);
    const result = JSON.parse(reindex.stdout);
    const after = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
    const manifestHash = Number(await redis.call('MEMORY', 'USAGE', 'logzip:{index}:m', 'SAMPLES', '0'));
    const records = result.counts.failures + result.counts.manifests;
    report.reindex = {
      failures: result.counts.failures,
      manifests: result.counts.manifests,
      seconds: Math.round(reindex.ms / 100) / 10,
      recordsPerSecond: Math.round(records / (reindex.ms / 1000)),
      peakRssMiB: reindex.peakMiB,
    };
    report.redis = {
      usedBytes: after - before,
      bytesPerFailure: Math.round((after - before - manifestHash) / result.counts.failures),
      bytesPerManifest: Math.round(manifestHash / result.counts.manifests),
    };

    const cliRuns = [];
    for (let i = 0; i < 5; i++) {
      const t = Date.now();
      await run(process.execPath, [CLI_JS, 'failures', '--limit', '50', '--json'], {
        env,
        maxBuffer: 64 * 1024 * 1024,
      });
      cliRuns.push(Date.now() - t);
    }
    report.cliFailuresMs = { median: median(cliRuns), runs: cliRuns };

    const server = start(process.execPath, [SERVER_JS], { env }, 'scale-admin.log');
    const base = env.LOGZIP_PUBLIC_URL;
    await waitFor(async () => (await fetch(`${base}/healthz`)).ok, 'admin service', 60_000);
    const headers = { authorization: `Bearer ${adminToken}` };
    // A cursor deep in the history: page 101, or the last page of a smaller run.
    let cursor;
    for (let page = 0; page < 100; page++) {
      const body = await (
        await fetch(`${base}/api/failures?limit=50${cursor ? `&cursor=${cursor}` : ''}`, { headers })
      ).json();
      if (body.nextCursor === undefined) break;
      cursor = encodeURIComponent(body.nextCursor);
    }
    // Warm-up (JIT, connections) before the measured runs.
    await autocannon({
      url: `${base}/api/failures?limit=50`,
      headers,
      duration: 2,
      connections: CONNECTIONS,
    });
    const statusId = logIdOf(Math.floor(SCALE / 2) + 2);
    report.http = [
      await load('GET /api/failures?limit=50', `${base}/api/failures?limit=50`, headers),
      await load(
        'GET /api/failures?limit=50&code=timeout&route=queue',
        `${base}/api/failures?limit=50&code=timeout&route=queue`,
        headers,
      ),
      await load(
        'GET /api/failures?limit=50&cursor=(deep page)',
        `${base}/api/failures?limit=50&cursor=${cursor}`,
        headers,
      ),
      await load('GET /api/failures/counts', `${base}/api/failures/counts`, headers),
      await load('GET /api/archives/:logId (status)', `${base}/api/archives/${statusId}`, headers),
    ];
    await stop(server);

    // The periodic sweep: SCALE extracted archives (indexed, none pending) and NEW uploads observed
    // an hour ago and never extracted (as if their trigger had been lost), under the lambda route.
    await redis.set('logzip:route', 'lambda');
    const hourAgo = new Date(Date.now() - 3_600_000);
    const pending = redis.pipeline();
    for (let i = 0; i < NEW; i++) {
      const logId = `N${String(i).padStart(8, '0')}`;
      const key = archiveKeyOf(logId);
      const path = join(storage, BUCKET, key);
      writeFileSync(path, archiveBody(logId));
      utimesSync(path, hourAgo, hourAgo);
      pending.zadd('logzip:{index}:pending', 'NX', hourAgo.getTime(), logId);
      pending.hset('logzip:{index}:pending:src', logId, JSON.stringify([BUCKET, key, hourAgo.getTime()]));
    }
    pending.set('logzip:{index}:sweep:baseline', new Date().toISOString());
    await pending.exec();
    const periodic = await measured(process.execPath, [CLI_JS, 'sweep', '--json'], env);
    if (periodic.code !== 0) throw new Error(`sweep exited ${periodic.code}: ${periodic.stderr}`);
    const p = JSON.parse(periodic.stdout).summary;
    report.periodicSweep = {
      mode: p.mode,
      checked: p.scanned,
      enqueued: p.enqueued,
      sweepMs: p.durationMs,
      processMs: periodic.ms,
    };

    // The full sweep: every archive (SCALE + NEW) listed and checked against the index.
    const full = await measured(process.execPath, [CLI_JS, 'sweep', '--full', '--rate', '0', '--json'], env);
    if (full.code !== 0) throw new Error(`sweep --full exited ${full.code}: ${full.stderr}`);
    const f = JSON.parse(full.stdout).summary;
    report.fullSweep = {
      scanned: f.scanned,
      extracted: f.extracted,
      unprocessed: f.unprocessed,
      seconds: Math.round(f.durationMs / 100) / 10,
      archivesPerSecond: Math.round(f.scanned / (f.durationMs / 1000)),
      peakRssMiB: full.peakMiB,
    };
  } finally {
    redis.disconnect();
    for (const child of children) await stop(child);
    if (KEEP_DIR === undefined) rmSync(work, { recursive: true, force: true });
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(join(ARTIFACTS, 'scale.json'), `${JSON.stringify(report, null, 2)}\n`);
  const r = report;
  process.stdout.write(
    [
      `## bench:scale — ${SCALE.toLocaleString('en')} failure records + ${SCALE.toLocaleString('en')} manifests (folder store)`,
      '',
      `reindex: ${r.reindex.seconds} s, ${r.reindex.recordsPerSecond.toLocaleString('en')} records/s, peak RSS ${r.reindex.peakRssMiB} MiB`,
      `Redis: ${r.redis.bytesPerFailure} bytes per indexed failure, ${r.redis.bytesPerManifest} bytes per manifest (${Math.round(r.redis.usedBytes / 2 ** 20)} MiB in all)`,
      `\`logzip failures --limit 50 --json\` (whole process): median ${r.cliFailuresMs.median} ms`,
      `periodic sweep (${SCALE.toLocaleString('en')} extracted + ${NEW.toLocaleString('en')} pending): ${r.periodicSweep.checked} checked, ${r.periodicSweep.enqueued} enqueued in ${r.periodicSweep.sweepMs} ms (whole process ${r.periodicSweep.processMs} ms)`,
      `full sweep: ${r.fullSweep.scanned.toLocaleString('en')} archives in ${r.fullSweep.seconds} s, ${r.fullSweep.archivesPerSecond.toLocaleString('en')}/s, peak RSS ${r.fullSweep.peakRssMiB} MiB`,
      '',
      '| scenario | req/s | p50 ms | p99 ms | max ms | non-2xx |',
      '| --- | --- | --- | --- | --- | --- |',
      ...r.http.map(
        (h) => `| ${h.scenario} | ${h.rps} | ${h.p50} | ${h.p99} | ${h.max} | ${h.non2xx + h.errors} |`,
      ),
      '',
    ].join('\n'),
  );
}

process.on('SIGINT', async () => {
  for (const child of children) child.kill('SIGKILL');
  process.exit(130);
});
await main();
