#!/usr/bin/env node
// `pnpm demo`: plays the desktop apps against a running stack (`pnpm start`).
//
// Builds realistic log archives, uploads them through the ingest API, switches the route to the
// queue half-way (through the admin API, with a reason) and back to the Lambda at the end, waits
// for every outcome, re-enqueues the damaged archive after showing its error (it fails again with
// the same code, as it must), and prints a table. Exit 0 only if every good archive was extracted
// exactly (every path, size and CRC32) by the expected route and the damaged one was reported with
// its error code.
//
// `--burst` plays a busy morning instead: many small archives uploaded at once while the route
// switches a few times, then checks that every one was extracted exactly and that the sweeper
// enqueued none of them (in buffered mode a switch leaves every upload in the queue, not behind).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { buildBurstArchive, buildDemoArchives } from './lib/archives.mjs';
import { readEnvFile, stackHome } from './lib/local.mjs';

const USAGE = `usage: pnpm demo [--json] [--dir DIR] [--timeout 90s] [--burst [--count 50] [--switches 4] [--metrics URL]]

Plays the desktop apps against a running logzip stack (start it with \`pnpm start\`). The admin URL
and tokens come from LOGZIP_ADMIN_URL, LOGZIP_ADMIN_TOKEN and LOGZIP_INGEST_TOKEN, else from
DIR/admin.env (default LOGZIP_HOME, else .logzip/ in the repository).

  --json        print one JSON document on stdout (progress goes to stderr)
  --timeout T   how long to wait for each phase's outcomes (default 90s)
  --burst       upload --count small archives (default 50) at once while switching the route
                --switches times (default 4), then check that every one was extracted exactly and
                that the sweeper enqueued none (read from the worker's metrics, found in
                DIR/stack.json, or --metrics URL); made for the buffered mode (pnpm start --buffered)`;

const EXIT_USAGE = 64;
const EXIT_CONFIG = 78;
const OPERATOR = 'demo';

let args;
try {
  args = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      dir: { type: 'string' },
      timeout: { type: 'string', default: '90s' },
      burst: { type: 'boolean', default: false },
      count: { type: 'string', default: '50' },
      switches: { type: 'string', default: '4' },
      metrics: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  }).values;
} catch (error) {
  process.stderr.write(`${error.message}\n${USAGE}\n`);
  process.exit(EXIT_USAGE);
}
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const timeoutMatch = /^(\d+)(s|m)?$/.exec(args.timeout);
if (!timeoutMatch) {
  process.stderr.write(`--timeout: "${args.timeout}" is not a duration like 90s or 2m\n`);
  process.exit(EXIT_USAGE);
}
const phaseTimeoutMs = Number(timeoutMatch[1]) * (timeoutMatch[2] === 'm' ? 60_000 : 1000);
const burstCount = Number(args.count);
const burstSwitches = Number(args.switches);
if (!Number.isInteger(burstCount) || burstCount < 1 || burstCount > 1000) {
  process.stderr.write(`--count: "${args.count}" is not a number of archives from 1 to 1000\n`);
  process.exit(EXIT_USAGE);
}
if (!Number.isInteger(burstSwitches) || burstSwitches < 0 || burstSwitches > 50) {
  process.stderr.write(`--switches: "${args.switches}" is not a number of switches from 0 to 50\n`);
  process.exit(EXIT_USAGE);
}

const out = args.json ? process.stderr : process.stdout;
const say = (text = '') => out.write(`${text}\n`);

function settings() {
  const env = process.env;
  const file = join(stackHome(args.dir, env), 'admin.env');
  const fromFile = readEnvFile(file) ?? {};
  const pick = (name) => env[name] || fromFile[name];
  const values = {
    adminUrl: pick('LOGZIP_ADMIN_URL'),
    adminToken: pick('LOGZIP_ADMIN_TOKEN'),
    ingestToken: pick('LOGZIP_INGEST_TOKEN'),
  };
  const missing = Object.entries({
    LOGZIP_ADMIN_URL: values.adminUrl,
    LOGZIP_ADMIN_TOKEN: values.adminToken,
    LOGZIP_INGEST_TOKEN: values.ingestToken,
  })
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length > 0) {
    process.stderr.write(
      `logzip demo: no running stack found (${missing.join(', ')} not set and not in ${file}).\n` +
        'Start one with `pnpm start` in another terminal, or set those variables.\n',
    );
    process.exit(EXIT_CONFIG);
  }
  return { ...values, adminUrl: values.adminUrl.replace(/\/$/, '') };
}

const config = settings();

class ApiError extends Error {
  constructor(status, body, what) {
    super(`${what}: HTTP ${status} ${body?.error?.code ?? ''} ${body?.error?.message ?? ''}`.trim());
    this.status = status;
    this.body = body;
  }
}

async function call(
  method,
  path,
  { body, token = config.adminToken, headers = {}, what = `${method} ${path}` } = {},
) {
  const response = await fetch(`${config.adminUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(method === 'GET' ? {} : { 'x-logzip-operator': OPERATOR }),
      ...(body === undefined || Buffer.isBuffer(body) ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: Buffer.isBuffer(body) ? body : JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  let parsed;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = { raw: text };
  }
  if (!response.ok) throw new ApiError(response.status, parsed, what);
  return parsed;
}

const switches = [];
async function switchRoute(to, reason) {
  let result;
  try {
    result = await call('POST', '/api/route', { body: { route: to, reason }, what: `switch to ${to}` });
  } catch (error) {
    switches.push({ to, reason, ok: false, message: error.message });
    throw error;
  }
  switches.push({ from: result.from ?? null, to, reason, ok: result.ok === true, message: result.message });
  say(`• route ${result.from ?? 'unset'} → ${to}  (reason: "${reason}"): ${result.message ?? 'ok'}`);
}

/** The archive status of a log ID, or undefined while logzip knows nothing about it. */
async function archiveStatus(logId) {
  try {
    return await call('GET', `/api/archives/${encodeURIComponent(logId)}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

/** done when extracted, or when the failure record is final with more attempts than `afterAttempts`. */
function outcomeOf(status, afterAttempts = 0) {
  if (status === undefined) return undefined;
  if (status.extracted && status.manifest !== null) return 'extracted';
  const failure = status.failure;
  if (failure !== null && failure.state === 'failed' && failure.attempts.length > afterAttempts)
    return 'failed';
  return undefined;
}

async function waitForOutcomes(items, afterAttempts = () => 0, { silent = false } = {}) {
  const deadline = Date.now() + phaseTimeoutMs;
  const pending = new Set(items);
  while (pending.size > 0) {
    for (const item of [...pending]) {
      const status = await archiveStatus(item.logId);
      const outcome = outcomeOf(status, afterAttempts(item));
      if (outcome !== undefined) {
        item.status = status;
        pending.delete(item);
        if (!silent) report(item);
      }
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline) {
      for (const item of pending) {
        item.status = await archiveStatus(item.logId);
        item.timedOut = true;
        say(`  … ${item.logId} no outcome after ${phaseTimeoutMs / 1000} s`);
      }
      break;
    }
    await sleep(500);
  }
}

function routesOf(status) {
  if (status === undefined) return [];
  if (status.extracted && status.manifest !== null) return [status.manifest.route ?? 'unknown'];
  return [...new Set((status.failure?.attempts ?? []).map((a) => a.route))];
}

function report(item) {
  const { status } = item;
  if (status.extracted) {
    say(
      `  ✓ ${item.logId} extracted by ${status.manifest.route}: ${status.manifest.entries.length} files, ${status.manifest.bytes} bytes`,
    );
  } else {
    const f = status.failure;
    say(`  ✗ ${item.logId} ${isRetryable(f.code) ? 'failed' : 'rejected'} (${f.code}): ${f.message}`);
  }
}

/** Compares a manifest with what the archive holds: every path, size and CRC32. */
function checkManifest(expected, manifest) {
  const problems = [];
  const got = new Map(manifest.entries.map((e) => [e.path, e]));
  for (const entry of expected) {
    const found = got.get(entry.path);
    if (found === undefined) problems.push(`missing ${entry.path}`);
    else if (found.size !== entry.size || found.crc32 !== entry.crc32) {
      problems.push(
        `${entry.path}: ${found.size} bytes crc ${found.crc32}, expected ${entry.size} crc ${entry.crc32}`,
      );
    }
  }
  if (manifest.entries.length !== expected.length) {
    problems.push(`${manifest.entries.length} files, expected ${expected.length}`);
  }
  return problems;
}

async function upload(item) {
  const key = createHash('sha256').update(item.body).digest('hex').slice(0, 32);
  const answer = await call('PUT', `/api/archives/${item.logId}`, {
    body: item.body,
    token: config.ingestToken,
    headers: { 'content-type': 'application/zip', 'idempotency-key': `${item.logId}-${key}` },
    what: `upload ${item.logId}`,
  });
  item.upload = answer;
  say(
    `  ↑ ${item.logId.padEnd(22)} ${item.label.padEnd(38)} ${String(item.body.length).padStart(9)} bytes → ${answer.key} (route ${answer.route}${answer.enqueued ? ', enqueued' : ''})`,
  );
}

function formatTable(rows) {
  const head = ['log ID', 'archive', 'route', 'files', 'bytes', 'status'];
  const cells = rows.map((r) => [
    r.logId,
    r.label,
    r.route,
    String(r.files ?? '–'),
    String(r.bytes ?? '–'),
    r.statusText,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => [...c[i]].length)));
  const right = new Set([3, 4]);
  const line = (c) =>
    c
      .map((v, i) => (right.has(i) ? v.padStart(widths[i]) : i === c.length - 1 ? v : v.padEnd(widths[i])))
      .join('  ');
  return [line(head), line(widths.map((w) => '─'.repeat(w))), ...cells.map(line)].join('\n');
}

async function main() {
  const runId = Date.now().toString(36);
  say(`logzip demo against ${config.adminUrl} (run ${runId})`);
  const health = await fetch(`${config.adminUrl}/healthz`, { signal: AbortSignal.timeout(5_000) }).catch(
    (error) => error,
  );
  if (!(health instanceof Response) || !health.ok) {
    process.stderr.write(
      `logzip demo: the admin service at ${config.adminUrl} does not answer (${health instanceof Response ? `HTTP ${health.status}` : health.message}). Is \`pnpm start\` running?\n`,
    );
    process.exit(1);
  }

  const archives = (await buildDemoArchives()).map((a, index) => ({
    ...a,
    logId: `demo_${runId}_${index + 1}`,
    expectedRoute: a.phase === 1 ? 'lambda' : 'queue',
  }));
  const damaged = archives.find((a) => a.expected === undefined);

  const route = await call('GET', '/api/route');
  const bufferedMode = route.mode === 'buffered';
  let onQueue = false;
  try {
    if (route.desired !== 'lambda') await switchRoute('lambda', 'pnpm demo: start on the Lambda route');
    else say('• route is lambda: uploads go to the (emulated) S3 trigger');

    const phase1 = archives.filter((a) => a.phase === 1);
    say(`• phase 1, the Lambda route: ${phase1.length} uploads through PUT /api/archives/:logId`);
    for (const item of phase1) await upload(item);
    say('  waiting for outcomes (GET /api/archives/:logId)…');
    await waitForOutcomes(phase1);

    if (damaged.status?.failure) {
      const f = damaged.status.failure;
      say(`• ${damaged.logId} was rejected: code ${f.code}, state ${f.state}, attempts ${f.attempts.length}`);
      say(`    ${f.message}`);
      say(`    see ${config.adminUrl}/archives/${damaged.logId} or \`pnpm logzip status ${damaged.logId}\``);
    }

    await switchRoute('queue', 'pnpm demo: half-way switch to the queue route');
    onQueue = true;
    const phase2 = archives.filter((a) => a.phase === 2);
    say(`• phase 2, the queue route: ${phase2.length} uploads (enqueued by the ingest API)`);
    for (const item of phase2) await upload(item);
    say('  waiting for outcomes…');
    await waitForOutcomes(phase2);

    // Re-enqueue the damaged one: a permanent error fails again with the same code.
    if (damaged.status?.failure) {
      damaged.firstCode = damaged.status.failure.code;
      const before = damaged.status.failure.attempts.length;
      const answer = await call('POST', '/api/reenqueue', { body: { logIds: [damaged.logId] } });
      const result = answer.results?.[0];
      damaged.reenqueue = { outcome: result?.outcome, detail: result?.detail };
      say(
        `• re-enqueue ${damaged.logId} (it failed with ${damaged.firstCode}): ${result?.outcome} ${result?.detail ?? ''}`,
      );
      if (result?.outcome === 'enqueued' || result?.outcome === 'already_queued') {
        await waitForOutcomes([damaged], () => before);
        const again = damaged.status?.failure?.code;
        damaged.secondCode = again;
        say(
          again === damaged.firstCode
            ? `  it failed again with ${again}, as expected: the archive itself is damaged; ask the uploader to send it again`
            : `  unexpected: the re-run ended with ${again ?? 'no outcome'}`,
        );
      }
    }
  } finally {
    if (onQueue) await switchRoute('lambda', 'pnpm demo: back to the Lambda route');
  }

  const rows = archives.map((item) => {
    const status = item.status;
    const routes = routesOf(status);
    const row = {
      logId: item.logId,
      label: item.label,
      expectedRoute: item.expectedRoute,
      route: routes.length > 0 ? routes.join(' → ') : '–',
      files: undefined,
      bytes: undefined,
      status: 'pending',
      code: undefined,
      ok: false,
      problems: [],
      notes: [],
    };
    if (status?.extracted && status.manifest) {
      row.files = status.manifest.entries.length;
      row.bytes = status.manifest.bytes;
      row.status = 'extracted';
      if (item.expected !== undefined) row.problems.push(...checkManifest(item.expected, status.manifest));
      else row.problems.push('a damaged archive was extracted');
      if (status.manifest.route !== item.expectedRoute) {
        // Buffered mode: for a few seconds after a switch the consumer switched off may still hold
        // a receive (AWS reports the mapping Disabling); the upload is taken once either way.
        (bufferedMode ? row.notes : row.problems).push(
          `processed by ${status.manifest.route}, expected ${item.expectedRoute}${bufferedMode ? ' (taken during the switch, as AWS can)' : ''}`,
        );
      }
    } else if (status?.failure && status.failure.state === 'failed') {
      const f = status.failure;
      row.code = f.code;
      row.message = f.message;
      row.status = isRetryable(f.code) ? 'failed' : 'rejected';
      row.attempts = f.attempts.length;
      if (item.expected !== undefined) row.problems.push(`a good archive failed with ${f.code}`);
      else {
        if (item.reenqueue === undefined) row.problems.push('not re-enqueued');
        else if (item.secondCode !== item.firstCode)
          row.problems.push(`re-run ended with ${item.secondCode ?? 'nothing'}`);
        if (routesOf(status)[0] !== item.expectedRoute)
          row.problems.push(`first processed by ${routesOf(status)[0]}`);
      }
    } else {
      row.problems.push(item.timedOut ? 'no outcome in time' : 'no outcome');
    }
    row.ok = row.problems.length === 0;
    row.statusText =
      row.status === 'extracted'
        ? `extracted${row.ok ? '' : ` ✗ ${row.problems.join('; ')}`}${row.notes.length > 0 ? ` (note: ${row.notes.join('; ')})` : ''}`
        : row.code !== undefined
          ? `${row.status}: ${row.code}${item.secondCode === row.code ? ` (${row.attempts} attempts; same code after re-enqueue, as expected)` : ''}${row.ok ? '' : ` ✗ ${row.problems.join('; ')}`}`
          : `✗ ${row.problems.join('; ')}`;
    return row;
  });
  const ok = rows.every((r) => r.ok);

  say('');
  say(formatTable(rows));
  say('');
  if (ok) {
    say(
      `✓ every good archive was extracted, file for file, by the route it was sent to; the damaged one was reported as ${damaged.firstCode} (twice).`,
    );
  } else {
    say("✗ the demo found problems (see the status column). The stack's log shows why.");
  }
  say(
    `  Browse them: ${config.adminUrl}/  ·  failures: pnpm logzip failures  ·  one log ID: pnpm logzip status ${damaged.logId}`,
  );

  if (args.json) {
    const document = {
      ok,
      runId,
      adminUrl: config.adminUrl,
      switches,
      archives: rows.map(({ statusText, ...row }) => ({ ...row, statusText })),
    };
    process.stdout.write(`${JSON.stringify(document)}\n`);
  }
  process.exitCode = ok ? 0 : 1;
}

/** The worker's metrics URL: --metrics, else the local stack's (stack.json). */
function metricsUrl() {
  if (args.metrics !== undefined) return args.metrics.replace(/\/$/, '');
  try {
    const stack = JSON.parse(readFileSync(join(stackHome(args.dir, process.env), 'stack.json'), 'utf8'));
    return typeof stack.metricsUrl === 'string' ? stack.metricsUrl : undefined;
  } catch {
    return undefined;
  }
}

/** Sums of the sweeper's counters on the worker's /metrics, or undefined when it cannot be read. */
async function sweepCounters(url) {
  if (url === undefined) return undefined;
  try {
    const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) return undefined;
    const text = await response.text();
    const sum = (name) =>
      text
        .split('\n')
        .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
        .reduce((total, line) => total + Number(line.split(' ').at(-1)), 0);
    return { runs: sum('logzip_sweep_runs_total'), enqueued: sum('logzip_sweep_enqueued_total') };
  } catch {
    return undefined;
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? undefined : sorted[Math.floor((sorted.length - 1) / 2)];
}

/** `--burst`: many uploads at once while the route switches; every archive must come out exactly. */
async function burst() {
  const runId = Date.now().toString(36);
  say(`logzip demo --burst against ${config.adminUrl} (run ${runId})`);
  const health = await fetch(`${config.adminUrl}/healthz`, { signal: AbortSignal.timeout(5_000) }).catch(
    (error) => error,
  );
  if (!(health instanceof Response) || !health.ok) {
    process.stderr.write(
      `logzip demo: the admin service at ${config.adminUrl} does not answer. Is \`pnpm start\` running?\n`,
    );
    process.exit(1);
  }
  const initial = await call('GET', '/api/route');
  const mode = initial.mode ?? 'direct';
  if (mode !== 'buffered') {
    say(
      '  note: the trigger mode is direct: an upload while the Lambda route is off has no event and may wait for the sweeper (pnpm start --buffered shows the difference)',
    );
  }
  const metrics = metricsUrl();
  const before = await sweepCounters(metrics);
  const items = [];
  for (let i = 0; i < burstCount; i += 1) {
    items.push({ ...(await buildBurstArchive(i)), logId: `burst_${runId}_${i + 1}` });
  }
  let route = initial.desired ?? 'lambda';
  const startRoute = route;
  if (initial.desired === null) await switchRoute('lambda', 'pnpm demo --burst: start on the Lambda route');
  // Switch points spread over the burst; the switches run beside the uploads, one after another.
  const switchAt = new Set(
    Array.from({ length: burstSwitches }, (_, k) => Math.floor(((k + 1) * burstCount) / (burstSwitches + 1))),
  );
  say(`• ${burstCount} uploads, 4 at a time, ${burstSwitches} route switches during them (${mode} mode)`);
  let switching = Promise.resolve();
  let next = 0;
  const uploader = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      if (switchAt.has(index)) {
        route = route === 'lambda' ? 'queue' : 'lambda';
        const to = route;
        switching = switching.then(() =>
          switchRoute(to, `pnpm demo --burst: switch during the burst (upload ${index + 1})`),
        );
      }
      const item = items[index];
      const key = createHash('sha256').update(item.body).digest('hex').slice(0, 32);
      item.upload = await call('PUT', `/api/archives/${item.logId}`, {
        body: item.body,
        token: config.ingestToken,
        headers: { 'content-type': 'application/zip', 'idempotency-key': `${item.logId}-${key}` },
        what: `upload ${item.logId}`,
      });
      item.uploadedAt = Date.now();
    }
  };
  try {
    await Promise.all([uploader(), uploader(), uploader(), uploader()]);
    await switching;
    say(`  uploaded ${items.length}; waiting for outcomes…`);
    // Per-archive lines would scroll the summary away: the burst prints counts instead.
    await waitForOutcomes(items, () => 0, { silent: true });
  } finally {
    await switching.catch(() => {});
    if (route !== startRoute)
      await switchRoute(startRoute, 'pnpm demo --burst: back to the route it started on');
  }
  const after = await sweepCounters(metrics);

  const rows = items.map((item) => {
    const status = item.status;
    const row = {
      logId: item.logId,
      route: routesOf(status).join(' → ') || '–',
      status: 'pending',
      ok: false,
      problems: [],
    };
    if (status?.extracted && status.manifest) {
      row.status = 'extracted';
      row.latencyMs = Date.parse(status.manifest.finishedAt) - item.uploadedAt;
      row.problems.push(...checkManifest(item.expected, status.manifest));
    } else if (status?.failure) {
      row.status = status.failure.state;
      row.code = status.failure.code;
      row.problems.push(`a good archive failed with ${status.failure.code}: ${status.failure.message}`);
    } else {
      row.problems.push(item.timedOut ? 'no outcome in time' : 'no outcome');
    }
    row.ok = row.problems.length === 0;
    return row;
  });
  const extracted = rows.filter((r) => r.status === 'extracted');
  const byRoute = {};
  for (const row of extracted) byRoute[row.route] = (byRoute[row.route] ?? 0) + 1;
  const latencies = extracted.map((r) => Math.max(0, r.latencyMs));
  const sweeper =
    before === undefined || after === undefined
      ? undefined
      : { runs: after.runs - before.runs, enqueued: after.enqueued - before.enqueued };
  const problems = rows.filter((r) => !r.ok);
  const sweeperOk = sweeper === undefined || sweeper.enqueued === 0;
  const ok = problems.length === 0 && switches.every((s) => s.ok) && sweeperOk;

  say('');
  say(`  uploaded      ${items.length} archives (${mode} mode), ${switches.length} route switches`);
  say(
    `  extracted     ${extracted.length} of ${items.length}, every file's path, size and CRC32 checked (${Object.entries(
      byRoute,
    )
      .map(([r, n]) => `${n} by ${r}`)
      .join(', ')})`,
  );
  if (latencies.length > 0) {
    say(
      `  upload → extracted  median ${(median(latencies) / 1000).toFixed(1)} s, slowest ${(Math.max(...latencies) / 1000).toFixed(1)} s`,
    );
  }
  say(
    sweeper === undefined
      ? '  sweeper       not checked (the worker metrics were not found: give --metrics http://worker:9464)'
      : `  sweeper       ${sweeper.runs} run(s) during the burst, ${sweeper.enqueued} archive(s) enqueued by it${sweeper.enqueued === 0 ? ': every archive came by its own notification' : ''}`,
  );
  for (const row of problems.slice(0, 10)) say(`  ✗ ${row.logId}: ${row.problems.join('; ')}`);
  say('');
  say(
    ok
      ? `✓ all ${items.length} archives extracted exactly through ${switches.length} switches, none left for the sweeper.`
      : "✗ the burst found problems (above). The stack's log shows why.",
  );
  if (args.json) {
    process.stdout.write(
      `${JSON.stringify({ ok, mode: 'burst', triggerMode: mode, runId, switches, sweeper: sweeper ?? null, byRoute, latencyMs: { median: median(latencies) ?? null, max: latencies.length > 0 ? Math.max(...latencies) : null }, archives: rows })}\n`,
    );
  }
  process.exitCode = ok ? 0 : 1;
}

const RETRYABLE = new Set(['storage_unavailable', 'timeout', 'internal']);
function isRetryable(code) {
  return RETRYABLE.has(code);
}

(args.burst ? burst() : main()).catch((error) => {
  process.stderr.write(
    `logzip demo: ${error instanceof ApiError ? error.message : (error.stack ?? error.message)}\n`,
  );
  if (args.json) process.stdout.write(`${JSON.stringify({ ok: false, error: error.message, switches })}\n`);
  process.exitCode = 1;
});
