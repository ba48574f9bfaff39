/**
 * Vitest global setup of the `integration` project: one moto_server and one Redis per run.
 *
 * - moto_server starts on a free port (`moto_server -H 127.0.0.1 -p PORT`), its Lambda backend is
 *   switched to `use_docker: false` once (posting `/moto-api/config` again wipes functions other test
 *   files created), and it stops at teardown. `LOGZIP_TEST_MOTO_URL` set beforehand points at a moto
 *   that is already running instead (it is configured, not started or stopped).
 * - Redis: `REDIS_URL`, else 127.0.0.1:6379, else a private redis-server on a free port when
 *   redis-server is installed.
 * - Tests read the URLs with `inject('motoUrl')` / `inject('redisUrl')` (or the helpers motoUrl(),
 *   redisUrl()); workers also get them as `LOGZIP_TEST_MOTO_URL` / `LOGZIP_TEST_REDIS_URL`, and the AWS
 *   SDK's own variables (`AWS_ENDPOINT_URL*`, test credentials, `us-east-1`) when they are not set.
 * - A missing service: under `CI=true` the run fails; elsewhere the value is undefined, the tests
 *   that need it are skipped, and one notice says how to enable them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { redisAnswers, redisServerArgs } from './private-redis.js';
import { findExecutable, freePort, isCI, waitUntil } from './services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the run's moto_server (`http://127.0.0.1:PORT`), or undefined when there is none. */
    motoUrl: string | undefined;
    /** URL of a reachable Redis, or undefined when there is none. */
    redisUrl: string | undefined;
  }
}

export const MOTO_HINT = 'install it with: pip install "moto[server]"';
export const REDIS_HINT = 'install redis-server (apt-get install redis-server) or set REDIS_URL';

const children: ChildProcess[] = [];

export async function setup(project: TestProject): Promise<void> {
  const notices: string[] = [];
  const motoUrl = await setUpMoto(notices);
  const redisUrl = await setUpRedis(notices);

  project.provide('motoUrl', motoUrl);
  project.provide('redisUrl', redisUrl);
  if (motoUrl !== undefined) {
    process.env['LOGZIP_TEST_MOTO_URL'] = motoUrl;
    for (const name of [
      'AWS_ENDPOINT_URL',
      'AWS_ENDPOINT_URL_S3',
      'AWS_ENDPOINT_URL_LAMBDA',
      'AWS_ENDPOINT_URL_SQS',
      'AWS_ENDPOINT_URL_IAM',
      'AWS_ENDPOINT_URL_SNS',
    ]) {
      process.env[name] ??= motoUrl;
    }
    process.env['AWS_ACCESS_KEY_ID'] ??= 'test';
    process.env['AWS_SECRET_ACCESS_KEY'] ??= 'test';
    process.env['AWS_REGION'] ??= 'us-east-1';
  }
  if (redisUrl !== undefined) process.env['LOGZIP_TEST_REDIS_URL'] = redisUrl;
  // Node 20: current SDK releases warn once per process that Node 22 will be required from 2027.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

  if (notices.length > 0) {
    console.warn(`\n[logzip integration tests] ${notices.join('\n[logzip integration tests] ')}\n`);
  }
}

export async function teardown(): Promise<void> {
  await Promise.all(children.splice(0).map(stop));
}

async function setUpMoto(notices: string[]): Promise<string | undefined> {
  const external = process.env['LOGZIP_TEST_MOTO_URL'];
  if (external !== undefined && external !== '') {
    await waitUntil(() => motoReady(external), { timeoutMs: 10_000, what: `moto at ${external}` });
    await configureMoto(external);
    return external;
  }
  const executable = await findExecutable('moto_server');
  if (executable === undefined) {
    if (isCI())
      throw new Error(`moto_server is not on PATH and CI=true: the S3 tests cannot run; ${MOTO_HINT}`);
    notices.push(`moto_server not found: the S3 and Lambda tests are skipped; ${MOTO_HINT}`);
    return undefined;
  }
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawnLogged(executable, ['-H', '127.0.0.1', '-p', String(port)], `moto-${port}.log`);
    try {
      await waitUntil(() => motoReady(url), {
        timeoutMs: 30_000,
        what: `moto_server on port ${port}`,
        abort: () => exitReason(child),
      });
      await configureMoto(url);
      return url;
    } catch (error) {
      lastError = error;
      await stop(child);
    }
  }
  throw new Error(`moto_server did not start: ${(lastError as Error).message}`, { cause: lastError });
}

async function motoReady(url: string): Promise<boolean> {
  const response = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(2_000) });
  await response.arrayBuffer();
  return response.ok;
}

/** Lambda functions without Docker: moto drops functions created before this switch, so it runs once, first. */
async function configureMoto(url: string): Promise<void> {
  const response = await fetch(`${url}/moto-api/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ lambda: { use_docker: false } }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${url}/moto-api/config: ${response.status} ${text}`);
}

async function setUpRedis(notices: string[]): Promise<string | undefined> {
  const explicit = process.env['REDIS_URL'];
  if (explicit !== undefined && explicit !== '') {
    // A REDIS_URL that was set and cannot be reached is an error, never silently replaced.
    if (!(await redisAnswers(explicit, 2_000))) {
      const shown = explicit.replace(/\/\/[^@/]*@/, '//***@');
      throw new Error(`REDIS_URL is set (${shown}) but Redis does not answer there`);
    }
    return explicit;
  }
  const fallback = 'redis://127.0.0.1:6379';
  if (await redisAnswers(fallback, 2_000)) return fallback;
  const executable = await findExecutable('redis-server');
  if (executable !== undefined) {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const child = spawnLogged(executable, redisServerArgs(port, ['--appendonly', 'no']), `redis-${port}.log`);
    await waitUntil(() => redisAnswers(url, 2_000), {
      timeoutMs: 10_000,
      what: `redis-server on port ${port}`,
      abort: () => exitReason(child),
    });
    return url;
  }
  if (isCI())
    throw new Error(`no Redis at ${fallback} and no redis-server to start, with CI=true; ${REDIS_HINT}`);
  notices.push(`no Redis at ${fallback}: the Redis tests are skipped; ${REDIS_HINT}`);
  return undefined;
}

/** Starts a service in its own process group, its output in test-artifacts/<logName>. */
function spawnLogged(executable: string, args: string[], logName: string): ChildProcess {
  const dir = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const log = openSync(`${dir}${logName}`, 'w');
  const child = spawn(executable, args, { stdio: ['ignore', log, log], detached: true });
  child.on('error', () => undefined); // reported through exitReason()
  children.push(child);
  return child;
}

function exitReason(child: ChildProcess): string | undefined {
  if (child.exitCode !== null) return `exited with code ${child.exitCode}`;
  if (child.signalCode !== null) return `killed by ${child.signalCode}`;
  return undefined;
}

/** SIGTERM to the child's process group (a pyenv shim may sit in front of moto), SIGKILL after 5 s. */
async function stop(child: ChildProcess): Promise<void> {
  const index = children.indexOf(child);
  if (index !== -1) children.splice(index, 1);
  if (child.pid === undefined || exitReason(child) !== undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid as number), name);
    } catch {
      child.kill(name);
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
