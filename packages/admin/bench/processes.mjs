/**
 * What the admin benches share: free ports, waiting for a service, children started with their
 * output in test-artifacts/bench/ and stopped (SIGTERM, then SIGKILL) at the end.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/bench/', import.meta.url));

/** Every child started here, for stopAll(). */
export const children = [];

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export async function waitFor(check, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Starts a child whose stdout and stderr go to test-artifacts/bench/<logName>. */
export function start(command, args, options, logName) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const log = openSync(join(ARTIFACTS, logName), 'w');
  const child = spawn(command, args, { ...options, stdio: ['ignore', log, log] });
  children.push(child);
  return child;
}

export async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
