import { connect, type Socket } from 'node:net';
import { shardedArchiveKey } from '@logzip/core';
import { describeWithRedis } from '@logzip/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { ClientLimits } from '../../src/http/slow-clients.js';
import { createHarness, goodArchive, type Harness, TOKEN } from '../helpers/harness.js';

const INGEST_TOKEN = 'ingest-token-for-slow-client-tests-0123456789';
/** Short enough for a test, long enough that a loaded machine does not cut honest requests. */
const LIMITS: ClientLimits = {
  requestTimeoutMs: 1500,
  ingestRequestTimeoutMs: 60_000,
  maxConnectionsPerAddress: 4,
};
/** How long after the configured timeout the server may take to close (timer + Node's check interval). */
const CLOSE_DEADLINE_MS = LIMITS.requestTimeoutMs * 3;

interface Trickle {
  socket: Socket;
  /** What the server sent back so far. */
  received(): string;
  /** Resolves with the ms between the end of the headers and the server closing the socket. */
  closed: Promise<number>;
  stop(): void;
}

/** A raw socket that sends `head` and then one byte of `body` every `everyMs`, until stopped or closed. */
function trickle(base: string, head: string, body: Buffer, everyMs: number): Trickle {
  const url = new URL(base);
  const socket = connect(Number(url.port), url.hostname);
  let received = '';
  let sent = 0;
  let headersAt = Date.now();
  let timer: NodeJS.Timeout | undefined;
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
  });
  socket.on('error', () => {});
  socket.on('connect', () => {
    socket.write(head);
    headersAt = Date.now();
    timer = setInterval(() => {
      if (sent >= body.length || socket.destroyed) return;
      socket.write(body.subarray(sent, sent + 1));
      sent += 1;
    }, everyMs);
  });
  const closed = new Promise<number>((resolve) => {
    socket.on('close', () => {
      clearInterval(timer);
      resolve(Date.now() - headersAt);
    });
  });
  return {
    socket,
    received: () => received,
    closed,
    stop() {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

/** Waits for `promise` at most `ms`; undefined when it did not settle in time. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describeWithRedis('regression (issue 17): slow bodies held connections forever (real sockets)', () => {
  let h: Harness;
  let app: FastifyInstance;
  let base: string;
  const open: Trickle[] = [];

  beforeEach(async () => {
    h = await createHarness({ storage: 'fs', trigger: 'local' });
    app = await buildApp({
      ctx: h.ctx,
      adminToken: TOKEN,
      redis: h.redis,
      logger: false,
      clientLimits: LIMITS,
      ingest: { token: INGEST_TOKEN },
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });

  afterEach(async () => {
    for (const t of open.splice(0)) t.stop();
    await app?.close();
    await h?.close();
  });

  it('POST /login with a body trickled one byte at a time is cut within the request timeout', async () => {
    // Prepare
    const body = Buffer.alloc(5000, 'a');
    const head = `POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`;

    // Act: 5,000 bytes at one per 100 ms would take 500 s
    const t = trickle(base, head, body, 100);
    open.push(t);
    const elapsed = await within(t.closed, CLOSE_DEADLINE_MS);

    // Assess
    expect(elapsed, 'the server kept the connection open').toBeDefined();
    expect(elapsed).toBeGreaterThanOrEqual(LIMITS.requestTimeoutMs - 50);
  });

  it('POST /api/route answered 401 at once, then its trickled body is cut within the request timeout', async () => {
    // Prepare
    const body = Buffer.alloc(5000, ' ');
    const head = `POST /api/route HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;

    // Act
    const t = trickle(base, head, body, 100);
    open.push(t);
    const elapsed = await within(t.closed, CLOSE_DEADLINE_MS);

    // Assess
    expect(t.received()).toMatch(/^HTTP\/1\.1 401/);
    expect(elapsed, 'the server kept the connection open').toBeDefined();
    expect(elapsed).toBeGreaterThanOrEqual(LIMITS.requestTimeoutMs - 50);
  });

  it('headers trickled one line at a time are cut within the request timeout', async () => {
    // Prepare
    const head = 'GET /login HTTP/1.1\r\nHost: x\r\n';
    const lines = Buffer.from('X-Slow: 1\r\n'.repeat(1000));

    // Act
    const t = trickle(base, head, lines, 100);
    open.push(t);
    const elapsed = await within(t.closed, CLOSE_DEADLINE_MS);

    // Assess
    expect(elapsed, 'the server kept the connection open').toBeDefined();
  });

  it('an upload slower than the request timeout still succeeds (ingest keeps its own, longer limit)', async () => {
    // Prepare: the archive arrives in 30 pieces spread over twice the admin request timeout
    const zip = await goodArchive('54321');
    const head = `PUT /api/archives/54321 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${INGEST_TOKEN}\r\nContent-Type: application/zip\r\nContent-Length: ${zip.length}\r\nConnection: close\r\n\r\n`;
    const pieces = 30;
    const pieceBytes = Math.ceil(zip.length / pieces);
    const everyMs = Math.ceil((LIMITS.requestTimeoutMs * 2) / pieces);
    const url = new URL(base);
    const socket = connect(Number(url.port), url.hostname);
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const started = Date.now();

    // Act
    socket.write(head);
    for (let at = 0; at < zip.length; at += pieceBytes) {
      await new Promise((resolve) => setTimeout(resolve, everyMs));
      socket.write(zip.subarray(at, at + pieceBytes));
    }
    await closed;

    // Assess
    expect(Date.now() - started).toBeGreaterThan(LIMITS.requestTimeoutMs);
    expect(received).toMatch(/^HTTP\/1\.1 202/);
    expect(received).toContain('"logId":"54321"');
    expect(await h.store.head(h.bucket, shardedArchiveKey('incoming/', '54321'))).toBeDefined();
  });

  it('connections beyond the per-address limit are closed at once; the others keep working', async () => {
    // Prepare
    const url = new URL(base);
    const sockets: Socket[] = [];
    const opened = async (): Promise<Socket> => {
      const socket = connect(Number(url.port), url.hostname);
      socket.on('error', () => {});
      sockets.push(socket);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      return socket;
    };
    try {
      for (let i = 0; i < LIMITS.maxConnectionsPerAddress; i++) await opened();

      // Act
      const extra = await opened();
      const extraClosed = await within(
        new Promise<boolean>((resolve) => extra.once('close', () => resolve(true))),
        CLOSE_DEADLINE_MS,
      );
      const first = sockets[0]!;
      const answer = new Promise<string>((resolve) =>
        first.once('data', (d: Buffer) => resolve(d.toString())),
      );
      first.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');

      // Assess
      expect(extraClosed).toBe(true);
      expect(await within(answer, CLOSE_DEADLINE_MS)).toMatch(/^HTTP\/1\.1 200/);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });
});
