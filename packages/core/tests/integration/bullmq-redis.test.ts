import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithRedis, findExecutable, freePort, isCI, requireRedis } from '@logzip/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRedis, createRedis, redactRedisUrl, waitForRedis } from '../../src/adapters/bullmq/index.js';
import { LogzipError } from '../../src/errors.js';

/** A private redis-server (the shared one must keep its settings for the other tests). */
async function startRedis(args: string[]): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn('redis-server', [...args.map((a) => a.replace('{port}', String(port))), '--save', ''], {
    stdio: 'ignore',
  });
  return { port, child };
}

// The warning and TLS tests start their own redis-server (with openssl for a certificate).
const privateServers =
  (await findExecutable('redis-server')) !== undefined && (await findExecutable('openssl')) !== undefined;
if (!privateServers && isCI()) throw new Error('redis-server and openssl are required under CI=true');

describeWithRedis('checkRedis on the test Redis', () => {
  it('reports no warning for a Redis with noeviction', async () => {
    // Prepare
    const redis = createRedis(requireRedis());

    // Act
    const check = await checkRedis(redis);
    redis.disconnect();

    // Assess
    expect(check.version).toMatch(/^\d+\.\d+/);
    expect(check.maxmemoryPolicy).toBe('noeviction');
    expect(check.warnings).toEqual([]);
  });
});

describe.runIf(privateServers)('createRedis / checkRedis on private servers', () => {
  let dir: string;
  let lru: { port: number; child: ChildProcess };
  let tls: { port: number; child: ChildProcess };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'logzip-redis-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    lru = await startRedis(['--port', '{port}', '--maxmemory-policy', 'allkeys-lru']);
    tls = await startRedis([
      '--port',
      '0',
      '--tls-port',
      '{port}',
      '--tls-cert-file',
      join(dir, 'cert.pem'),
      '--tls-key-file',
      join(dir, 'key.pem'),
      '--tls-auth-clients',
      'no',
    ]);
  });

  afterAll(() => {
    lru?.child.kill();
    tls?.child.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('warns when maxmemory-policy can evict queue keys', async () => {
    // Prepare
    const redis = createRedis(`redis://127.0.0.1:${lru.port}`);

    // Act
    const check = await checkRedis(redis, { timeoutMs: 5_000 });
    redis.disconnect();

    // Assess
    expect(check.maxmemoryPolicy).toBe('allkeys-lru');
    expect(check.warnings).toEqual([expect.stringMatching(/allkeys-lru.*noeviction/)]);
  });

  it('connects to rediss:// over TLS', async () => {
    // Prepare
    const redis = createRedis(`rediss://localhost:${tls.port}`, {
      forWorker: true,
      redisOptions: { tls: { ca: readFileSync(join(dir, 'cert.pem')) } },
    });

    // Act
    const check = await checkRedis(redis, { timeoutMs: 5_000 });
    const pong = await redis.ping();
    redis.disconnect();

    // Assess
    expect(check.warnings).toEqual([]);
    expect(pong).toBe('PONG');
    expect(redis.options.tls).toBeTruthy();
    expect(redis.options.maxRetriesPerRequest).toBeNull();
  });
});

describe('createRedis without a server', () => {
  it('fails with storage_unavailable, not a hang, when Redis cannot be reached', async () => {
    // Prepare
    const port = await freePort();
    const redis = createRedis(`redis://127.0.0.1:${port}`, { forWorker: true });
    const started = Date.now();

    // Act
    const error = await waitForRedis(redis, 500).catch((e: unknown) => e);
    redis.disconnect();

    // Assess
    expect(error).toBeInstanceOf(LogzipError);
    expect((error as LogzipError).code).toBe('storage_unavailable');
    expect((error as LogzipError).message).toContain(`127.0.0.1:${port}`);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('hides the password of a Redis URL in messages', () => {
    expect(redactRedisUrl('rediss://user:s3cret@cache.example:6380/2')).toBe(
      'rediss://user:***@cache.example:6380/2',
    );
  });
});
