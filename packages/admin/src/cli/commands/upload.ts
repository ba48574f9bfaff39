import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LOG_ID_RE } from '@logzip/core';
import { adminEnvSchema } from '../../config.js';
import { usageOnError } from '../args.js';
import { EXIT, ExitError, usageError } from '../exit.js';
import { type CliIo, createProgressBar, printJson } from '../io.js';

/** The longest wait between two attempts (the backoff doubles from LOGZIP_UPLOAD_BACKOFF, jittered). */
const MAX_BACKOFF_MS = 30_000;
/** A connection that moves no byte for this long counts as a network failure (and is retried). */
const SOCKET_IDLE_MS = 5 * 60_000;
/** Longest Retry-After honoured: a longer one is a reason to stop, not to wait. */
const MAX_RETRY_AFTER_MS = 60_000;

/** One attempt's outcome. */
type Attempt =
  | { kind: 'answer'; status: number; body: unknown; retryAfterMs: number | undefined }
  | { kind: 'network'; message: string };

interface UploadTarget {
  url: URL;
  token: string;
  file: string;
  size: number;
  idempotencyKey: string;
}

interface UploadSettings {
  baseUrl: URL;
  token: string;
  attempts: number;
  backoffMs: number;
}

/** The variables `logzip upload` reads, parsed by the admin's schema (one default each). */
const uploadEnvSchema = adminEnvSchema.pick({
  LOGZIP_ADMIN_URL: true,
  LOGZIP_INGEST_TOKEN: true,
  LOGZIP_UPLOAD_ATTEMPTS: true,
  LOGZIP_UPLOAD_BACKOFF: true,
});

function readSettings(env: Record<string, string | undefined>): UploadSettings {
  const raw = {
    LOGZIP_ADMIN_URL: env['LOGZIP_ADMIN_URL'],
    LOGZIP_INGEST_TOKEN: env['LOGZIP_INGEST_TOKEN'],
    LOGZIP_UPLOAD_ATTEMPTS: env['LOGZIP_UPLOAD_ATTEMPTS'],
    LOGZIP_UPLOAD_BACKOFF: env['LOGZIP_UPLOAD_BACKOFF'],
  };
  const parsed = uploadEnvSchema.safeParse(raw);
  const errors = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  for (const name of ['LOGZIP_ADMIN_URL', 'LOGZIP_INGEST_TOKEN'] as const) {
    if (!raw[name]) errors.push(`${name}: required`);
  }
  const given = raw.LOGZIP_ADMIN_URL;
  if (given && URL.canParse(given) && !/^https?:$/.test(new URL(given).protocol)) {
    errors.push(`LOGZIP_ADMIN_URL: "${given}" is not an http(s) URL`);
  }
  const url = parsed.data?.LOGZIP_ADMIN_URL;
  if (!parsed.success || url === undefined || errors.length > 0) {
    throw new ExitError(
      EXIT.config,
      `logzip upload needs the admin service that takes uploads (LOGZIP_ADMIN_URL) and an ingest token, not the admin token (LOGZIP_INGEST_TOKEN):\n${errors.map((e) => `  - ${e}`).join('\n')}`,
      'invalid_request',
    );
  }
  return {
    baseUrl: new URL(url.endsWith('/') ? url : `${url}/`),
    token: parsed.data.LOGZIP_INGEST_TOKEN as string,
    attempts: parsed.data.LOGZIP_UPLOAD_ATTEMPTS,
    backoffMs: parsed.data.LOGZIP_UPLOAD_BACKOFF,
  };
}

function retryAfterMs(response: IncomingMessage): number | undefined {
  const header = response.headers['retry-after'];
  if (header === undefined) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * One PUT of the whole file. The answer is taken as soon as it arrives, even while the body is
 * still being sent (the service refuses early: 401, 413, 415...), and then the upload stops.
 */
function sendOnce(target: UploadTarget, onProgress: (sent: number) => void): Promise<Attempt> {
  return new Promise((resolvePromise) => {
    let settled = false;
    const settle = (attempt: Attempt) => {
      if (settled) return;
      settled = true;
      request.destroy();
      agent.destroy();
      resolvePromise(attempt);
    };
    const https = target.url.protocol === 'https:';
    const send = https ? httpsRequest : httpRequest;
    const agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    const request = send(target.url, {
      method: 'PUT',
      // A fresh connection per attempt (a retry must not ride on the socket of the one that failed),
      // kept alive so that a service answering before the body is in (a replayed Idempotency-Key, a
      // refusal) reads the rest instead of closing on it: a close there can reset the answer away.
      agent,
      headers: {
        authorization: `Bearer ${target.token}`,
        'content-type': 'application/zip',
        'content-length': String(target.size),
        'idempotency-key': target.idempotencyKey,
        accept: 'application/json',
        'user-agent': 'logzip-cli',
      },
    });
    const file = createReadStream(target.file, { highWaterMark: 256 * 1024 });
    let sent = 0;
    file.on('data', (chunk) => {
      sent += chunk.length;
      onProgress(sent);
    });
    file.on('error', (error) => {
      request.destroy();
      settle({ kind: 'network', message: `cannot read ${target.file}: ${error.message}` });
    });
    request.setTimeout(SOCKET_IDLE_MS, () => request.destroy(new Error('no progress for 5 minutes')));
    request.on('error', (error) => settle({ kind: 'network', message: error.message }));
    request.on('response', (response) => {
      if (!file.closed) {
        file.unpipe(request);
        file.destroy();
      }
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', (error) => settle({ kind: 'network', message: error.message }));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text === '' ? undefined : JSON.parse(text);
        } catch {
          // Not JSON (a proxy's error page): kept as text for the message.
        }
        settle({
          kind: 'answer',
          status: response.statusCode ?? 0,
          body,
          retryAfterMs: retryAfterMs(response),
        });
      });
    });
    file.pipe(request);
  });
}

function errorOf(body: unknown, status: number): { code: string; message: string } {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code = typeof error?.code === 'string' ? error.code : `http_${status}`;
  const message =
    typeof error?.message === 'string'
      ? error.message
      : typeof body === 'string' && body !== ''
        ? body.slice(0, 200)
        : `HTTP ${status}`;
  return { code, message };
}

/** Answers worth another attempt with the same Idempotency-Key. */
function isRetryable(status: number): boolean {
  return status >= 500 || status === 429 || status === 408 || status === 409;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `logzip upload <file.zip> --log-id ID [--json]`: sends an archive through the ingest API
 * (`PUT /api/archives/:logId` at LOGZIP_ADMIN_URL with LOGZIP_INGEST_TOKEN). Network failures,
 * 5xx, 429 and a still-running twin (409) are retried with backoff and the same Idempotency-Key,
 * so an upload the service already stored is answered, not stored again.
 */
export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = usageOnError(() =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { 'log-id': { type: 'string' }, json: { type: 'boolean' } },
    }),
  );
  if (positionals.length !== 1)
    throw usageError('give exactly one archive: logzip upload <file.zip> --log-id ID');
  const logId = values['log-id'];
  if (logId === undefined) throw usageError('--log-id ID is required');
  if (!LOG_ID_RE.test(logId)) throw usageError('--log-id must be 1-64 characters of [0-9A-Za-z_-]');
  const { baseUrl, token, attempts, backoffMs } = readSettings(io.env);

  const file = resolve(io.cwd, positionals[0]!);
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new Error('not a regular file');
    size = info.size;
  } catch (error) {
    throw usageError(
      `cannot read ${positionals[0]}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }

  const target: UploadTarget = {
    url: new URL(`api/archives/${encodeURIComponent(logId)}`, baseUrl),
    token,
    file,
    size,
    idempotencyKey: randomUUID(),
  };
  const progress = createProgressBar(io, `uploading ${basename(file)}`, { unit: 'bytes' });
  let lastFailure = { code: 'storage_unavailable', message: 'no attempt was made' };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const outcome = await sendOnce(target, (sent) => progress.update(sent, size));
    let waitMs: number | undefined;
    if (outcome.kind === 'answer' && outcome.status === 202) {
      progress.end();
      const answer = outcome.body as { key?: string; etag?: string; route?: string; enqueued?: boolean };
      if (values.json) {
        printJson(io, outcome.body);
      } else {
        const next = answer.enqueued
          ? 'queued for extraction'
          : answer.route === 'lambda'
            ? 'the S3 trigger extracts it'
            : 'the sweeper will queue it';
        io.stdout.write(
          `uploaded ${basename(file)} (${size} bytes) as ${answer.key} (etag ${answer.etag}): ${next}\n`,
        );
      }
      return EXIT.ok;
    }
    if (outcome.kind === 'answer') {
      const { status } = outcome;
      const { code, message } = errorOf(outcome.body, status);
      if (status === 401 || status === 403) {
        progress.end();
        throw new ExitError(EXIT.config, `${code}: ${message} (check LOGZIP_INGEST_TOKEN)`, code);
      }
      if (status === 404) {
        progress.end();
        throw new ExitError(
          EXIT.config,
          `no ingest endpoint at ${target.url.origin}: check LOGZIP_ADMIN_URL (${message})`,
          code,
        );
      }
      if (!isRetryable(status)) {
        progress.end();
        throw new ExitError(EXIT.rejected, `refused: ${code}: ${message}`, code);
      }
      lastFailure = { code, message: `HTTP ${status} ${code}: ${message}` };
      waitMs = outcome.retryAfterMs;
      if (waitMs !== undefined && waitMs > MAX_RETRY_AFTER_MS) break;
    } else {
      lastFailure = { code: 'storage_unavailable', message: `network error: ${outcome.message}` };
    }
    if (attempt === attempts) break;
    const backoff = Math.min(MAX_BACKOFF_MS, backoffMs * 2 ** (attempt - 1));
    const delay = Math.max(waitMs ?? 0, Math.round(backoff * (0.8 + Math.random() * 0.4)));
    io.stderr.write(
      `${io.stderr.isTTY ? '\n' : ''}attempt ${attempt} of ${attempts} failed (${lastFailure.message}); retrying in ${(delay / 1000).toFixed(1)} s\n`,
    );
    await sleep(delay);
  }
  progress.end();
  throw new ExitError(
    EXIT.failed,
    `gave up after ${attempts} attempts: ${lastFailure.message} (idempotency key ${target.idempotencyKey})`,
    lastFailure.code,
  );
}
