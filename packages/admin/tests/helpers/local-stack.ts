import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { claimEmptyDatabase, cleanEnv, waitUntil } from '@logzip/test-utils';
import { parseEnvLines } from '../../src/cli/local-stack.js';

export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export interface LocalStack {
  home: string;
  /** The shell environment the stack was started with (LOGZIP_HOME, REDIS_URL). */
  env: NodeJS.ProcessEnv;
  /** admin.env as `pnpm start` wrote it (LOGZIP_ADMIN_URL, the tokens). */
  adminEnv: Record<string, string>;
  metricsUrl: string;
  children: Record<string, number>;
  output(): string;
  stop(): Promise<void>;
}

/**
 * `pnpm start --no-build` (the built dist/) in a temporary LOGZIP_HOME on free ports and a Redis
 * database of its own; stop() ends it and removes everything, also after a failed test.
 */
export async function startLocalStack(
  redisBase: string,
  extraEnv: Record<string, string> = {},
): Promise<LocalStack> {
  const home = await mkdtemp(join(tmpdir(), 'logzip-stack-'));
  const database = await claimEmptyDatabase(redisBase);
  const env = cleanEnv({
    LOGZIP_HOME: home,
    REDIS_URL: database.url,
    LOGZIP_ADMIN_PORT: '0',
    LOGZIP_WORKER_METRICS_PORT: '0',
    ...extraEnv,
  });
  let output = '';
  const child: ChildProcess = spawn(process.execPath, ['scripts/start.mjs', '--no-build'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const stopped = await Promise.race([
        exited.then(() => true),
        new Promise((r) => setTimeout(() => r(false), 30_000)),
      ]);
      if (!stopped) child.kill('SIGKILL');
    }
    await database.release();
    await rm(home, { recursive: true, force: true });
  };
  try {
    const stackFile = join(home, 'stack.json');
    const adminEnvFile = join(home, 'admin.env');
    await waitUntil(
      async () => {
        if (!existsSync(stackFile) || !existsSync(adminEnvFile)) return false;
        const url = parseEnvLines(await readFile(adminEnvFile, 'utf8'))['LOGZIP_ADMIN_URL'];
        return (
          url !== undefined &&
          (await fetch(`${url}/healthz`).then((r) => r.ok)) &&
          /\/metrics on port \d+/.test(output)
        );
      },
      {
        timeoutMs: 60_000,
        intervalMs: 250,
        what: `pnpm start\n${output}`,
        abort: () => (child.exitCode === null ? undefined : `exited with ${child.exitCode}\n${output}`),
      },
    );
    const { children } = JSON.parse(await readFile(stackFile, 'utf8')) as {
      children: Record<string, number>;
    };
    const metricsPort = /\/metrics on port (\d+)/.exec(output)?.[1];
    return {
      home,
      env,
      adminEnv: parseEnvLines(await readFile(adminEnvFile, 'utf8')),
      metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
      children,
      output: () => output,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export { claimEmptyDatabase, cleanEnv };
