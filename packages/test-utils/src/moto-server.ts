import { spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { findExecutable, freePort, waitUntil } from './services.js';

export interface MotoServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * A private moto_server (Lambda without Docker), for what must not share the run's moto. Buffered
 * mode needs one: moto's SQS runs an enabled event source mapping's function on every message sent
 * to its queue (a no-op without Docker) and deletes the message, so a test that keeps uploads in the
 * queue while the mapping is enabled holds the mapping in a second moto (same account and region,
 * so the queue's ARN is the same string in both).
 */
export async function startMotoServer(label = 'moto-private'): Promise<MotoServer> {
  const executable = await findExecutable('moto_server');
  if (executable === undefined) throw new Error('moto_server is not on PATH (pip install "moto[server]")');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dir = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const log = openSync(`${dir}${label}-${port}.log`, 'w');
  const child = spawn(executable, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', log, log],
    detached: true,
  });
  child.on('error', () => undefined);
  const stop = async () => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // The process group: a pyenv shim may sit in front of moto.
    process.kill(-child.pid, 'SIGTERM');
    const timer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitUntil(
      async () => {
        const response = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(2_000) });
        await response.arrayBuffer();
        return response.ok;
      },
      { timeoutMs: 30_000, what: `moto_server on port ${port}` },
    );
    const configured = await fetch(`${url}/moto-api/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ lambda: { use_docker: false } }),
    });
    if (!configured.ok) throw new Error(`POST ${url}/moto-api/config: ${configured.status}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}
