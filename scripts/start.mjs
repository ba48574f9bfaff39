#!/usr/bin/env node
// `pnpm start`: the whole logzip stack on this machine, on embedded defaults.
//
// Builds what is missing or stale, finds (or starts) Redis, then runs the local trigger emulator
// (the Lambda bundle behind a simulated S3 trigger), one worker and the admin service as child
// processes with prefixed, readable logs. Storage is a folder (.logzip/data, bucket logzip-local)
// unless the environment points somewhere else explicitly. Ctrl-C stops everything.
//
// `--buffered` (or LOGZIP_TRIGGER_MODE=buffered) runs the buffered trigger mode instead: two
// moto_servers (S3 + SQS, and the Lambda control plane), the queue, its dead-letter queue, the
// bucket notification to the queue, the function and its event source mapping, with the emulator
// playing the mapping and the worker consuming the queue under the `queue` route.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { delimiter, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ROOT, readEnvFile, stackHome, writeEnvFile } from './lib/local.mjs';
import { createFormatter, eachLine, formatLine } from './lib/log-format.mjs';

const USAGE = `usage: pnpm start [--no-build] [--dir DIR] [--buffered]

Runs the logzip stack locally: Redis (REDIS_URL, else 127.0.0.1:6379, else redis-server on a free
port), the local trigger emulator, one worker and the admin service. Data lives in DIR (default
LOGZIP_HOME, else .logzip/ in the repository). Ctrl-C stops every part.

  --no-build   do not run \`pnpm build\` even when dist/ is missing or older than the sources
  --dir DIR    the stack's folder (storage, Redis data, admin.env)
  --buffered   the buffered trigger mode (same as LOGZIP_TRIGGER_MODE=buffered): S3 → SQS → the
               function's event source mapping, on two moto_servers started here (pip install
               "moto[server]"); storage is moto's S3, in memory, empty at every start

Environment (all optional): REDIS_URL, LOGZIP_ADMIN_PORT (8080), LOGZIP_WORKER_METRICS_PORT (9464),
LOGZIP_HOME, LOG_LEVEL, and any LOGZIP_* variable of docs/configuration.md.`;

const EXIT_USAGE = 64;
const EXIT_CONFIG = 78;
const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
const WIDTH = 8;
const log = (message) =>
  process.stdout.write(
    `${formatLine('start', JSON.stringify({ level: 'info', msg: message }), { color, width: WIDTH })}\n`,
  );
const warn = (message) =>
  process.stdout.write(
    `${formatLine('start', JSON.stringify({ level: 'warn', msg: message }), { color, width: WIDTH })}\n`,
  );
const fail = (message, code) => {
  process.stderr.write(`logzip start: ${message}\n`);
  process.exit(code);
};

let args;
try {
  args = parseArgs({
    options: {
      'no-build': { type: 'boolean', default: false },
      dir: { type: 'string' },
      buffered: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  }).values;
} catch (error) {
  fail(`${error.message}\n${USAGE}`, EXIT_USAGE);
}
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const env = process.env;
const home = stackHome(args.dir, env);
if (args.buffered && env.LOGZIP_TRIGGER_MODE !== undefined && env.LOGZIP_TRIGGER_MODE !== 'buffered')
  fail(`--buffered contradicts LOGZIP_TRIGGER_MODE=${env.LOGZIP_TRIGGER_MODE}`, EXIT_USAGE);
if (!args.buffered && ![undefined, '', 'direct', 'buffered'].includes(env.LOGZIP_TRIGGER_MODE))
  fail(`LOGZIP_TRIGGER_MODE: "${env.LOGZIP_TRIGGER_MODE}" is not direct or buffered`, EXIT_CONFIG);
const buffered = args.buffered || env.LOGZIP_TRIGGER_MODE === 'buffered';
const display = (path) => {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
};

// ---------------------------------------------------------------------------------------------
// Build

/** The running `pnpm build`, stopped with the rest on Ctrl-C. */
let buildChild;
const PACKAGES = ['core', 'lambda', 'worker', 'admin'];
/** Files the build writes last for each package: missing or older than a source → rebuild. */
const STAMPS = [
  'packages/core/dist/index.js',
  'packages/core/dist/adapters/bullmq/index.js',
  'packages/lambda/dist/index.mjs',
  'packages/lambda/dist/emulator/main.js',
  'packages/lambda/dist/emulator/local-buffered.js',
  'packages/lambda/dist/lambda.zip',
  'packages/worker/dist/main.js',
  'packages/admin/dist/server.js',
  'packages/admin/dist/cli/index.js',
];

function newestMtime(path) {
  let newest = 0;
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

function buildNeeded() {
  const stamps = STAMPS.map((file) => {
    try {
      return statSync(join(ROOT, file)).mtimeMs;
    } catch {
      return -1;
    }
  });
  if (stamps.some((t) => t < 0)) return 'dist/ is missing';
  const sources = Math.max(
    ...PACKAGES.flatMap((name) => [
      newestMtime(join(ROOT, 'packages', name, 'src')),
      newestMtime(join(ROOT, 'packages', name, 'package.json')),
    ]),
    newestMtime(join(ROOT, 'packages/lambda/scripts')),
  );
  return sources > Math.min(...stamps) ? 'sources changed since the last build' : undefined;
}

function pnpmCommand() {
  // Under `pnpm start`, npm_execpath is pnpm's own entry: run the same pnpm.
  const execPath = env.npm_execpath;
  if (execPath !== undefined && /pnpm/.test(execPath) && /\.c?js$/.test(execPath)) {
    return { command: process.execPath, args: [execPath] };
  }
  return { command: 'pnpm', args: [] };
}

async function build() {
  if (!existsSync(join(ROOT, 'node_modules'))) fail('run `pnpm install` first (node_modules/ is missing)', 1);
  const reason = buildNeeded();
  if (args['no-build']) {
    if (reason === 'dist/ is missing') fail('dist/ is missing: run `pnpm build` (or drop --no-build)', 1);
    return;
  }
  if (reason === undefined) {
    log('build is up to date');
    return;
  }
  log(`building (${reason}): pnpm build`);
  const pnpm = pnpmCommand();
  const child = spawn(pnpm.command, [...pnpm.args, 'build'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  buildChild = child;
  const tail = [];
  const keep = (line) => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
    if (/error|lambda bundle:|Done$/i.test(line))
      process.stdout.write(`${formatLine('build', line, { color, width: WIDTH })}\n`);
  };
  eachLine(child.stdout, keep);
  eachLine(child.stderr, keep);
  const code = await new Promise((resolve) => {
    child.on('error', (error) => {
      tail.push(error.message);
      resolve(1);
    });
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  buildChild = undefined;
  if (stopping !== undefined) return;
  if (code !== 0) {
    process.stderr.write(`${tail.join('\n')}\n`);
    fail(`pnpm build failed (exit ${code})`, 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Ports and Redis

function portFree(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function choosePort(name, fallback) {
  const text = env[name];
  const port = text === undefined || text === '' ? fallback : Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    fail(`${name}: "${text}" is not a TCP port`, EXIT_CONFIG);
  if (port === 0) return freePort();
  if (!(await portFree(port))) {
    fail(
      `port ${port} (${name}) is in use: stop what holds it, or run e.g. ${name}=${port + 1} pnpm start`,
      1,
    );
  }
  return port;
}

/** PING over a raw socket: `pong`, `auth` (a password is needed), or undefined (nothing answered). */
function pingRedis(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (answer) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(undefined));
    socket.once('error', () => done(undefined));
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.once('data', (data) => {
      const text = data.toString('latin1');
      done(text.startsWith('+PONG') ? 'pong' : /NOAUTH|WRONGPASS/.test(text) ? 'auth' : undefined);
    });
  });
}

function findExecutable(name) {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function redactUrl(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '<unparseable>';
  }
}

/**
 * Two stacks on one Redis database see each other's queue, route flag and audit unless their
 * LOGZIP_KEY_NAMESPACE differ: warn when the database holds another deployment's keys. A SCAN of at
 * most a few seconds; a Redis that cannot be scanned is not worth failing the start for.
 */
async function warnAboutOtherDeployments(redisUrl, namespace) {
  const { createRedis, otherDeployments, otherDeploymentsWarning } = await import(
    new URL('../packages/core/dist/adapters/bullmq/index.js', import.meta.url).href
  );
  const client = createRedis(redisUrl);
  const others = new Set();
  try {
    const deadline = Date.now() + 3_000;
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'COUNT', 1000);
      cursor = next;
      for (const found of otherDeployments(keys, namespace)) others.add(found);
    } while (cursor !== '0' && Date.now() < deadline);
  } catch {
    return;
  } finally {
    client.disconnect();
  }
  if (others.size > 0) warn(otherDeploymentsWarning([...others].sort(), namespace));
}

/** REDIS_URL when set (and reachable), else 127.0.0.1:6379, else a redis-server of our own. */
async function resolveRedis() {
  const given = env.REDIS_URL;
  if (given !== undefined && given !== '') {
    let parsed;
    try {
      parsed = new URL(given);
    } catch {
      fail(`REDIS_URL: "${redactUrl(given)}" is not a URL like redis://127.0.0.1:6379`, EXIT_CONFIG);
    }
    if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
      fail(`REDIS_URL must start with redis:// or rediss://, not ${parsed.protocol}//`, EXIT_CONFIG);
    }
    const { createRedis, waitForRedis } = await import(
      new URL('../packages/core/dist/adapters/bullmq/index.js', import.meta.url).href
    );
    const client = createRedis(given);
    try {
      await waitForRedis(client, 5_000);
      await client.ping();
    } catch (error) {
      client.disconnect();
      fail(
        `REDIS_URL=${redactUrl(given)} cannot be reached: ${error.message}. ` +
          'Start that Redis or unset REDIS_URL; logzip never substitutes another Redis for one you named.',
        1,
      );
    }
    client.disconnect();
    return { url: given, how: 'REDIS_URL' };
  }
  const local = await pingRedis('127.0.0.1', 6379);
  if (local === 'pong') return { url: 'redis://127.0.0.1:6379', how: 'already running on 127.0.0.1:6379' };
  if (local === 'auth') {
    fail(
      'the Redis on 127.0.0.1:6379 wants a password: set REDIS_URL=redis://:PASSWORD@127.0.0.1:6379',
      EXIT_CONFIG,
    );
  }
  const executable = findExecutable('redis-server');
  if (executable === undefined) {
    fail(
      'Redis is needed: install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) ' +
        'or set REDIS_URL=redis://host:6379, then run pnpm start again.',
      1,
    );
  }
  return { executable, how: `redis-server started by pnpm start (data in ${display(join(home, 'redis'))})` };
}

// ---------------------------------------------------------------------------------------------
// Children

/** @type {Map<string, { name: string, child: import('node:child_process').ChildProcess, exited: Promise<{code: number|null, signal: string|null}>, alive: boolean }>} */
const children = new Map();
let stopping;

/** Services the apps need: stopped after them, as a process group (a pyenv shim may front moto). */
const INFRA = new Set(['redis', 'moto', 'moto-ctl']);

function startChild(name, command, argv, childEnv, { logFile } = {}) {
  // A request log (moto's) goes to a file: it would drown the apps' lines.
  const fd = logFile === undefined ? undefined : openSync(logFile, 'w', 0o600);
  const child = spawn(command, argv, {
    cwd: ROOT,
    env: childEnv,
    // Its own process group: a terminal's Ctrl-C reaches only this script, which then stops each
    // child once (a second signal makes the worker exit at once, abandoning its jobs).
    detached: true,
    stdio: ['ignore', fd ?? 'pipe', fd ?? 'pipe'],
  });
  if (fd !== undefined) closeSync(fd);
  const format = createFormatter({ color, width: WIDTH });
  const print = (line) => {
    const text = format(name, line);
    if (text !== undefined) process.stdout.write(`${text}\n`);
  };
  if (fd === undefined) {
    eachLine(child.stdout, print);
    eachLine(child.stderr, print);
  }
  const record = { name, child, alive: true, exited: undefined, result: undefined };
  record.exited = new Promise((resolve) => {
    child.on('error', (error) => {
      print(JSON.stringify({ level: 'error', msg: `cannot run ${command}: ${error.message}` }));
      record.alive = false;
      record.result = { code: 1, signal: null };
      resolve(record.result);
    });
    child.on('exit', (code, signal) => {
      record.alive = false;
      record.result = { code, signal };
      resolve(record.result);
    });
  });
  record.exited.then(({ code, signal }) => {
    if (stopping !== undefined) return;
    warn(`${name} exited unexpectedly (${signal ?? `exit code ${code}`}): stopping the others`);
    void shutdown(code === EXIT_CONFIG ? EXIT_CONFIG : 1);
  });
  children.set(name, record);
  log(`started ${name} (pid ${child.pid})`);
  return record;
}

function signalGroup(record, signal) {
  if (!record.alive || record.child.pid === undefined) return;
  try {
    const group = signal === 'SIGKILL' || INFRA.has(record.name);
    process.kill(group ? -record.child.pid : record.child.pid, signal);
  } catch {
    // already gone
  }
}

async function stopChildren(records, deadlineMs) {
  for (const record of records) signalGroup(record, 'SIGTERM');
  const all = Promise.all(records.map((r) => r.exited));
  const inTime = await Promise.race([all.then(() => true), sleep(deadlineMs).then(() => false)]);
  let clean = true;
  if (!inTime) {
    for (const record of records) {
      if (record.alive) {
        warn(`${record.name} did not stop within ${Math.round(deadlineMs / 1000)} s: SIGKILL`);
        signalGroup(record, 'SIGKILL');
        clean = false;
      }
    }
    await Promise.race([all, sleep(5_000)]);
  }
  for (const record of records) {
    if (record.alive) {
      clean = false;
      continue;
    }
    const { code, signal } = record.result ?? {};
    if (code !== 0 && code !== null && code !== undefined) {
      warn(`${record.name} exited with code ${code} while stopping`);
      clean = false;
    } else if (signal !== null && signal !== undefined && signal !== 'SIGTERM') clean = false;
  }
  return clean;
}

function durationMs(text, fallback) {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/i.exec(text ?? '');
  if (!m) return fallback;
  const unit = (m[2] ?? 's').toLowerCase();
  return Number(m[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : 60_000);
}

const stackFile = join(home, 'stack.json');

function shutdown(exitCode) {
  stopping ??= (async () => {
    const apps = [...children.values()].filter((r) => !INFRA.has(r.name));
    const infra = [...children.values()].filter((r) => INFRA.has(r.name));
    if (apps.some((r) => r.alive))
      log('stopping admin, worker and trigger (Ctrl-C again to kill them at once)');
    // The worker waits up to LOGZIP_WORKER_SHUTDOWN_TIMEOUT for active jobs, then hands them back.
    const deadline = durationMs(env.LOGZIP_WORKER_SHUTDOWN_TIMEOUT, 30_000) + 15_000;
    let clean = await stopChildren(apps, deadline);
    if (infra.length > 0) {
      log(`stopping ${infra.map((r) => r.name).join(', ')}`);
      clean = (await stopChildren(infra, 10_000)) && clean;
    }
    rmSync(stackFile, { force: true });
    if (exitCode === 0 && !clean) {
      warn('stopped, but not every part stopped cleanly');
      process.exit(1);
    }
    log(exitCode === 0 ? 'stopped' : `stopped (exit ${exitCode})`);
    process.exit(exitCode);
  })();
  return stopping;
}

// One Ctrl-C can arrive twice: from the terminal (to the whole foreground group) and forwarded by
// pnpm. A signal within a second of the first is that same one; a later one means "kill now".
let firstSignalAt;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    const now = Date.now();
    if (firstSignalAt !== undefined) {
      if (now - firstSignalAt < 1_000) return;
      warn(`${signal} again: killing every part now`);
      for (const record of children.values()) signalGroup(record, 'SIGKILL');
      rmSync(stackFile, { force: true });
      process.exit(1);
    }
    firstSignalAt = now;
    log(`${signal} received`);
    if (buildChild !== undefined && buildChild.exitCode === null) buildChild.kill('SIGTERM');
    void shutdown(0);
  });
}

async function waitFor(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopping !== undefined) return false;
    if (await check().catch(() => false)) return true;
    await sleep(200);
  }
  throw new Error(`${what} did not become ready within ${timeoutMs / 1000} s`);
}

const httpOk = (url, headers = {}) =>
  fetch(url, { headers, signal: AbortSignal.timeout(2_000) }).then((r) => r.ok);

// ---------------------------------------------------------------------------------------------
// Buffered mode: two moto_servers

const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const MOTO_REGION = 'us-east-1';
const FUNCTION_TIMEOUT_SECONDS = 60;

async function startMoto(name, executable) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  startChild(
    name,
    executable,
    ['-H', '127.0.0.1', '-p', String(port)],
    { ...env },
    {
      logFile: join(home, `${name}.log`),
    },
  );
  await waitFor(
    `moto_server (${name}, log in ${display(join(home, `${name}.log`))})`,
    () => httpOk(`${url}/moto-api/`),
    60_000,
  );
  // Functions are never run by moto: the emulator runs the bundle (moto would want Docker).
  const configured = await fetch(`${url}/moto-api/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ lambda: { use_docker: false } }),
  });
  if (!configured.ok) throw new Error(`POST ${url}/moto-api/config: HTTP ${configured.status}`);
  return url;
}

/**
 * moto's SQS consumes an enabled mapping's messages itself (running the function, a no-op without
 * Docker, and deleting them), so the function and its mapping live in a second moto, next to a
 * same-named queue: the mapping's source ARN is the trigger queue's, and only the emulator polls.
 */
async function startBufferedAws() {
  const executable = findExecutable('moto_server');
  if (executable === undefined) {
    fail(
      'buffered mode needs moto_server (S3, SQS and Lambda played locally): pip install "moto[server]", then run pnpm start --buffered again',
      1,
    );
  }
  let data;
  let controlPlane;
  try {
    data = await startMoto('moto', executable);
    controlPlane = await startMoto('moto-ctl', executable);
  } catch (error) {
    warn(`${error.message}: stopping`);
    await shutdown(1);
    return undefined;
  }
  return {
    urls: { data, controlPlane },
    functionTimeoutSeconds: FUNCTION_TIMEOUT_SECONDS,
    env: {
      AWS_ENDPOINT_URL_S3: data,
      AWS_ENDPOINT_URL_SQS: data,
      AWS_ENDPOINT_URL_LAMBDA: controlPlane,
      AWS_REGION: MOTO_REGION,
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      LOGZIP_TRIGGER_MODE: 'buffered',
      LOGZIP_LAMBDA_FUNCTION: env.LOGZIP_LAMBDA_FUNCTION || 'logzip-extract',
    },
    async provision(bucket) {
      // The children get the same setting (common env): the SDK's Node version notice is noise here.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      const { provisionLocalBuffered } = await import(
        new URL('../packages/lambda/dist/emulator/local-buffered.js', import.meta.url).href
      );
      return provisionLocalBuffered({
        dataPlane: data,
        controlPlane,
        bucket,
        prefix: env.LOGZIP_INCOMING_PREFIX || 'incoming/',
        functionName: env.LOGZIP_LAMBDA_FUNCTION || 'logzip-extract',
        codeZip: join(ROOT, 'packages/lambda/dist/lambda.zip'),
        timeoutSeconds: FUNCTION_TIMEOUT_SECONDS,
        region: MOTO_REGION,
        credentials: MOTO_CREDENTIALS,
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const previous = existsSync(stackFile) ? JSON.parse(readFileSync(stackFile, 'utf8')) : undefined;
  if (previous?.pid !== undefined && previous.pid !== process.pid) {
    let running = false;
    try {
      process.kill(previous.pid, 0);
      running = true;
    } catch {
      running = false;
    }
    if (running)
      fail(
        `another pnpm start (pid ${previous.pid}) is running on ${display(home)}: stop it first, or use --dir`,
        1,
      );
  }

  if (buffered) {
    const given = [
      'LOGZIP_STORAGE_DIR',
      'AWS_ENDPOINT_URL',
      'AWS_ENDPOINT_URL_S3',
      'AWS_ENDPOINT_URL_SQS',
      'AWS_ENDPOINT_URL_LAMBDA',
    ].filter((name) => env[name]);
    if (given.length > 0)
      fail(
        `buffered mode runs on moto servers of its own: unset ${given.join(', ')} (against AWS, deploy the template with TriggerMode=buffered instead)`,
        EXIT_CONFIG,
      );
  }

  await build();

  // Buffered mode: S3 and SQS in one moto, the Lambda control plane in another (docs/development.md).
  const aws = buffered ? await startBufferedAws() : undefined;
  if (stopping !== undefined) return;

  // Storage: a folder unless the environment points at S3 explicitly.
  const s3Mode =
    aws !== undefined ||
    (!env.LOGZIP_STORAGE_DIR && Boolean(env.LOGZIP_INCOMING_BUCKET || env.AWS_ENDPOINT_URL_S3));
  const storageDir = s3Mode ? undefined : env.LOGZIP_STORAGE_DIR || join(home, 'data');
  const bucket = env.LOGZIP_INCOMING_BUCKET || (s3Mode && aws === undefined ? undefined : 'logzip-local');
  if (bucket === undefined)
    fail('LOGZIP_INCOMING_BUCKET: required with AWS_ENDPOINT_URL_S3 (the bucket must exist)', EXIT_CONFIG);
  const realAws = s3Mode && !env.AWS_ENDPOINT_URL_S3 && aws === undefined;
  if (storageDir !== undefined) mkdirSync(join(storageDir, bucket), { recursive: true });

  const adminPort = await choosePort('LOGZIP_ADMIN_PORT', 8080);
  const metricsPort = await choosePort('LOGZIP_WORKER_METRICS_PORT', 9464);
  const adminUrl = `http://127.0.0.1:${adminPort}`;

  const redis = await resolveRedis();
  let redisUrl = redis.url;
  if (redis.executable !== undefined) {
    const port = await freePort();
    const dataDir = join(home, 'redis');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    startChild(
      'redis',
      redis.executable,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dataDir,
        '--appendonly',
        'yes',
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
        '--daemonize',
        'no',
        '--loglevel',
        'warning',
      ],
      { PATH: env.PATH ?? '' },
    );
    await waitFor('redis-server', async () => (await pingRedis('127.0.0.1', port)) === 'pong', 10_000);
    redisUrl = `redis://127.0.0.1:${port}`;
  }
  if (stopping !== undefined) return;

  const keyNamespace = env.LOGZIP_KEY_NAMESPACE || 'logzip:';
  await warnAboutOtherDeployments(redisUrl, keyNamespace);

  // Tokens: the environment's, else the ones kept in admin.env, else new ones.
  const adminEnvPath = join(home, 'admin.env');
  const kept = readEnvFile(adminEnvPath) ?? {};
  const token = (name) => {
    const value = env[name] || kept[name];
    return value !== undefined && value.length >= 32 ? value : randomBytes(24).toString('hex');
  };
  const adminToken = token('LOGZIP_ADMIN_TOKEN');
  let ingestToken = token('LOGZIP_INGEST_TOKEN');
  if (ingestToken === adminToken) ingestToken = randomBytes(24).toString('hex');
  writeEnvFile(
    adminEnvPath,
    {
      LOGZIP_ADMIN_URL: adminUrl,
      LOGZIP_ADMIN_TOKEN: adminToken,
      LOGZIP_INGEST_TOKEN: ingestToken,
      ...(storageDir === undefined ? {} : { LOGZIP_STORAGE_DIR: storageDir }),
      LOGZIP_INCOMING_BUCKET: bucket,
      REDIS_URL: redisUrl,
      ...(env.LOGZIP_KEY_NAMESPACE ? { LOGZIP_KEY_NAMESPACE: env.LOGZIP_KEY_NAMESPACE } : {}),
    },
    [
      'Written by `pnpm start` (scripts/start.mjs): the local stack. The tokens are kept across starts;',
      'delete this file to get new ones. `pnpm logzip` and `pnpm demo` read it when their environment',
      'names no admin URL and no bucket.',
    ],
  );

  const base = { ...env };
  delete base.LOGZIP_HOME;
  if (aws !== undefined) {
    // Local moto credentials: whatever AWS identity the shell holds never reaches these processes.
    for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_DEFAULT_PROFILE']) delete base[name];
  }
  let bufferedStack;
  if (aws !== undefined) {
    try {
      bufferedStack = await aws.provision(bucket);
    } catch (error) {
      warn(`could not create the buffered stack on moto: ${error.message}: stopping`);
      await shutdown(1);
      return;
    }
  }
  const common = {
    ...base,
    ...(aws === undefined ? {} : { ...aws.env, LOGZIP_TRIGGER_QUEUE_URL: bufferedStack.queueUrl }),
    REDIS_URL: redisUrl,
    LOGZIP_INCOMING_BUCKET: bucket,
    ...(storageDir === undefined ? {} : { LOGZIP_STORAGE_DIR: storageDir }),
    LOGZIP_ADMIN_TOKEN: adminToken,
    LOGZIP_INGEST_TOKEN: ingestToken,
    LOGZIP_PUBLIC_URL: env.LOGZIP_PUBLIC_URL || adminUrl,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED:
      env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? 'true',
  };
  const node = process.execPath;
  const trigger = realAws
    ? undefined
    : startChild(
        'trigger',
        node,
        [
          'packages/lambda/dist/emulator/main.js',
          '--interval',
          '1s',
          // The mapping emulator: the function timeout moto holds (the queue's visibility is 6 × it).
          ...(aws === undefined ? [] : ['--timeout', `${aws.functionTimeoutSeconds}s`]),
        ],
        common,
      );
  startChild('worker', node, ['packages/worker/dist/main.js'], {
    ...common,
    LOGZIP_WORKER_METRICS_PORT: String(metricsPort),
  });
  startChild('admin', node, ['packages/admin/dist/server.js'], {
    ...common,
    LOGZIP_ADMIN_PORT: String(adminPort),
    LOGZIP_ADMIN_HOST: env.LOGZIP_ADMIN_HOST || '127.0.0.1',
  });

  try {
    await waitFor('the admin service', () => httpOk(`${adminUrl}/healthz`), 60_000);
    await waitFor('the worker', () => httpOk(`http://127.0.0.1:${metricsPort}/healthz`), 60_000);
  } catch (error) {
    warn(`${error.message}: stopping`);
    await shutdown(1);
    return;
  }
  if (stopping !== undefined) return;

  // The route flag: `lambda` on a first start with folder storage (the local default).
  const auth = { authorization: `Bearer ${adminToken}` };
  let routeNote;
  try {
    const status = await (await fetch(`${adminUrl}/api/route`, { headers: auth })).json();
    if (aws !== undefined) {
      // moto is new on every start: its mapping is created disabled. Applying the flag (the switch
      // is idempotent) enables it or leaves it off, as the flag in Redis says.
      const route = status.desired ?? 'lambda';
      const answer = await fetch(`${adminUrl}/api/route`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', 'x-logzip-operator': 'pnpm-start' },
        body: JSON.stringify({
          route,
          reason: `pnpm start --buffered: ${status.desired === null ? 'first start, the local default' : 'the flag applied to the new moto mapping'}`,
        }),
      });
      routeNote = answer.ok
        ? `${route} (${status.desired === null ? 'the flag was unset: pnpm start set it' : 'the flag, applied to the mapping'}; the mapping is ${route === 'lambda' ? 'enabled' : 'disabled'}; switch with \`pnpm logzip route queue|lambda --reason "…"\`)`
        : `${status.desired ?? 'unset'} (applying it to the mapping failed: HTTP ${answer.status} ${(await answer.text()).slice(0, 300)})`;
    } else if (status.desired === null && !s3Mode) {
      const answer = await fetch(`${adminUrl}/api/route`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', 'x-logzip-operator': 'pnpm-start' },
        body: JSON.stringify({ route: 'lambda', reason: 'pnpm start: first start, the local default' }),
      });
      routeNote = answer.ok
        ? 'lambda (the flag was unset: pnpm start set it, the local default; switch with `pnpm logzip route queue --reason "…"`)'
        : `unset (setting it to lambda failed: HTTP ${answer.status})`;
    } else {
      routeNote = status.desired ?? 'unset (set it with `pnpm logzip route lambda|queue`)';
    }
  } catch (error) {
    routeNote = `unknown (${error.message})`;
  }

  const pids = Object.fromEntries([...children.values()].map((r) => [r.name, r.child.pid]));
  writeFileSync(
    stackFile,
    `${JSON.stringify(
      {
        pid: process.pid,
        mode: buffered ? 'buffered' : 'direct',
        children: pids,
        adminUrl,
        metricsUrl: `http://127.0.0.1:${metricsPort}`,
        redisUrl: redactUrl(redisUrl),
        storageDir: storageDir ?? null,
        bucket,
        ...(aws === undefined ? {} : { moto: aws.urls, ...bufferedStack }),
      },
      null,
      2,
    )}\n`,
    { mode: 0o600 },
  );

  const storage =
    aws !== undefined
      ? `S3 bucket ${bucket} on moto at ${aws.urls.data} (in memory: empty at every start)`
      : storageDir === undefined
        ? `S3 bucket ${bucket}${realAws ? ' on AWS' : ` at ${env.AWS_ENDPOINT_URL_S3}`}`
        : `${display(storageDir)}/${bucket}/ (incoming/, extracted/, logzip-state/)`;
  const triggerLines =
    aws === undefined
      ? [
          `  trigger      ${trigger === undefined ? 'the real S3 trigger (no emulator against AWS)' : 'local emulator, fires while the route is lambda'}`,
        ]
      : [
          '  trigger      buffered: S3 → SQS → event source mapping (local emulator) while the route is lambda;',
          '               the worker takes the queue while the route is queue',
          `  queue        ${bufferedStack.queueUrl} (dead letters: ${bufferedStack.deadLetterQueueUrl})`,
          `  mapping      ${bufferedStack.mappingUuid} on moto at ${aws.urls.controlPlane} (logs: ${display(join(home, 'moto-ctl.log'))})`,
        ];
  const lines = [
    '',
    'logzip is running',
    `  admin UI     ${adminUrl}/  (sign in with the admin token and your name)`,
    `  admin env    ${display(adminEnvPath)}  (the CLI and pnpm demo read it)`,
    `               LOGZIP_ADMIN_URL=${adminUrl}`,
    // Prefixes only: a terminal is scrolled back, screen-shared and pasted into tickets; the file
    // above holds the full tokens.
    `               LOGZIP_ADMIN_TOKEN=${adminToken.slice(0, 12)}…  (full token in the admin env file)`,
    `               LOGZIP_INGEST_TOKEN=${ingestToken.slice(0, 12)}…`,
    `  storage      ${storage}`,
    `  redis        ${redactUrl(redisUrl)} (${redis.how})`,
    `  route        ${routeNote}`,
    ...triggerLines,
    `  worker       metrics and health on http://127.0.0.1:${metricsPort}/metrics`,
    `  pids         ${Object.entries(pids)
      .map(([n, p]) => `${n}=${p}`)
      .join(' ')}`,
    '',
    '  try: pnpm demo   ·   pnpm logzip route   ·   pnpm logzip failures   ·   Ctrl-C to stop',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error) => {
  process.stderr.write(`logzip start: ${error.stack ?? error.message}\n`);
  void shutdown(1);
});
