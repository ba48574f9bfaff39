import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { buildZip, describeWithRedis } from '@logzip/test-utils';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type BuildAppOptions, buildApp } from '../../src/app.js';
import { createHarness, type Harness, TOKEN } from '../helpers/harness.js';
import { HttpSession, sendRaw } from '../helpers/http-client.js';

const INGEST_TOKEN = 'ingest-token-for-hardening-tests-0123456789';
const SECRET = `secret-${randomUUID()}`;

/** A pino logger whose JSON lines are kept in memory. */
function memoryLogger(): { logger: FastifyBaseLogger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((line) => line !== ''),
      );
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink) as unknown as FastifyBaseLogger, lines };
}

function isErrorShape(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    return (
      Object.keys(parsed).length === 1 &&
      typeof parsed.error?.code === 'string' &&
      typeof parsed.error.message === 'string'
    );
  } catch {
    return false;
  }
}

describeWithRedis('regression (issue 17, the Low items): real listening server', () => {
  let h: Harness;
  let app: FastifyInstance | undefined;
  let base: string;

  async function listen(overrides: Partial<BuildAppOptions> = {}): Promise<string> {
    app = await buildApp({
      ctx: h.ctx,
      adminToken: TOKEN,
      redis: h.redis,
      logger: false,
      ingest: { token: INGEST_TOKEN },
      ...overrides,
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    return base;
  }

  beforeEach(async () => {
    h = await createHarness({ storage: 'fs', trigger: 'local' });
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await h?.close();
  });

  it('`next` after login with control characters or backslashes lands on this site, never a 500', async () => {
    // Prepare
    await listen({ loginRateLimit: { max: 100, timeWindowMs: 60_000 } });
    const hostile = [
      '/\t/evil.test',
      '/\n/evil.test',
      '/\\evil.test',
      '/x\\..\\..\\/evil.test',
      '/%09/evil.test',
      '/\r\nSet-Cookie: x=1',
      '/é/ünïcode',
      '/\u2028/evil.test',
      '/\u0000',
      '//evil.test',
      'https://evil.test/',
    ];

    // Act
    const answers = [];
    for (const next of hostile) {
      const browser = new HttpSession(base);
      const csrf = await browser.csrf('/login');
      const answer = await browser.postForm('/login', { _csrf: csrf, operator: 'alice', token: TOKEN, next });
      answers.push({ next, status: answer.status, location: String(answer.headers.location ?? '') });
    }

    // Assess
    for (const answer of answers) {
      expect(answer.status, JSON.stringify(answer)).toBe(303);
      expect(answer.location, JSON.stringify(answer)).toMatch(/^\/(?![/\\])/);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
      expect(answer.location, JSON.stringify(answer)).not.toMatch(/[\u0000-\u001f\u007f\\]/);
      const resolved = new URL(answer.location, 'http://admin.example');
      expect(resolved.host, JSON.stringify(answer)).toBe('admin.example');
    }
  });

  it('an Idempotency-Key reused with a different body is 422 idempotency_key_reused; the same body is replayed', async () => {
    // Prepare
    await listen();
    const first = await buildZip([{ name: 'a.log', data: 'first upload\n' }]);
    const sameSize = await buildZip([{ name: 'a.log', data: 'other upload\n' }]);
    const bigger = await buildZip([{ name: 'a.log', data: 'a longer, different upload\n' }]);
    expect(sameSize.length).toBe(first.length);
    const key = randomUUID();
    const put = (body: Buffer) =>
      fetch(`${base}/api/archives/54321`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'idempotency-key': key },
        body,
      });

    // Act
    const stored = await put(first);
    const sameBody = await put(first);
    const otherBodySameSize = await put(sameSize);
    const otherSize = await put(bigger);

    // Assess
    expect(stored.status).toBe(202);
    expect(sameBody.status).toBe(202);
    expect(sameBody.headers.get('idempotent-replayed')).toBe('true');
    for (const refused of [otherBodySameSize, otherSize]) {
      expect(refused.status).toBe(422);
      expect(await refused.json()).toMatchObject({ error: { code: 'idempotency_key_reused' } });
    }
  });

  it('secrets in the query string never reach the request log', async () => {
    // Prepare
    const { logger, lines } = memoryLogger();
    await listen({ logger });

    // Act
    await sendRaw(base, { method: 'GET', path: `/api/route?token=${SECRET}` });
    await sendRaw(base, {
      method: 'GET',
      path: `/login?next=%2F&access_token=${SECRET}&X-Amz-Signature=${SECRET}`,
    });
    await app?.close();
    app = undefined;

    // Assess
    const requestLines = lines.filter((line) => line.includes('incoming request'));
    expect(requestLines.length).toBeGreaterThanOrEqual(2);
    expect(lines.join('\n')).not.toContain(SECRET);
    expect(requestLines.join('\n')).toContain('token=[redacted]');
  });

  it('sends HSTS when LOGZIP_PUBLIC_URL is https, and not over plain http', async () => {
    // Prepare
    await listen({ publicUrl: 'https://logzip.example' });
    const secure = await sendRaw(base, { method: 'GET', path: '/login' });
    await app?.close();
    await listen({ publicUrl: 'http://127.0.0.1:8080' });

    // Act
    const plain = await sendRaw(base, { method: 'GET', path: '/login' });

    // Assess
    expect(secure.headers['strict-transport-security']).toBe('max-age=31536000');
    expect(plain.headers['strict-transport-security']).toBeUndefined();
  });

  it("Fastify's and bull-board's own errors use the documented {error:{code,message}} shape", async () => {
    // Prepare
    await listen({ queues: [h.producer.queue] });
    const auth = { authorization: `Bearer ${TOKEN}` };

    // Act
    const badUrl = await sendRaw(base, { method: 'GET', path: '/%zz' });
    const badApiUrl = await sendRaw(base, { method: 'GET', path: '/api/%zz', headers: auth });
    const boardWrite = await sendRaw(base, {
      method: 'PUT',
      path: '/queues/api/queues/x/pause',
      headers: auth,
    });
    const url = new URL(base);
    const socket = connect(Number(url.port), url.hostname);
    let malformed = '';
    socket.on('data', (chunk: Buffer) => {
      malformed += chunk.toString('utf8');
    });
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /x HTTP/1.1\r\nHost x\r\nNot a header\r\n\r\n');
    await new Promise((resolve) => socket.once('close', resolve));

    // Assess
    expect(badUrl.status).toBe(400);
    expect(isErrorShape(badUrl.body), badUrl.body).toBe(true);
    expect(badApiUrl.status).toBe(400);
    expect(isErrorShape(badApiUrl.body), badApiUrl.body).toBe(true);
    expect(boardWrite.status).toBe(403);
    expect(JSON.parse(boardWrite.body)).toMatchObject({ error: { code: 'forbidden' } });
    expect(isErrorShape(boardWrite.body), boardWrite.body).toBe(true);
    expect(malformed).toMatch(/^HTTP\/1\.1 400/);
    expect(isErrorShape(malformed.slice(malformed.indexOf('\r\n\r\n') + 4)), malformed).toBe(true);
  });
});
