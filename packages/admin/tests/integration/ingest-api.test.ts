import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { shardedArchiveKey } from '@logzip/core';
import { createFsObjectStore } from '@logzip/core/fs';
import { createS3ObjectStore } from '@logzip/core/s3';
import {
  createMotoS3Client,
  describeWithMoto,
  describeWithRedis,
  MOTO_CREDENTIALS,
  requireMoto,
  requireRedis,
  type S3FaultProxy,
  startS3FaultProxy,
  writeZip,
} from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { IngestOptions } from '../../src/ingest/index.js';
import { createS3UploadPresigner } from '../../src/ingest/presign.js';
import type { OperationsContext } from '../../src/operations/context.js';
import {
  createHarness,
  goodArchive,
  type Harness,
  INCOMING_PREFIX,
  OUTPUT_PREFIX,
  TOKEN,
} from '../helpers/harness.js';
import { eventually, startTestWorker } from '../helpers/worker.js';

const INGEST_TOKEN = `ingest-${randomUUID()}-${randomUUID()}`;
const MiB = 1024 * 1024;
const MAX_BYTES = 40 * MiB;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers are checked field by field
  json: any;
}

interface CallOptions {
  headers?: Record<string, string>;
  /** A Buffer is sent with its Content-Length; a stream as is (set content-length, or it goes chunked). */
  body?: Buffer | Readable;
  json?: unknown;
}

/**
 * One real HTTP request (not inject: it buffers bodies). The answer is taken as soon as it comes,
 * even while a streamed body is still being sent; the request is then dropped.
 */
function call(base: string, method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    let payload: Buffer | Readable | undefined = options.body;
    if (options.json !== undefined) {
      payload = Buffer.from(JSON.stringify(options.json));
      headers['content-type'] = 'application/json';
    }
    if (Buffer.isBuffer(payload)) headers['content-length'] = String(payload.length);
    // One connection per call: a keep-alive socket still draining a refused body would hold up app.close().
    const request = httpRequest(`${base}${path}`, { method, headers, agent: false });
    let answered = false;
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    request.on('response', (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          json = text;
        }
        if (payload instanceof Readable && !payload.readableEnded) {
          payload.unpipe(request);
          request.destroy();
        }
        resolve({ status: response.statusCode ?? 0, headers: response.headers, json });
      });
    });
    if (payload instanceof Readable) payload.pipe(request);
    else request.end(payload);
  });
}

const ingestAuth = { authorization: `Bearer ${INGEST_TOKEN}` };
const adminAuth = { authorization: `Bearer ${TOKEN}`, 'x-logzip-operator': 'alice' };

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as AddressInfo;
  return `http://127.0.0.1:${address.port}`;
}

async function startService(
  h: Harness,
  options: { ctx?: OperationsContext; ingest?: Partial<IngestOptions> } = {},
): Promise<{ app: FastifyInstance; base: string }> {
  const app = await buildApp({
    ctx: options.ctx ?? h.ctx,
    adminToken: TOKEN,
    redis: h.redis,
    logger: false,
    ingest: { token: INGEST_TOKEN, maxBytes: MAX_BYTES, redis: h.redis, ...options.ingest },
  });
  return { app, base: await listen(app) };
}

/** A body that sends `first` and then nothing more until destroyed: proves an answer came before the body. */
function stalledBody(first: Buffer): PassThrough {
  const body = new PassThrough();
  body.write(first);
  return body;
}

/** `bytes` of a ZIP-looking body (local file header signature, then random bytes). */
function zipLike(bytes: number): Buffer {
  const body = randomBytes(bytes);
  body.write('PK\x03\x04', 0, 'latin1');
  return body;
}

async function keysUnder(h: Harness, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of h.store.list(h.bucket, prefix)) keys.push(object.key);
  return keys;
}

/** Verifies a presigned POST policy the way S3 does for the conditions logzip uses (moto checks none). */
function evaluatePostPolicy(
  fields: Record<string, string>,
  upload: { bucket: string; key: string; size: number; at: Date },
): { signatureValid: boolean; refusals: string[] } {
  const policyText = fields['Policy'] ?? '';
  const date = fields['X-Amz-Date'] ?? '';
  const scope = (fields['X-Amz-Credential'] ?? '').split('/');
  const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
  const signingKey = hmac(
    hmac(hmac(hmac(`AWS4${MOTO_CREDENTIALS.secretAccessKey}`, date.slice(0, 8)), scope[2] ?? ''), 's3'),
    'aws4_request',
  );
  const signatureValid =
    createHmac('sha256', signingKey).update(policyText).digest('hex') === fields['X-Amz-Signature'];
  const policy = JSON.parse(Buffer.from(policyText, 'base64').toString('utf8')) as {
    expiration: string;
    conditions: Array<Record<string, string> | [string, string | number, string | number]>;
  };
  const refusals: string[] = [];
  if (Date.parse(policy.expiration) <= upload.at.getTime()) refusals.push('expired');
  for (const condition of policy.conditions) {
    if (Array.isArray(condition)) {
      if (condition[0] === 'content-length-range') {
        const [, min, max] = condition as [string, number, number];
        if (upload.size < min) refusals.push('EntityTooSmall');
        if (upload.size > max) refusals.push('EntityTooLarge');
      }
    } else {
      const [name, value] = Object.entries(condition)[0] ?? [];
      if (name === 'bucket' && value !== upload.bucket) refusals.push('bucket');
      if (name === 'key' && value !== upload.key) refusals.push('key');
    }
  }
  return { signatureValid, refusals };
}

/**
 * Issue 17 item 4: a PUT of a broken archive over a log ID whose earlier upload was extracted.
 * The broken one passes every central-directory check and fails only while inflating (CRC), the
 * case that used to empty `extracted/<id>/` before the failure was known.
 */
async function reuploadBrokenOverGood(h: Harness, base: string, logId: string): Promise<void> {
  // Prepare: a good upload, extracted by a queue worker
  await h.routes.set('queue');
  const worker = startTestWorker(h, requireRedis());
  try {
    const good = await goodArchive(logId);
    expect(
      (await call(base, 'PUT', `/api/archives/${logId}`, { headers: ingestAuth, body: good })).status,
    ).toBe(202);
    const first = await eventually(() => h.state.getManifest(logId));
    const files = await keysUnder(h, `${OUTPUT_PREFIX}${logId}/`);
    const broken = writeZip([
      { name: 'app.log', data: 'replaced\n'.repeat(100) },
      { name: 'new.log', data: 'new\n'.repeat(100), crc32: 0xdeadbeef },
    ]);

    // Act
    const answer = await call(base, 'PUT', `/api/archives/${logId}`, { headers: ingestAuth, body: broken });
    const failure = await eventually(async () => {
      const record = await h.state.getFailure(logId);
      return record?.state === 'failed' ? record : undefined;
    });

    // Assess: the failure is recorded, the good extraction is untouched
    expect(answer.status).toBe(202);
    expect(failure.code).toBe('crc_mismatch');
    expect(await keysUnder(h, `${OUTPUT_PREFIX}${logId}/`)).toEqual(files);
    expect((await h.store.get(h.bucket, `${OUTPUT_PREFIX}${logId}/app.log`)).toString()).toBe(
      `log of ${logId}\n`,
    );
    expect((await h.state.getManifest(logId))?.source).toEqual(first.source);
  } finally {
    await worker.close();
  }
}

describeWithMoto('ingest API on S3 (moto, real Redis, a listening service)', () => {
  let h: Harness;
  let app: FastifyInstance;
  let base: string;
  let proxy: S3FaultProxy | undefined;

  beforeEach(async () => {
    h = await createHarness({ storage: 's3' });
    ({ app, base } = await startService(h, {
      ingest: { presigner: createS3UploadPresigner(h.s3!), publicUrl: 'https://logzip.example' },
    }));
  });

  afterEach(async () => {
    await app.close();
    await proxy?.close();
    proxy = undefined;
    await h.close();
  });

  /** The same service, with its S3 calls going through the fault proxy (to count PUTs). */
  async function serviceThroughProxy(): Promise<{
    base: string;
    proxy: S3FaultProxy;
    close(): Promise<void>;
  }> {
    proxy = await startS3FaultProxy({ target: requireMoto() });
    const client = createMotoS3Client({ endpoint: proxy.url });
    const ctx: OperationsContext = { ...h.ctx, store: createS3ObjectStore({ client }) };
    const service = await startService(h, { ctx });
    return { base: service.base, proxy, close: () => service.app.close() };
  }

  function objectPuts(p: S3FaultProxy, key: string): number {
    return p.requests.filter(
      (r) => (r.method === 'PUT' || r.method === 'POST') && r.path === `/${h.bucket}/${key}`,
    ).length;
  }

  it('bug (issue 17 #4): a PUT of a broken archive over a good log ID emptied extracted/<id>/; the extraction is kept', async () => {
    await reuploadBrokenOverGood(h, base, `keep_${randomUUID().slice(0, 8)}`);
  });

  it('PUT streams the archive to incoming/<ab>/<cd>/<logId>.zip and answers 202 with key, ETag and route', async () => {
    // Prepare
    await h.routes.set('queue');
    const archive = await goodArchive('54321');

    // Act
    const answer = await call(base, 'PUT', '/api/archives/54321', {
      headers: { ...ingestAuth, 'content-type': 'application/zip' },
      body: archive,
    });

    // Assess
    const key = shardedArchiveKey(INCOMING_PREFIX, '54321');
    expect(key).toMatch(/^incoming\/[0-9a-f]{2}\/[0-9a-f]{2}\/54321\.zip$/);
    expect(answer.status).toBe(202);
    const stored = await h.store.head(h.bucket, key);
    expect(answer.json).toEqual({ logId: '54321', key, etag: stored?.etag, route: 'queue', enqueued: true });
    expect(Object.keys(answer.json)).toEqual(['logId', 'key', 'etag', 'route', 'enqueued']);
    expect(await h.store.get(h.bucket, key)).toEqual(archive);
    expect(await h.producer.getJobState('54321')).toBe('waiting');
  });

  it('a body that is not a ZIP is refused with 415 and nothing is stored', async () => {
    // Prepare
    const service = await serviceThroughProxy();
    const text = Buffer.from('this is a log file, not an archive\n'.repeat(2000));

    // Act
    const answer = await call(service.base, 'PUT', '/api/archives/777', {
      headers: { ...ingestAuth, 'content-type': 'application/zip' },
      body: text,
    });

    // Assess
    expect(answer.status).toBe(415);
    expect(answer.json.error.code).toBe('unsupported_media_type');
    expect(await keysUnder(h, INCOMING_PREFIX)).toEqual([]);
    expect(service.proxy.requests.filter((r) => r.method === 'PUT' || r.method === 'POST')).toEqual([]);
    await service.close();
  });

  it('refuses before reading the body: 411 without Content-Length, 413 over LOGZIP_INGEST_MAX_BYTES', async () => {
    // Prepare
    const chunked = Readable.from([zipLike(64 * 1024)]);
    const tooLarge = stalledBody(zipLike(1024));

    // Act
    const noLength = await call(base, 'PUT', '/api/archives/411', { headers: ingestAuth, body: chunked });
    const over = await call(base, 'PUT', '/api/archives/413', {
      headers: { ...ingestAuth, 'content-length': String(MAX_BYTES + 1) },
      body: tooLarge,
    });

    // Assess
    expect(noLength.status).toBe(411);
    expect(noLength.json.error.code).toBe('length_required');
    // Only 1 KiB of the declared 40 MiB was ever sent: the answer did not wait for the body.
    expect(over.status).toBe(413);
    expect(over.json.error.code).toBe('payload_too_large');
    tooLarge.destroy();
    expect(await keysUnder(h, INCOMING_PREFIX)).toEqual([]);
  });

  it('bad log IDs get 400 invalid_request with a message, never a stack trace', async () => {
    // Prepare
    const archive = await goodArchive('x');
    const bad = ['a.b', 'x'.repeat(65), 'ab-cd', '%C3%A9t%C3%A9'];

    // Act
    const answers = await Promise.all(
      bad.map((logId) => call(base, 'PUT', `/api/archives/${logId}`, { headers: ingestAuth, body: archive })),
    );

    // Assess
    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(Object.keys(answer.json)).toEqual(['error']);
      expect(answer.json.error.code).toBe('invalid_request');
      expect(answer.json.error.message).not.toMatch(/\n\s+at /);
    }
    // `ab-cd.zip` would read back as log ID `ab` under the default pattern: refused, not mis-stored.
    expect(answers[2]!.json.error.message).toContain('"ab"');
    expect(await keysUnder(h, INCOMING_PREFIX)).toEqual([]);
  });

  it('a retried upload with the same Idempotency-Key stores once and gets the first answer', async () => {
    // Prepare
    const service = await serviceThroughProxy();
    await h.routes.set('lambda');
    const archive = await goodArchive('9001');
    const key = shardedArchiveKey(INCOMING_PREFIX, '9001');
    const headers = { ...ingestAuth, 'idempotency-key': randomUUID() };

    // Act
    const first = await call(service.base, 'PUT', '/api/archives/9001', { headers, body: archive });
    const stored = await h.store.head(h.bucket, key);
    const retry = await call(service.base, 'PUT', '/api/archives/9001', { headers, body: archive });
    const otherLogId = await call(service.base, 'PUT', '/api/archives/9002', { headers, body: archive });

    // Assess
    expect(first.status).toBe(202);
    expect(retry.status).toBe(202);
    expect(retry.json).toEqual(first.json);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(objectPuts(service.proxy, key)).toBe(1);
    expect((await h.store.head(h.bucket, key))?.lastModified).toEqual(stored?.lastModified);
    expect(otherLogId.status).toBe(409);
    expect(otherLogId.json.error.code).toBe('conflict');
    await service.close();
  });

  it('an answer given before the body is read reaches a client that asked to close the connection', async () => {
    // Closing a socket with unread bytes resets it, and a reset can destroy the answer in flight: the
    // service keeps the connection while it drops the rest of the body. (On localhost the race rarely
    // shows; cli-upload.test.ts meets it through a TCP proxy, where it failed every retry.)
    // Prepare
    await h.routes.set('lambda');
    const archive = await goodArchive('7007');
    const headers = { ...ingestAuth, 'idempotency-key': randomUUID(), connection: 'close' };
    const first = await call(base, 'PUT', '/api/archives/7007', { headers, body: archive });
    const bigRetry = zipLike(24 * MiB);

    // Act
    const retries = [];
    for (let i = 0; i < 5; i++) {
      retries.push(await call(base, 'PUT', '/api/archives/7007', { headers, body: bigRetry }));
    }

    // Assess: each retry is refused before its body is read (its size differs from the first
    // upload's: 422), and that early answer arrives every time
    expect(first.status).toBe(202);
    for (const retry of retries) {
      expect(retry.status).toBe(422);
      expect(retry.json).toMatchObject({ error: { code: 'idempotency_key_reused' } });
    }
  });

  it('concurrent duplicates with one Idempotency-Key store once (SET NX lease)', async () => {
    // Prepare
    const service = await serviceThroughProxy();
    await h.routes.set('lambda');
    const archive = Buffer.concat([await goodArchive('4242'), randomBytes(3 * MiB)]);
    const key = shardedArchiveKey(INCOMING_PREFIX, '4242');
    const headers = { ...ingestAuth, 'idempotency-key': randomUUID() };

    // Act
    const answers = await Promise.all(
      [1, 2, 3, 4].map(() => call(service.base, 'PUT', '/api/archives/4242', { headers, body: archive })),
    );
    const after = await call(service.base, 'PUT', '/api/archives/4242', { headers, body: archive });

    // Assess
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 202).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 202 || s === 409)).toBe(true);
    for (const answer of answers.filter((a) => a.status === 409)) {
      expect(answer.json.error.code).toBe('conflict');
      expect(answer.headers['retry-after']).toBeDefined();
    }
    expect(after.status).toBe(202);
    expect(after.headers['idempotent-replayed']).toBe('true');
    expect(objectPuts(service.proxy, key)).toBe(1);
    await service.close();
  });

  it('a client that disconnects mid-body leaves no archive and no multipart upload behind', async () => {
    // Prepare
    const declared = 30 * MiB;
    const body = stalledBody(zipLike(12 * MiB));
    const idempotencyKey = randomUUID();
    const request = httpRequest(`${base}/api/archives/31337`, {
      method: 'PUT',
      headers: { ...ingestAuth, 'content-length': String(declared), 'idempotency-key': idempotencyKey },
    });
    request.on('error', () => {});
    body.pipe(request);

    // Act
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    request.destroy();

    // Assess
    await eventually(async () => {
      const uploads = await h.s3!.send(new ListMultipartUploadsCommand({ Bucket: h.bucket }));
      return (uploads.Uploads ?? []).length === 0;
    });
    expect(await keysUnder(h, INCOMING_PREFIX)).toEqual([]);
    // The lease is released: the retry uploads (instead of 409 "still running").
    const archive = await goodArchive('31337');
    const retry = await eventually(async () => {
      const answer = await call(base, 'PUT', '/api/archives/31337', {
        headers: { ...ingestAuth, 'idempotency-key': idempotencyKey },
        body: archive,
      });
      return answer.status === 409 ? undefined : answer;
    });
    expect(retry.status).toBe(202);
    expect(await h.store.get(h.bucket, shardedArchiveKey(INCOMING_PREFIX, '31337'))).toEqual(archive);
  });

  it('wrong or missing tokens are refused; the admin token cannot ingest', async () => {
    // Prepare
    const archive = await goodArchive('1');
    const tries: Array<[string, string, Record<string, string>, CallOptions]> = [
      ['PUT', '/api/archives/1', {}, { body: archive }],
      [
        'PUT',
        '/api/archives/1',
        { authorization: 'Bearer wrong-token-wrong-token-wrong-token' },
        { body: archive },
      ],
      ['PUT', '/api/archives/1', adminAuth, { body: archive }],
      ['POST', '/api/archives', adminAuth, { json: { key: shardedArchiveKey(INCOMING_PREFIX, '1') } }],
      ['POST', '/api/uploads', adminAuth, { json: { logId: '1' } }],
      ['POST', '/api/uploads', { authorization: `Basic ${INGEST_TOKEN}` }, { json: { logId: '1' } }],
    ];

    // Act
    const answers = [];
    for (const [method, path, headers, options] of tries) {
      answers.push(await call(base, method, path, { ...options, headers }));
    }

    // Assess
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer.json.error.code).toBe('unauthorized');
    }
    expect(await keysUnder(h, INCOMING_PREFIX)).toEqual([]);
  });

  it('the ingest token reaches no admin route', async () => {
    // Prepare
    const tries: Array<[string, string, CallOptions]> = [
      ['GET', '/api/route', {}],
      ['POST', '/api/route', { json: { route: 'queue', reason: 'ingest token' } }],
      ['GET', '/api/failures', {}],
      ['GET', '/api/overview', {}],
      ['GET', '/api/archives/54321', {}],
      ['POST', '/api/reenqueue', { json: { logIds: ['54321'] } }],
      ['POST', '/api/purge', { json: { logIds: ['54321'] } }],
      ['GET', '/api/audit', {}],
      ['GET', '/queues', {}],
      ['GET', '/', {}],
      ['GET', '/failures', {}],
    ];
    await h.routes.set('lambda');

    // Act
    const answers = [];
    for (const [method, path, options] of tries) {
      answers.push({ path, answer: await call(base, method, path, { ...options, headers: ingestAuth }) });
    }

    // Assess
    for (const { path, answer } of answers) {
      expect({ path, status: answer.status }).toEqual({ path, status: 401 });
    }
    expect(await h.routes.get()).toBe('lambda');
  });

  it('calls beyond the per-token rate limit get 429 rate_limited', async () => {
    // Prepare
    const limited = await startService(h, { ingest: { rateLimit: { max: 3, timeWindowMs: 60_000 } } });
    const ask = () =>
      call(limited.base, 'POST', '/api/uploads', { headers: ingestAuth, json: { logId: '5' } });

    // Act
    const answers = [await ask(), await ask(), await ask(), await ask()];

    // Assess
    expect(answers.slice(0, 3).map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers[3]!.status).toBe(429);
    expect(answers[3]!.json.error.code).toBe('rate_limited');
    expect(Number(answers[3]!.headers['retry-after'])).toBeGreaterThan(0);
    await limited.app.close();
  });

  it('POST /api/archives refuses keys outside the incoming bucket and prefix, and bad names', async () => {
    // Prepare
    const tries: Array<[unknown, number, string]> = [
      [{ key: 'extracted/54321.zip' }, 400, 'key_outside_prefix'],
      [{ key: 'logzip-state/x/54321.zip' }, 400, 'key_outside_prefix'],
      [{ key: 'incoming/../extracted/54321.zip' }, 400, 'key_outside_prefix'],
      [{ key: 'incoming/ab/cd/54321.zip', bucket: 'someone-elses-bucket' }, 400, 'key_outside_prefix'],
      [{ key: 'incoming/ab/cd/not a log.zip' }, 400, 'invalid_request'],
      [{ key: 'incoming/ab/cd/54321.tar.gz' }, 400, 'invalid_request'],
      [{ key: 'incoming/ab/cd/54321.zip', logId: '12345' }, 400, 'invalid_request'],
      [{ key: 'incoming/ab/cd/54321.zip', logId: 'bad id' }, 400, 'invalid_request'],
      [{ key: 'incoming/ab/cd/54321.zip', extra: true }, 400, 'invalid_request'],
      [{}, 400, 'invalid_request'],
      [{ key: 'incoming/ab/cd/54321.zip' }, 404, 'not_found'],
    ];

    // Act
    const answers = [];
    for (const [json] of tries)
      answers.push(await call(base, 'POST', '/api/archives', { headers: ingestAuth, json }));

    // Assess
    answers.forEach((answer, i) => {
      const [json, status, code] = tries[i]!;
      expect({ json, status: answer.status, code: answer.json.error?.code }).toEqual({ json, status, code });
    });
    expect(answers[6]!.json.error.message).toContain('"54321"');
  });

  it('POST /api/archives dispatches by route: queue enqueues, lambda leaves it to the trigger, unknown enqueues', async () => {
    // Prepare
    const keys = {
      queue: 'incoming/upload-server/2026/11/111-2026-11-28.zip',
      lambda: 'incoming/upload-server/2026/11/222.zip',
      unknown: 'incoming/upload-server/2026/11/333-retry.ZIP',
    };
    for (const key of Object.values(keys)) await h.upload(key, await goodArchive(key));

    // Act
    await h.routes.set('queue');
    const queued = await call(base, 'POST', '/api/archives', {
      headers: ingestAuth,
      json: { key: keys.queue, bucket: h.bucket, logId: '111' },
    });
    const again = await call(base, 'POST', '/api/archives', {
      headers: ingestAuth,
      json: { key: keys.queue },
    });
    await h.routes.set('lambda');
    const lambda = await call(base, 'POST', '/api/archives', {
      headers: ingestAuth,
      json: { key: keys.lambda },
    });
    await h.redis.del('logzip:route');
    const unknown = await call(base, 'POST', '/api/archives', {
      headers: ingestAuth,
      json: { key: keys.unknown },
    });

    // Assess
    expect([queued.status, again.status, lambda.status, unknown.status]).toEqual([202, 202, 202, 202]);
    expect(queued.json).toEqual({ logId: '111', key: keys.queue, route: 'queue', enqueued: true });
    expect(Object.keys(queued.json)).toEqual(['logId', 'key', 'route', 'enqueued']);
    expect(again.json).toEqual(queued.json);
    expect(lambda.json).toEqual({ logId: '222', key: keys.lambda, route: 'lambda', enqueued: false });
    expect(unknown.json).toEqual({ logId: '333', key: keys.unknown, route: 'queue', enqueued: true });
    const jobs = await h.producer.queue.getJobs(['waiting']);
    expect(jobs.map((j) => [j.data.logId, j.data.key, j.data.reason]).sort()).toEqual([
      ['111', keys.queue, 'upload'],
      ['333', keys.unknown, 'upload'],
    ]);
    expect(await h.producer.getJobState('222')).toBeUndefined();
  });

  it('POST /api/uploads hands out a presigned POST that moto accepts; its policy caps the size', async () => {
    // Prepare
    const archive = await goodArchive('8080');
    const key = shardedArchiveKey(INCOMING_PREFIX, '8080');

    // Act
    const ticket = await call(base, 'POST', '/api/uploads', { headers: ingestAuth, json: { logId: '8080' } });
    const post = (file: Buffer) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(ticket.json.fields as Record<string, string>))
        form.append(name, value);
      form.append('file', new Blob([file]), '8080.zip');
      return fetch(ticket.json.url, { method: 'POST', body: form });
    };
    const within = await post(archive);
    const storedWithin = await h.store.get(h.bucket, key);
    const overSize = Buffer.concat([archive, Buffer.alloc(MAX_BYTES + 1 - archive.length)]);
    const over = await post(overSize);
    const tooLargeAsked = await call(base, 'POST', '/api/uploads', {
      headers: ingestAuth,
      json: { logId: '8080', size: MAX_BYTES + 1 },
    });

    // Assess
    expect(ticket.status).toBe(200);
    expect(ticket.json).toMatchObject({ method: 'POST', key });
    expect(ticket.json.fields.key).toBe(key);
    const expiresIn = Date.parse(ticket.json.expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(10 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(15 * 60_000);
    expect(within.status).toBe(204);
    expect(storedWithin).toEqual(archive);
    const at = new Date();
    const withinPolicy = evaluatePostPolicy(ticket.json.fields, {
      bucket: h.bucket,
      key,
      size: archive.length,
      at,
    });
    const overPolicy = evaluatePostPolicy(ticket.json.fields, {
      bucket: h.bucket,
      key,
      size: overSize.length,
      at,
    });
    expect(withinPolicy).toEqual({ signatureValid: true, refusals: [] });
    expect(overPolicy).toEqual({ signatureValid: true, refusals: ['EntityTooLarge'] });
    // moto 5.2.1 evaluates no POST policy condition (size, key, signature, expiry: checked by hand
    // above, with S3's rules); AWS answers 400 EntityTooLarge. Either way the over-size body is refused
    // by the signed policy; when moto stores it anyway, say so.
    if (over.status === 204) {
      console.log(
        '[ingest] moto accepted a presigned POST over its content-length-range (moto does not enforce POST policies)',
      );
    } else {
      expect(over.status).toBe(400);
    }
    expect(tooLargeAsked.status).toBe(413);
  });
});

describeWithRedis('ingest API on folders (LOGZIP_STORAGE_DIR, real Redis, a listening service)', () => {
  let h: Harness;
  let app: FastifyInstance;
  let base: string;
  let root: string;

  beforeEach(async () => {
    h = await createHarness({ storage: 'fs' });
    // A store whose folder the test knows, to look for temporary files.
    root = await mkdtemp(join(tmpdir(), 'logzip-ingest-'));
    const store = createFsObjectStore({ rootDir: root });
    h = { ...h, store };
    ({ app, base } = await startService(h, {
      ctx: { ...h.ctx, store },
      ingest: { publicUrl: 'https://logzip.example/admin' },
    }));
  });

  afterEach(async () => {
    await app.close();
    await h.close();
    await rm(root, { recursive: true, force: true });
  });

  it('bug (issue 17 #4): a PUT of a broken archive over a good log ID emptied extracted/<id>/; the extraction is kept', async () => {
    await reuploadBrokenOverGood(h, base, `keep_${randomUUID().slice(0, 8)}`);
  });

  it('POST /api/uploads hands out the PUT URL, and a PUT there stores the archive', async () => {
    // Prepare
    await h.routes.set('lambda');
    const archive = await goodArchive('abc_123');

    // Act
    const ticket = await call(base, 'POST', '/api/uploads', {
      headers: ingestAuth,
      json: { logId: 'abc_123' },
    });
    const path = new URL(ticket.json.url).pathname.replace(/^\/admin/, '');
    const put = await call(base, 'PUT', path, { headers: ingestAuth, body: archive });

    // Assess
    const key = shardedArchiveKey(INCOMING_PREFIX, 'abc_123');
    expect(ticket.json).toEqual({
      method: 'PUT',
      url: 'https://logzip.example/admin/api/archives/abc_123',
      key,
      expiresAt: null,
    });
    expect(put.status).toBe(202);
    expect(put.json).toMatchObject({ logId: 'abc_123', key, route: 'lambda', enqueued: false });
    expect(await h.store.get(h.bucket, key)).toEqual(archive);
  });

  it('an upload cut off mid-body leaves no file, not even a temporary one', async () => {
    // Prepare
    const body = stalledBody(zipLike(4 * MiB));
    const request = httpRequest(`${base}/api/archives/cut_off`, {
      method: 'PUT',
      headers: { ...ingestAuth, 'content-length': String(20 * MiB) },
    });
    request.on('error', () => {});
    body.pipe(request);

    // Act
    await new Promise((resolve) => setTimeout(resolve, 500));
    request.destroy();

    // Assess
    const key = shardedArchiveKey(INCOMING_PREFIX, 'cut_off');
    const shardDir = join(root, h.bucket, key.slice(0, key.lastIndexOf('/')));
    const leftovers = await eventually(async () => {
      const names = await readdir(shardDir).catch(() => [] as string[]);
      return names.some((n) => n.startsWith('.logzip-tmp')) ? undefined : names;
    });
    expect(leftovers).toEqual([]);
    expect(await keysUnder(h, INCOMING_PREFIX)).toEqual([]);
  });
});
