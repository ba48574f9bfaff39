import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitUntil } from '@logzip/test-utils';

/** The repository root: the scripts run from there, as `pnpm start` does. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a node script of the repository to its end (SIGKILL and an error after `timeoutMs`). */
export function run(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes whose environment or command line mentions `marker` (the temporary LOGZIP_HOME). */
export async function processesMentioning(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    for (const file of ['environ', 'cmdline']) {
      const text = await readFile(join('/proc', name, file), 'latin1').catch(() => '');
      if (text.includes(marker)) {
        found.push(Number(name));
        break;
      }
    }
  }
  return found;
}

export interface StartedStack {
  child: ChildProcess;
  /** Everything `pnpm start` printed so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The pids of stack.json's children, read once the stack was up. */
  children: Record<string, number>;
  stackFile: string;
}

/**
 * `node scripts/start.mjs --no-build ...args` in `env` (LOGZIP_HOME set), resolved once stack.json
 * is written and the admin answers on `adminPort`. The caller kills `child` in its afterEach.
 */
export async function startStack(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { home: string; adminPort: number; timeoutMs: number; onChild(child: ChildProcess): void },
): Promise<StartedStack> {
  let output = '';
  const child = spawn(process.execPath, ['scripts/start.mjs', '--no-build', ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  options.onChild(child);
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const stackFile = join(options.home, 'stack.json');
  await waitUntil(
    async () =>
      existsSync(stackFile) &&
      (await fetch(`http://127.0.0.1:${options.adminPort}/healthz`).then((r) => r.ok)),
    {
      timeoutMs: options.timeoutMs,
      intervalMs: 250,
      what: `pnpm start\n${output}`,
      abort: () => (child.exitCode === null ? undefined : `exited with ${child.exitCode}\n${output}`),
    },
  );
  const { children } = JSON.parse(await readFile(stackFile, 'utf8')) as { children: Record<string, number> };
  return { child, output: () => output, exited, children, stackFile };
}

/** SIGTERM to `pnpm start`, then its exit (an error with its output after `timeoutMs`). */
export async function stopStack(
  stack: StartedStack,
  timeoutMs: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  stack.child.kill('SIGTERM');
  return Promise.race([
    stack.exited,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`the stack did not stop\n${stack.output()}`)), timeoutMs),
    ),
  ]);
}

/**
 * For an afterEach: SIGKILL `pnpm start` if it still runs and every process group it left in
 * stack.json (its children run detached, so killing the script alone would orphan them).
 */
export async function killStack(child: ChildProcess | undefined, home: string | undefined): Promise<void> {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (home === undefined) return;
  const text = await readFile(join(home, 'stack.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return;
  const { children = {} } = JSON.parse(text) as { children?: Record<string, number> };
  for (const pid of Object.values(children)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
