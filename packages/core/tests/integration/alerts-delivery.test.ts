import { Writable } from 'node:stream';
import { startWebhookReceiver, type TempDir, tempDir, type WebhookReceiver } from '@logzip/test-utils';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  alertMarkerKey,
  createAlerterFromConfig,
  createFailureAlerter,
  createWebhookChannel,
  type FailureAlerter,
} from '../../src/adapters/alerts/index.js';
import { createFsObjectStore } from '../../src/adapters/fs/index.js';
import { readConfig } from '../../src/config.js';
import { LogzipError } from '../../src/errors.js';
import type { ObjectStore } from '../../src/ports/object-store.js';
import { recordAttempt, resolveRecord } from '../../src/state/failures.js';
import type { FailureRecord } from '../../src/state/types.js';

function captureLogs(): { logger: pino.Logger; lines: Array<Record<string, unknown>>; text: () => string } {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) {
        if (line.trim() === '') continue;
        raw.push(line);
        lines.push(JSON.parse(line));
      }
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines, text: () => raw.join('\n') };
}

const T0 = new Date('2026-11-28T10:00:00.000Z');

function failedRecord(requestId = 'req-1', previous?: FailureRecord): FailureRecord {
  return recordAttempt(previous, {
    logId: '54321',
    source: { bucket: 'logs', key: 'incoming/ab/cd/54321.zip' },
    route: 'lambda',
    error: new LogzipError('corrupt', 'the central directory is truncated'),
    attempt: 1,
    maxAttempts: 3,
    requestId,
    at: T0,
  });
}

describe('failure alerts over a real HTTP webhook', () => {
  let receiver: WebhookReceiver;
  let dir: TempDir;
  let store: ObjectStore;
  let logs: ReturnType<typeof captureLogs>;

  function alerter(options: { timeoutMs?: number; markers?: boolean } = {}): FailureAlerter {
    return createFailureAlerter({
      channels: [createWebhookChannel({ url: receiver.url })],
      ...(options.markers === false ? {} : { markers: { store, bucket: 'logs', prefix: 'logzip-state/' } }),
      publicUrl: 'http://127.0.0.1:8080',
      logger: logs.logger,
      timeoutMs: options.timeoutMs ?? 2_000,
      retryDelayMs: 20,
    });
  }

  beforeEach(async () => {
    receiver = await startWebhookReceiver('SECRETPATHTOKEN');
    dir = await tempDir('alerts');
    store = createFsObjectStore({ rootDir: dir.path });
    logs = captureLogs();
  });

  afterEach(async () => {
    await receiver.close();
    await dir.cleanup();
  });

  it('posts one Slack-compatible alert when two processes announce the same failure at once', async () => {
    // Prepare: the handler's last attempt and the drain's message, in two processes sharing the state.
    const record = failedRecord();
    const handler = alerter();
    const drain = alerter();

    // Act
    const outcomes = await Promise.all([
      handler.notifyFailure(record, { source: 'lambda', requestId: 'req-1' }),
      drain.notifyFailure(record, { source: 'lambda-destination', requestId: 'req-1' }),
    ]);
    const again = await drain.notifyFailure(record, { source: 'lambda-destination', requestId: 'req-1' });

    // Assess
    expect(outcomes.map((o) => o.status).sort()).toEqual(['duplicate', 'sent']);
    expect(again.status).toBe('duplicate');
    expect(receiver.requests).toHaveLength(1);
    const post = receiver.requests[0]!;
    expect(post.contentType).toMatch(/^application\/json/);
    expect(post.body['text']).toContain('logzip: archive 54321 failed for good (corrupt)');
    expect(JSON.stringify(post.body['blocks'])).toContain(
      '```LogzipError: the central directory is truncated',
    );
    expect(JSON.stringify(post.body['blocks'])).toContain('http://127.0.0.1:8080/archives/54321');
    const marker = JSON.parse(
      (
        await store.get(
          'logs',
          alertMarkerKey('logzip-state/', '54321', 'incoming/ab/cd/54321.zip', 'lambda:req-1'),
        )
      ).toString('utf8'),
    );
    expect(marker).toMatchObject({
      failureId: 'lambda:req-1',
      outcome: { status: 'sent', channels: [{ channel: 'webhook', ok: true, tries: 1 }] },
    });
  });

  it('announces nothing for a retrying or resolved record, and again for a new failure after a resolution', async () => {
    // Prepare
    const retrying = recordAttempt(undefined, {
      logId: '777',
      source: { bucket: 'logs', key: 'incoming/777.zip' },
      route: 'queue',
      error: new LogzipError('storage_unavailable', 'SlowDown'),
      attempt: 1,
      maxAttempts: 3,
      jobId: 'log-777',
      at: T0,
    });
    const first = failedRecord('req-1');
    const resolved = resolveRecord(first, new Date(T0.getTime() + 60_000));
    const reopened = failedRecord('req-2', resolved);
    const notify = alerter();

    // Act
    const outcomes = [
      await notify.notifyFailure(retrying, { source: 'queue', jobId: 'log-777', jobCreatedAt: T0 }),
      await notify.notifyFailure(first, { source: 'lambda', requestId: 'req-1' }),
      await notify.notifyFailure(resolved, { source: 'lambda', requestId: 'req-1' }),
      await notify.notifyFailure(reopened, { source: 'lambda', requestId: 'req-2' }),
    ];

    // Assess
    expect(outcomes.map((o) => o.status)).toEqual(['skipped', 'sent', 'skipped', 'sent']);
    expect(receiver.requests).toHaveLength(2);
  });

  it('gives up after one retry on a 500 and logs the failure without the webhook path', async () => {
    // Prepare
    receiver.mode = 'error';

    // Act
    const outcome = await alerter().notifyFailure(failedRecord(), { source: 'lambda', requestId: 'req-1' });

    // Assess
    expect(outcome).toMatchObject({
      status: 'failed',
      channels: [{ channel: 'webhook', ok: false, tries: 2, error: expect.stringContaining('answered 500') }],
    });
    expect(receiver.requests).toHaveLength(2);
    expect(logs.text()).toContain('http://127.0.0.1');
    expect(logs.text()).not.toContain('SECRETPATHTOKEN');
    expect(logs.text()).not.toContain('/services/');
    expect(logs.lines.map((l) => l['msg'])).toContain('failure alert could not be delivered by any channel');
  });

  it('does not retry a 404 (a deleted webhook) and stops waiting for a receiver that hangs', async () => {
    // Prepare
    receiver.mode = 'gone';
    const gone = await alerter().notifyFailure(failedRecord('req-gone'), {
      source: 'lambda',
      requestId: 'req-gone',
    });
    receiver.mode = 'hang';
    const started = Date.now();

    // Act
    const hung = await alerter({ timeoutMs: 300 }).notifyFailure(failedRecord('req-hang'), {
      source: 'lambda',
      requestId: 'req-hang',
    });

    // Assess
    expect(gone).toMatchObject({ status: 'failed', channels: [{ ok: false, tries: 1 }] });
    expect(hung).toMatchObject({ status: 'failed', channels: [{ ok: false, tries: 2 }] });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(logs.text()).not.toContain('SECRETPATHTOKEN');
  });

  it('still alerts when the marker cannot be written (storage down is often why the archive failed)', async () => {
    // Prepare
    const broken: ObjectStore = {
      ...store,
      put: async () => {
        throw new LogzipError('storage_unavailable', 'S3 is down');
      },
    };
    const notify = createFailureAlerter({
      channels: [createWebhookChannel({ url: receiver.url })],
      markers: { store: broken, bucket: 'logs', prefix: 'logzip-state/' },
      publicUrl: 'http://127.0.0.1:8080',
      logger: logs.logger,
    });

    // Act
    const outcome = await notify.notifyFailure(failedRecord(), { source: 'lambda', requestId: 'req-1' });

    // Assess
    expect(outcome.status).toBe('sent');
    expect(receiver.requests).toHaveLength(1);
    expect(logs.lines.map((l) => l['msg'])).toContain(
      'could not write the alert marker; sending the alert without cross-process dedupe',
    );
  });

  it('bounds a slow marker write, and knows its own marker when a timed-out write landed after all', async () => {
    // Prepare: the first conditional write lands at once but answers only after 600 ms (longer than a try).
    let calls = 0;
    const slow: ObjectStore = {
      ...store,
      head: (bucket, key) => store.head(bucket, key),
      get: (bucket, key) => store.get(bucket, key),
      put: async (bucket, key, body, options) => {
        calls += 1;
        const written = await store.put(bucket, key, body, options);
        if (calls === 1) await new Promise((resolve) => setTimeout(resolve, 600));
        return written;
      },
    };
    const notify = createFailureAlerter({
      channels: [createWebhookChannel({ url: receiver.url })],
      markers: { store: slow, bucket: 'logs', prefix: 'logzip-state/' },
      publicUrl: 'http://127.0.0.1:8080',
      logger: logs.logger,
      timeoutMs: 200,
    });
    const other = alerter();
    const started = Date.now();

    // Act
    const outcome = await notify.notifyFailure(failedRecord(), { source: 'lambda', requestId: 'req-1' });
    const elapsed = Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 700));
    const second = await other.notifyFailure(failedRecord(), {
      source: 'lambda-destination',
      requestId: 'req-1',
    });

    // Assess
    expect(outcome.status).toBe('sent');
    expect(elapsed).toBeLessThan(2_000);
    expect(second.status).toBe('duplicate');
    expect(receiver.requests).toHaveLength(1);
  });

  it('is built from the config: channels from LOGZIP_ALERT_*, the link from LOGZIP_PUBLIC_URL, nothing when unset', async () => {
    // Prepare
    const { config } = readConfig({
      LOGZIP_INCOMING_BUCKET: 'logs',
      LOGZIP_ALERT_WEBHOOK_URL: receiver.url,
      LOGZIP_PUBLIC_URL: 'https://logzip.example.com/admin/',
    });
    const { config: quiet } = readConfig({ LOGZIP_INCOMING_BUCKET: 'logs' });

    // Act
    const configured = createAlerterFromConfig(config!, { store, logger: logs.logger });
    const disabled = createAlerterFromConfig(quiet!, { store });
    const sent = await configured.notifyFailure(failedRecord(), { source: 'lambda', requestId: 'req-1' });
    const skipped = await disabled.notifyFailure(failedRecord(), { source: 'lambda', requestId: 'req-1' });

    // Assess
    expect(sent.status).toBe('sent');
    expect(skipped).toEqual({ status: 'skipped', reason: 'no_channels' });
    expect(disabled.enabled).toBe(false);
    expect(JSON.stringify(receiver.requests[0]?.body)).toContain(
      'https://logzip.example.com/admin/archives/54321',
    );
    expect(logs.text()).not.toContain('SECRETPATHTOKEN');
  });
});
