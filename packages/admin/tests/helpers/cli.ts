import { type ChildProcess, spawn } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import { findExecutable, freePort, isCI, waitUntil } from '@logzip/test-utils';
import { Redis } from 'ioredis';
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as exactly one JSON value (throws if it is anything else). */
  json<T = unknown>(): T;
}

function sink(): Writable & { text(): string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  }) as Writable & { text(): string };
  stream.text = () => Buffer.concat(chunks).toString('utf8');
  return stream;
}

export interface RunCliOptions {
  /** The whole environment the command sees (default: empty). */
  env?: Record<string, string | undefined>;
  cwd?: string;
  stdin?: string;
}

/** Runs `logzip <argv>` in-process, the way cli/index.ts does, with captured output. */
export async function runCli(argv: string[], options: RunCliOptions = {}): Promise<CliRun> {
  const stdout = sink();
  const stderr = sink();
  const io: CliIo = {
    stdout,
    stderr,
    stdin: Readable.from([Buffer.from(options.stdin ?? '')]),
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
  };
  const code = await main(argv, io);
  const out = stdout.text();
  return {
    code,
    stdout: out,
    stderr: stderr.text(),
    json<T>() {
      const lines = out.split('\n').filter((line) => line !== '');
      if (lines.length !== 1) throw new Error(`stdout is not one JSON line:\n${out}`);
      return JSON.parse(lines[0]!) as T;
    },
  };
}

/**
 * A redis-server of this test file only: the CLI's direct path uses logzip's real keys
 * (`logzip:route`, `logzip:audit`, queue `bull:logzip-extract`), which other test files share.
 */
export async function startPrivateRedis(): Promise<{ url: string; stop(): Promise<void> } | undefined> {
  const executable = await findExecutable('redis-server');
  if (executable === undefined) {
    if (isCI()) throw new Error('redis-server is not installed and CI=true');
    return undefined;
  }
  const port = await freePort();
  const child: ChildProcess = spawn(
    executable,
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  await waitUntil(
    async () => {
      const client = new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      client.on('error', () => {});
      try {
        await client.connect();
        return (await client.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        client.disconnect();
      }
    },
    { timeoutMs: 10_000, what: `redis-server on port ${port}` },
  );
  return {
    url,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
