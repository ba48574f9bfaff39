import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { shardedArchiveKey } from '@logzip/core';
import { createS3ObjectStore } from '@logzip/core/s3';
import {
  buildZip,
  claimEmptyDatabase,
  createMotoS3Client,
  createTestBucket,
  deleteTestBucket,
  describeWithMoto,
  freePort,
  MOTO_CREDENTIALS,
  MOTO_REGION,
  requireMoto,
  requireRedis,
  type S3FaultProxy,
  startS3FaultProxy,
} from '@logzip/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { eventually } from '../helpers/worker.js';

const SERVER = fileURLToPath(new URL('../../dist/server.js', import.meta.url));
const ADMIN_TOKEN = `admin-${randomUUID()}-${randomUUID()}`;
const INGEST_TOKEN = `ingest-${randomUUID()}-${randomUUID()}`;

type ConnectionFault = 'pass' | { cutRequestAfter: number } | 'drop-response';

/**
 * A TCP proxy in front of the service that breaks chosen connections the way flaky desktop links
 * do: cut the request mid-body, or let the request through and lose the response (a reset).
 */
async function startTcpChaos(targetPort: number): Promise<{
  url: string;
  connections: () => number;
  plan(faults: ConnectionFault[]): void;
  close(): Promise<void>;
}> {
  let faults: ConnectionFault[] = [];
  let count = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const fault = faults[count] ?? 'pass';
    count += 1;
    const upstream = new Socket();
    sockets.add(client);
    sockets.add(upstream);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    const kill = () => {
      client.resetAndDestroy();
      upstream.destroy();
    };
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    upstream.connect(targetPort, '127.0.0.1', () => {
      let forwarded = 0;
      client.on('data', (chunk: Buffer) => {
        if (typeof fault === 'object') {
          const room = fault.cutRequestAfter - forwarded;
          if (room <= 0) return;
          forwarded += chunk.length;
          upstream.write(chunk.subarray(0, Math.max(0, room)));
          if (forwarded >= fault.cutRequestAfter) setTimeout(kill, 50);
          return;
        }
        upstream.write(chunk);
      });
      client.on('end', () => upstream.end());
      upstream.on('data', (chunk: Buffer) => {
        if (fault === 'drop-response') {
          kill();
          return;
        }
        client.write(chunk);
      });
      upstream.on('end', () => client.end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => count,
    plan(next) {
      faults = next;
      count = 0;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describeWithMoto('logzip upload against the running service (moto, Redis)', () => {
  let s3: S3Client;
  let s3Proxy: S3FaultProxy;
  let bucket: string;
  let redis: Redis;
  let database: Awaited<ReturnType<typeof claimEmptyDatabase>> | undefined;
  let service: ChildProcess;
  let serviceOutput = '';
  let servicePort: number;
  let chaos: Awaited<ReturnType<typeof startTcpChaos>>;
  let dir: string;
  let archivePath: string;
  let archive: Buffer;

  const cliEnv = (extra: Record<string, string> = {}) => ({
    LOGZIP_ADMIN_URL: chaos.url,
    LOGZIP_INGEST_TOKEN: INGEST_TOKEN,
    LOGZIP_UPLOAD_BACKOFF: '100ms',
    ...extra,
  });

  function archivePuts(key: string): number {
    return s3Proxy.requests.filter(
      (r) => (r.method === 'PUT' || r.method === 'POST') && r.path.startsWith(`/${bucket}/${key}`),
    ).length;
  }

  beforeAll(async () => {
    s3 = createMotoS3Client();
    bucket = await createTestBucket(s3, 'cli-upload');
    s3Proxy = await startS3FaultProxy({ target: requireMoto() });
    // A database of this file alone (the service uses the real, unprefixed `logzip:*` keys, and
    // other files' stacks switch the route in theirs), claimed like the stack tests claim theirs.
    database = await claimEmptyDatabase(requireRedis());
    const redisUrl = database.url;
    redis = new Redis(redisUrl);
    await redis.set('logzip:route', 'lambda');
    servicePort = await freePort();
    service = spawn(process.execPath, [SERVER], {
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '',
        LOGZIP_ADMIN_TOKEN: ADMIN_TOKEN,
        LOGZIP_INGEST_TOKEN: INGEST_TOKEN,
        LOGZIP_INCOMING_BUCKET: bucket,
        LOGZIP_QUEUE_PREFIX: `cli-upload-${randomUUID().slice(0, 8)}`,
        REDIS_URL: redisUrl,
        AWS_ENDPOINT_URL_S3: s3Proxy.url,
        AWS_REGION: MOTO_REGION,
        AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
        LOGZIP_ADMIN_HOST: '127.0.0.1',
        LOGZIP_ADMIN_PORT: String(servicePort),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer) => {
      serviceOutput = (serviceOutput + d.toString()).slice(-20_000);
    };
    service.stdout?.on('data', keep);
    service.stderr?.on('data', keep);
    await eventually(async () => (await fetch(`http://127.0.0.1:${servicePort}/healthz`)).ok, 20_000).catch(
      (error: unknown) => {
        throw new Error(`the admin service did not start: ${String(error)}\n${serviceOutput}`);
      },
    );
    chaos = await startTcpChaos(servicePort);
    dir = await mkdtemp(join(tmpdir(), 'logzip-cli-upload-'));
    archive = await buildZip([
      { name: 'app.log', data: 'hello\n' },
      { name: 'dump.bin', data: randomBytes(3 * 1024 * 1024) },
    ]);
    archivePath = join(dir, 'upload.zip');
    await writeFile(archivePath, archive);
  });

  afterAll(async () => {
    await chaos?.close();
    if (service !== undefined && service.exitCode === null) {
      const exited = new Promise((resolve) => service.once('exit', resolve));
      service.kill('SIGTERM');
      await exited;
    }
    await s3Proxy?.close();
    if (redis !== undefined) {
      const keys = await redis.keys('logzip:*');
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
    await database?.release();
    if (s3 !== undefined) {
      await deleteTestBucket(s3, bucket).catch(() => {});
      s3.destroy();
    }
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    chaos.plan([]);
    s3Proxy.resetStats();
  });

  it('uploads the archive and prints exactly the 202 answer with --json', async () => {
    // Act
    const run = await runCli(['upload', archivePath, '--log-id', 'cli_1', '--json'], { env: cliEnv() });

    // Assess
    const key = shardedArchiveKey('incoming/', 'cli_1');
    expect(run.code).toBe(0);
    const answer = JSON.parse(run.stdout);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(Object.keys(answer)).toEqual(['logId', 'key', 'etag', 'route', 'enqueued']);
    expect(answer).toMatchObject({ logId: 'cli_1', key, route: 'lambda', enqueued: false });
    const store = createS3ObjectStore({ client: s3 });
    expect((await store.head(bucket, key))?.etag).toBe(answer.etag);
    // Buffer.equals: toEqual compares 3 MiB byte by byte in seconds.
    expect((await store.get(bucket, key)).equals(archive)).toBe(true);
  });

  it('retries with the same Idempotency-Key after the connection drops mid-body, and stores once', async () => {
    // Prepare
    chaos.plan([{ cutRequestAfter: 512 * 1024 }]);

    // Act
    const run = await runCli(['upload', archivePath, '--log-id', 'cli_cut'], { env: cliEnv() });

    // Assess
    const key = shardedArchiveKey('incoming/', 'cli_cut');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/attempt 1 of 5 failed \(network error: .*\); retrying/);
    expect(run.stdout).toContain(`as ${key}`);
    expect(chaos.connections()).toBe(2);
    expect(archivePuts(key)).toBe(1);
    expect((await createS3ObjectStore({ client: s3 }).get(bucket, key)).equals(archive)).toBe(true);
  });

  it('a response lost after the service stored the archive is answered again, not stored again', async () => {
    // Prepare
    chaos.plan(['drop-response']);

    // Act
    const run = await runCli(['upload', archivePath, '--log-id', 'cli_lost', '--json'], { env: cliEnv() });

    // Assess
    const key = shardedArchiveKey('incoming/', 'cli_lost');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('retrying');
    expect(chaos.connections()).toBe(2);
    expect(archivePuts(key)).toBe(1);
    const stored = await createS3ObjectStore({ client: s3 }).head(bucket, key);
    expect(JSON.parse(run.stdout)).toEqual({
      logId: 'cli_lost',
      key,
      etag: stored?.etag,
      route: 'lambda',
      enqueued: false,
    });
  });

  it('a file that is not a ZIP is refused: exit 2, one JSON error, nothing stored', async () => {
    // Prepare
    const notZip = join(dir, 'notes.zip');
    await writeFile(notZip, 'these are notes, not an archive\n'.repeat(100));

    // Act
    const run = await runCli(['upload', notZip, '--log-id', 'cli_refused', '--json'], { env: cliEnv() });

    // Assess
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: 'unsupported_media_type' } });
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(
      await createS3ObjectStore({ client: s3 }).head(bucket, shardedArchiveKey('incoming/', 'cli_refused')),
    ).toBe(undefined);
  });

  it('exit 78 without LOGZIP_ADMIN_URL / LOGZIP_INGEST_TOKEN or with a wrong token; 64 for usage errors', async () => {
    // Act
    const noConfig = await runCli(['upload', archivePath, '--log-id', 'x1'], { env: {} });
    const adminToken = await runCli(['upload', archivePath, '--log-id', 'x2'], {
      env: cliEnv({ LOGZIP_INGEST_TOKEN: ADMIN_TOKEN }),
    });
    const noLogId = await runCli(['upload', archivePath], { env: cliEnv() });
    const badLogId = await runCli(['upload', archivePath, '--log-id', 'no/slash'], { env: cliEnv() });
    const twoFiles = await runCli(['upload', archivePath, archivePath, '--log-id', 'x3'], { env: cliEnv() });
    const missingFile = await runCli(['upload', join(dir, 'missing.zip'), '--log-id', 'x4'], {
      env: cliEnv(),
    });

    // Assess
    expect(noConfig.code).toBe(78);
    expect(noConfig.stderr).toContain('LOGZIP_ADMIN_URL');
    expect(noConfig.stderr).toContain('LOGZIP_INGEST_TOKEN');
    expect(adminToken.code).toBe(78);
    expect(adminToken.stderr).toContain('unauthorized');
    expect([noLogId.code, badLogId.code, twoFiles.code, missingFile.code]).toEqual([64, 64, 64, 64]);
  });

  it('exit 78 naming every bad upload setting at once, before anything is sent', async () => {
    // Act
    const run = await runCli(['upload', archivePath, '--log-id', 'x5'], {
      env: cliEnv({
        LOGZIP_ADMIN_URL: 'ftp://uploads.example',
        LOGZIP_UPLOAD_ATTEMPTS: '21',
        LOGZIP_UPLOAD_BACKOFF: '11m',
      }),
    });
    // Assess
    expect(run.code).toBe(78);
    expect(run.stderr).toContain('LOGZIP_ADMIN_URL: "ftp://uploads.example" is not an http(s) URL');
    expect(run.stderr).toContain('LOGZIP_UPLOAD_ATTEMPTS: "21" is not a whole number from 1 to 20');
    expect(run.stderr).toContain('LOGZIP_UPLOAD_BACKOFF: must be at most 10m');
  });

  it('exit 1 when the service stays unreachable after the retries', async () => {
    // Prepare
    const closedPort = await freePort();

    // Act
    const run = await runCli(['upload', archivePath, '--log-id', 'x5', '--json'], {
      env: cliEnv({ LOGZIP_ADMIN_URL: `http://127.0.0.1:${closedPort}`, LOGZIP_UPLOAD_ATTEMPTS: '3' }),
    });

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('gave up after 3 attempts');
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: 'storage_unavailable' } });
  });
});
