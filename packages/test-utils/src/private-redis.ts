import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { findExecutable, freePort, isCI, waitUntil } from './services.js';

/**
 * A private redis-server for one test file: on a free loopback port, its data in `dir`, never the
 * shared Redis. With `durable`, append-only with `appendfsync always`, so a SIGKILL loses nothing
 * Redis acknowledged, and `restart()` brings it back on the same port with the same data.
 */
export interface PrivateRedis {
  url: string;
  port: number;
  /** Stops it the hard way (SIGKILL), waits `downMs`, starts it again on the same port and data. */
  restart(downMs: number): Promise<void>;
  stop(): Promise<void>;
  /** How many times it was restarted. */
  readonly restarts: number;
}

/** Whether redis-server can be started here (under CI it must be: the caller fails instead of skipping). */
export async function redisServerAvailable(): Promise<boolean> {
  return (await findExecutable('redis-server')) !== undefined || isCI();
}

/** Whether a Redis answers PING at `url` (one try, no retries). */
export async function redisAnswers(url: string, connectTimeoutMs = 1_000): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** redis-server's arguments for a loopback-only server on `port` that saves no snapshots. */
export function redisServerArgs(port: number, extra: readonly string[] = []): string[] {
  return ['--bind', '127.0.0.1', '--port', String(port), '--save', '', ...extra];
}

export async function startPrivateRedis(options: { dir: string; durable?: boolean }): Promise<PrivateRedis> {
  const executable = await findExecutable('redis-server');
  if (executable === undefined) throw new Error('redis-server is not on PATH (apt-get install redis-server)');
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const args = redisServerArgs(port, [
    '--dir',
    options.dir,
    '--maxmemory-policy',
    'noeviction',
    ...(options.durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
  ]);
  let child: ChildProcess | undefined;
  let restarts = 0;
  const launch = async () => {
    const started = spawn(executable, args, { stdio: 'ignore' });
    started.on('error', () => undefined);
    child = started;
    await waitUntil(() => redisAnswers(url), {
      timeoutMs: 10_000,
      intervalMs: 20,
      what: `redis-server on port ${port}`,
      abort: () => (started.exitCode !== null ? `exited with code ${started.exitCode}` : undefined),
    });
  };
  const kill = async () => {
    const running = child;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    url,
    port,
    get restarts() {
      return restarts;
    },
    async restart(downMs) {
      await kill();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await launch();
      restarts += 1;
    },
    stop: kill,
  };
}
