import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { createStateStore, shardedArchiveKey } from '@logzip/core';
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
} from '@logzip/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually } from '../helpers/worker.js';

const MiB = 1024 * 1024;
const SERVER = fileURLToPath(new URL('../../dist/server.js', import.meta.url));
const WORKER = fileURLToPath(new URL('../../../worker/dist/main.js', import.meta.url));
const ADMIN_TOKEN = `admin-${randomUUID()}-${randomUUID()}`;
const INGEST_TOKEN = `ingest-${randomUUID()}-${randomUUID()}`;

interface Child {
  process: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

function startChild(script: string, env: Record<string, string>): Child {
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  });
  child.stderr?.on('data', (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  });
  return {
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** VmRSS of a process, in bytes. */
function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? Number.NaN);
  return kib * 1024;
}

/** Streams `total` bytes that start like a ZIP (1 MiB random block, repeated), generated on the fly. */
function zipLikeStream(total: number): Readable {
  const block = randomBytes(MiB);
  async function* chunks(): AsyncGenerator<Buffer> {
    let sent = 0;
    while (sent < total) {
      const size = Math.min(MiB, total - sent);
      const chunk = sent === 0 ? Buffer.from(block.subarray(0, size)) : block.subarray(0, size);
      if (sent === 0) chunk.write('PK\x03\x04', 0, 'latin1');
      sent += size;
      yield chunk;
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

/** A 202 body of PUT /api/archives/:logId (an error body on refusals). */
interface PutAnswer {
  logId: string;
  key: string;
  etag: string;
  route: string;
  enqueued: boolean;
}

async function put(
  base: string,
  logId: string,
  body: Buffer | Readable,
  size: number,
): Promise<{ status: number; json: PutAnswer }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${base}/api/archives/${logId}`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${INGEST_TOKEN}`,
        'content-type': 'application/zip',
        'content-length': String(size),
      },
    });
    request.on('error', reject);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          json: JSON.parse(Buffer.concat(chunks).toString() || 'null'),
        }),
      );
    });
    if (Buffer.isBuffer(body)) request.end(body);
    else body.pipe(request);
  });
}

describeWithMoto('ingest against the built service as a child process (moto, Redis)', () => {
  let s3: S3Client;
  let bucket: string;
  let redis: Redis;
  let database: Awaited<ReturnType<typeof claimEmptyDatabase>> | undefined;
  let queuePrefix: string;
  let base: string;
  let service: Child;
  let worker: Child | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    s3 = createMotoS3Client();
    bucket = await createTestBucket(s3, 'ingest');
    // A database of this file alone (the service uses the real, unprefixed `logzip:*` keys, and
    // other files' stacks switch the route in theirs), claimed like the stack tests claim theirs.
    database = await claimEmptyDatabase(requireRedis());
    const redisUrl = database.url;
    redis = new Redis(redisUrl);
    queuePrefix = `ingest-${randomUUID().slice(0, 8)}`;
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      LOGZIP_ADMIN_TOKEN: ADMIN_TOKEN,
      LOGZIP_INGEST_TOKEN: INGEST_TOKEN,
      LOGZIP_INCOMING_BUCKET: bucket,
      LOGZIP_QUEUE_PREFIX: queuePrefix,
      REDIS_URL: redisUrl,
      AWS_ENDPOINT_URL_S3: requireMoto(),
      AWS_REGION: MOTO_REGION,
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      LOG_LEVEL: 'warn',
    };
    service = startChild(SERVER, {
      ...env,
      LOGZIP_ADMIN_HOST: '127.0.0.1',
      LOGZIP_ADMIN_PORT: String(port),
      LOGZIP_PUBLIC_URL: base,
    });
    await eventually(async () => (await fetch(`${base}/healthz`)).ok, 20_000).catch((error: unknown) => {
      throw new Error(`the admin service did not start: ${String(error)}\n${service.output()}`);
    });
  });

  afterAll(async () => {
    await worker?.stop();
    await service?.stop();
    if (redis !== undefined) {
      const keys = [...(await redis.keys(`${queuePrefix}:*`)), ...(await redis.keys('logzip:*'))];
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
    await database?.release();
    if (s3 !== undefined) {
      await deleteTestBucket(s3, bucket).catch(() => {});
      s3.destroy();
    }
  });

  it('a 200 MiB upload streams through with the service RSS staying flat', { timeout: 180_000 }, async () => {
    // Prepare
    await redis.set('logzip:route', 'lambda');
    const pid = service.process.pid!;
    const warmUp = await put(base, 'warm_up', zipLikeStream(24 * MiB), 24 * MiB); // loads the SDK, multipart path
    expect(warmUp.status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const baseline = rssOf(pid);
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssOf(pid));
    }, 20);
    const size = 200 * MiB;

    // Act
    const started = Date.now();
    const answer = await put(base, 'big_200', zipLikeStream(size), size);
    const seconds = (Date.now() - started) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, rssOf(pid));

    // Assess
    const growth = peak - baseline;
    console.log(
      `[ingest] 200 MiB PUT in ${seconds.toFixed(1)} s (${(200 / seconds).toFixed(0)} MiB/s): service RSS baseline ${(baseline / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB, growth ${(growth / MiB).toFixed(0)} MiB`,
    );
    expect(answer.status).toBe(202);
    const key = shardedArchiveKey('incoming/', 'big_200');
    expect(answer.json).toMatchObject({ logId: 'big_200', key, route: 'lambda', enqueued: false });
    const store = createS3ObjectStore({ client: s3 });
    const stored = await store.head(bucket, key);
    expect(stored?.size).toBe(size);
    expect(stored?.etag).toBe(answer.json.etag);
    expect(growth).toBeLessThan(80 * MiB);
  });

  it('with the queue route the upload is enqueued and a worker extracts it', {
    timeout: 60_000,
  }, async () => {
    // Prepare
    await redis.set('logzip:route', 'queue');
    worker = startChild(WORKER, { ...env, LOGZIP_WORKER_METRICS_PORT: '0', LOGZIP_SWEEP_INTERVAL: '0s' });
    const archive = await buildZip([
      { name: 'app.log', data: 'started\nstopped\n' },
      { name: 'logs/2026-11-28/system.log', data: 'system log\n' },
    ]);

    // Act
    const answer = await put(base, 'queued_77', archive, archive.length);

    // Assess
    const key = shardedArchiveKey('incoming/', 'queued_77');
    expect(answer.status).toBe(202);
    expect(answer.json).toMatchObject({ logId: 'queued_77', key, route: 'queue', enqueued: true });
    const store = createS3ObjectStore({ client: s3 });
    const state = createStateStore({ store, bucket, prefix: 'logzip-state/' });
    const manifest = await eventually(() => state.getManifest('queued_77'), 30_000).catch(
      (error: unknown) => {
        throw new Error(`${String(error)}\nworker output:\n${worker?.output()}`);
      },
    );
    expect(manifest.source.key).toBe(key);
    expect((await store.get(bucket, 'extracted/queued_77/app.log')).toString()).toBe('started\nstopped\n');
    expect((await store.get(bucket, 'extracted/queued_77/logs/2026-11-28/system.log')).toString()).toBe(
      'system log\n',
    );
  });

  it('POST /api/uploads on S3 storage hands out a presigned POST for the sharded key', async () => {
    // Act
    const response = await fetch(`${base}/api/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ logId: 'direct_1' }),
    });
    const ticket = (await response.json()) as {
      method: string;
      url: string;
      fields: Record<string, string>;
      key: string;
    };

    // Assess
    expect(response.status).toBe(200);
    expect(ticket.method).toBe('POST');
    expect(ticket.key).toBe(shardedArchiveKey('incoming/', 'direct_1'));
    expect(ticket.url).toBe(`${requireMoto()}/${bucket}`);
    const policy = JSON.parse(Buffer.from(ticket.fields['Policy']!, 'base64').toString()) as {
      conditions: unknown[];
    };
    expect(policy.conditions).toContainEqual(['content-length-range', 1, 2 * 1024 * MiB]);
  });
});
