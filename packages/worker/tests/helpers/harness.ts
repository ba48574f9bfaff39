import { type ChildProcess, spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { requireRedis, uniquePrefix, waitUntil } from '@logzip/test-utils';
import pino from 'pino';

/** A Redis DB of its own, so worker processes (which drain `logzip:lambda-destination`) touch nobody else's keys. */
export const WORKER_TEST_DB = 9;

export function workerRedisUrl(): string {
  const url = new URL(requireRedis());
  url.pathname = `/${WORKER_TEST_DB}`;
  return url.toString();
}

export const MAIN_JS = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export interface CapturedLogger {
  logger: pino.Logger;
  lines: Array<Record<string, unknown>>;
}

/** A pino logger whose JSON lines land in `lines` (and nowhere else). */
export function captureLogger(): CapturedLogger {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line));
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

/** The environment of a test worker: fs or S3 storage, a unique queue prefix, no sweeps unless asked. */
export function workerEnv(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = {
    REDIS_URL: workerRedisUrl(),
    LOGZIP_QUEUE_PREFIX: uniquePrefix('worker'),
    LOGZIP_INCOMING_BUCKET: 'logs',
    LOGZIP_WORKER_METRICS_PORT: '0',
    LOGZIP_SWEEP_INTERVAL: '0s',
    LOGZIP_WORKER_LOCK_DURATION: '2s',
    LOG_LEVEL: 'info',
    ...overrides,
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

export async function waitFor(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  await waitUntil(async () => check(), { timeoutMs, intervalMs: 50, what });
}

export interface WorkerProcess {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first log line that matches. */
  waitForLine(
    match: (line: Record<string, unknown>) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
}

/** `node packages/worker/dist/main.js` with the given environment (plus PATH and the AWS test settings). */
export function spawnWorker(env: Record<string, string>): WorkerProcess {
  const inherited: Record<string, string> = {};
  for (const name of [
    'PATH',
    'HOME',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_REGION',
    'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED',
  ]) {
    const value = process.env[name];
    if (value !== undefined) inherited[name] = value;
  }
  const child = spawn(process.execPath, [MAIN_JS], {
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const part of parts) {
      if (part.trim() === '') continue;
      try {
        lines.push(JSON.parse(part));
      } catch {
        stderr.push(part);
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      for (const wake of waiters) wake();
      resolve({ code, signal });
    });
  });
  return {
    child,
    lines,
    stderr,
    exited,
    waitForLine(match, what, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(match);
          if (found !== undefined) {
            done();
            resolve(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(
              new Error(
                `${what}: the worker exited (${child.exitCode ?? child.signalCode}); stderr: ${stderr.join('')}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${what}: not logged within ${timeoutMs} ms; stderr: ${stderr.join('')}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Kills a worker child if it is still running (test cleanup). */
export async function stopWorker(worker: WorkerProcess | undefined): Promise<void> {
  if (worker === undefined || worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  worker.child.kill('SIGKILL');
  await worker.exited;
}
