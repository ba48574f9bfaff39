import { describe, expect, it } from 'vitest';
import {
  ALERT_STACK_LINES,
  alertConfigErrors,
  buildFailureAlert,
  failureIdOf,
  renderAlertText,
  renderSlackPayload,
  renderSnsPublish,
  secretsOf,
} from '../../src/adapters/alerts/index.js';
import { LogzipError } from '../../src/errors.js';
import { recordAttempt } from '../../src/state/failures.js';
import type { FailureRecord } from '../../src/state/types.js';

const T0 = new Date('2026-11-28T10:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

function deepStackError(code: 'corrupt' | 'storage_unavailable', message: string, lines = 30): LogzipError {
  const error = new LogzipError(code, message);
  error.stack = [
    `LogzipError: ${message}`,
    ...Array.from({ length: lines }, (_, i) => `    at frame${i} (/var/task/index.mjs:${i + 1}:7)`),
  ].join('\n');
  return error;
}

/** A record after `attempts` failed attempts of one Lambda event. */
function lambdaRecord(attempts: number, error: LogzipError, requestId = 'req-1'): FailureRecord {
  let record: FailureRecord | undefined;
  for (let n = 1; n <= attempts; n++) {
    record = recordAttempt(record, {
      logId: '54321',
      source: { bucket: 'logs', key: 'incoming/ab/cd/54321-2026-11-28.zip' },
      route: 'lambda',
      error,
      attempt: n,
      maxAttempts: 3,
      requestId,
      at: at(n),
    });
  }
  return record as FailureRecord;
}

describe('the failure alert', () => {
  it('says who, where, what and why, with the top of the stack, the attempts and the admin link', () => {
    // Prepare
    const record = lambdaRecord(
      3,
      deepStackError('storage_unavailable', 'S3 PutObject failed: SlowDown 503'),
    );

    // Act
    const alert = buildFailureAlert(
      record,
      { source: 'lambda', requestId: 'req-1' },
      { publicUrl: 'https://ops.example.com/logzip' },
    );

    // Assess
    expect(alert).toMatchObject({
      logId: '54321',
      bucket: 'logs',
      key: 'incoming/ab/cd/54321-2026-11-28.zip',
      route: 'lambda',
      code: 'storage_unavailable',
      reason: 'retries_exhausted',
      message: 'S3 PutObject failed: SlowDown 503',
      runAttempts: 3,
      totalAttempts: 3,
      firstFailedAt: at(1).toISOString(),
      lastFailedAt: at(3).toISOString(),
      link: 'https://ops.example.com/logzip/archives/54321',
      failureId: 'lambda:req-1',
    });
    expect(alert.stackTop).toHaveLength(ALERT_STACK_LINES);
    expect(alert.stackTop[0]).toBe('LogzipError: S3 PutObject failed: SlowDown 503');
    expect(alert.stackOmitted).toBe(31 - ALERT_STACK_LINES);
    expect(alert.recentAttempts.map((a) => [a.attempt, a.requestId, a.at])).toEqual([
      [1, 'req-1', at(1).toISOString()],
      [2, 'req-1', at(2).toISOString()],
      [3, 'req-1', at(3).toISOString()],
    ]);
    const text = renderAlertText(alert);
    expect(text).toContain('Retries exhausted: attempt 3 on the lambda route');
    expect(text).toContain('    at frame8 (/var/task/index.mjs:9:7)');
    expect(text).not.toContain('frame9 ');
    expect(text).toContain('Admin:     https://ops.example.com/logzip/archives/54321');
  });

  it('shows the cause of a wrapped error even when it sits below the top of the stack', () => {
    // Prepare: the SDK error behind a storage_unavailable, 16 lines down.
    const cause = new Error('We encountered an internal error. Please try again.');
    cause.name = 'InternalError';
    cause.stack = [
      'InternalError: We encountered an internal error. Please try again.',
      '    at de_InternalErrorRes (/var/task/chunks/client-s3.mjs:10:20)',
      '    at deserialize (/var/task/chunks/client-s3.mjs:11:20)',
    ].join('\n');
    const error = new LogzipError('storage_unavailable', 'S3 PutObject failed', { cause });
    error.stack = [
      'LogzipError: S3 PutObject failed',
      ...Array.from({ length: 15 }, (_, i) => `    at frame${i} (/var/task/index.mjs:${i + 1}:7)`),
    ].join('\n');
    const record = lambdaRecord(3, error);

    // Act
    const alert = buildFailureAlert(
      record,
      { source: 'lambda', requestId: 'req-1' },
      { publicUrl: 'http://a' },
    );
    const text = renderAlertText(alert);

    // Assess
    expect(alert.stackTop.slice(ALERT_STACK_LINES)).toEqual([
      '    ...',
      'Caused by: InternalError: We encountered an internal error. Please try again.',
      '    at de_InternalErrorRes (/var/task/chunks/client-s3.mjs:10:20)',
    ]);
    expect(alert.stackOmitted).toBe(19 - ALERT_STACK_LINES - 2);
    expect(text).toContain('Stack (first 10 of 19 lines, and the causes below them):');
  });

  it('names a failure by its Lambda event or its BullMQ job run, so only the same failure dedupes', () => {
    // Prepare
    const record = lambdaRecord(3, deepStackError('storage_unavailable', 'down'));

    // Act
    const handler = failureIdOf(record, { source: 'lambda', requestId: 'req-1' });
    const drain = failureIdOf(record, { source: 'lambda-destination', requestId: 'req-1' });
    const otherEvent = failureIdOf(record, { source: 'lambda', requestId: 'req-2' });
    const job = failureIdOf(record, { source: 'queue', jobId: 'log-54321', jobCreatedAt: at(0) });
    const laterJob = failureIdOf(record, { source: 'queue', jobId: 'log-54321', jobCreatedAt: at(60) });

    // Assess
    expect(handler).toBe(drain);
    expect(otherEvent).not.toBe(handler);
    expect(job).toBe(`queue:log-54321@${at(0).getTime()}`);
    expect(laterJob).not.toBe(job);
  });

  it('keeps the Slack payload within Slack limits, with the stack in an escaped code block', () => {
    // Prepare
    const long = `bad <entry> & \`\`\` ${'x'.repeat(5_000)}`;
    const error = deepStackError('corrupt', long, 200);
    error.stack = (error.stack as string).replace('frame0', `frame0 ${'y'.repeat(4_000)} <tag>`);
    const record = recordAttempt(undefined, {
      logId: 'a'.repeat(64),
      source: { bucket: 'logs', key: `incoming/${'k'.repeat(900)}.zip` },
      route: 'queue',
      error,
      attempt: 1,
      maxAttempts: 3,
      jobId: 'log-aaa',
      at: T0,
    });

    // Act
    const payload = renderSlackPayload(
      buildFailureAlert(
        record,
        { source: 'queue', jobId: 'log-aaa', jobCreatedAt: T0 },
        {
          publicUrl: 'http://127.0.0.1:8080',
        },
      ),
    );

    // Assess
    expect(payload.text.length).toBeLessThanOrEqual(3_000);
    expect(payload.blocks.length).toBeLessThanOrEqual(50);
    const header = payload.blocks.find((b) => b.type === 'header') as unknown as { text: { text: string } };
    expect(header.text.text.length).toBeLessThanOrEqual(150);
    for (const block of payload.blocks) {
      const text = (block as { text?: { text: string } }).text?.text;
      if (text !== undefined) expect(text.length).toBeLessThanOrEqual(3_000);
      const fields = (block as { fields?: Array<{ text: string }> }).fields ?? [];
      expect(fields.length).toBeLessThanOrEqual(10);
      for (const field of fields) expect(field.text.length).toBeLessThanOrEqual(2_000);
    }
    const stack = payload.blocks
      .map((b) => (b as { text?: { text: string } }).text?.text ?? '')
      .find((t) => t.startsWith('*Stack*'));
    // The record keeps 16 KiB of stack; the alert shows its first 10 lines.
    expect(stack).toMatch(/^\*Stack\* \(first 10 of \d+ lines\)\n```LogzipError: bad &lt;entry&gt; &amp; /);
    expect(stack?.endsWith('```')).toBe(true);
    // Only the fences open and close the block: a ``` in the message cannot end it early.
    expect(stack?.match(/```/g)).toHaveLength(2);
    expect(JSON.stringify(payload)).toContain('<http://127.0.0.1:8080/archives/aaaaaaaa');
  });

  it('gives SNS an ASCII subject of at most 100 characters, the text, and logId/code attributes', () => {
    // Prepare
    const record = recordAttempt(undefined, {
      logId: 'L'.repeat(64),
      source: { bucket: 'logs', key: 'incoming/ログ.zip' },
      route: 'lambda',
      error: new LogzipError('too_large_for_lambda', 'ログ.zip is too large', { entry: 'ログ/a.txt' }),
      attempt: 1,
      maxAttempts: 3,
      requestId: 'r',
      at: T0,
    });

    // Act
    const sns = renderSnsPublish(
      buildFailureAlert(record, { source: 'lambda', requestId: 'r' }, { publicUrl: 'http://admin' }),
    );

    // Assess
    expect(sns.subject.length).toBeLessThanOrEqual(100);
    expect(sns.subject).toMatch(/^[\x20-\x7e]+$/);
    expect(sns.subject).toMatch(/^logzip: L+\.\.\. failed \(too_large_for_lambda\)$/);
    expect(sns.attributes).toEqual({
      logId: 'L'.repeat(64),
      code: 'too_large_for_lambda',
      route: 'lambda',
      source: 'lambda',
    });
    expect(sns.message).toContain('Entry:     ログ/a.txt');
    expect(sns.message).toContain('A permanent error');
  });

  it('never carries a secret: tokens, the webhook URL, passwords in URLs, signatures, key ids', () => {
    // Prepare
    const env = {
      LOGZIP_ADMIN_TOKEN: 'admin-token-0123456789abcdef0123456789',
      LOGZIP_ALERT_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX',
      REDIS_URL: 'rediss://default:redis-pass-123456@cache.example.com:6380',
    };
    const message = [
      `token ${env.LOGZIP_ADMIN_TOKEN}`,
      `posting to ${env.LOGZIP_ALERT_WEBHOOK_URL} failed`,
      'connect to rediss://default:redis-pass-123456@cache.example.com:6380 refused',
      'GET https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIAABCDEFGHIJKLMNOP%2F&X-Amz-Signature=abcdef0123',
      'Authorization: Bearer abcdefghijklmnop',
    ].join('; ');
    const record = recordAttempt(undefined, {
      logId: '1',
      source: { bucket: 'logs', key: 'incoming/1.zip' },
      route: 'queue',
      error: new LogzipError('internal', message),
      attempt: 3,
      maxAttempts: 3,
      jobId: 'log-1',
      at: T0,
    });

    // Act
    const alert = buildFailureAlert(
      record,
      { source: 'queue', jobId: 'log-1' },
      {
        publicUrl: 'http://admin',
        secrets: secretsOf(env),
      },
    );
    const everything = `${renderAlertText(alert)}${JSON.stringify(renderSlackPayload(alert))}`;

    // Assess
    for (const secret of [
      'admin-token-0123456789abcdef0123456789',
      'XXXXSECRETXXXX',
      'redis-pass-123456',
      'abcdef0123',
      'AKIAABCDEFGHIJKLMNOP',
      'abcdefghijklmnop',
    ]) {
      expect(everything).not.toContain(secret);
    }
    expect(everything).toContain('[redacted]');
  });

  it('refuses a webhook that is not http(s) and a topic that is not an SNS topic ARN', () => {
    // Act
    const errors = alertConfigErrors({
      LOGZIP_ALERT_WEBHOOK_URL: 'ftp://example.com/hook',
      LOGZIP_ALERT_SNS_TOPIC_ARN: 'arn:aws:sqs:us-east-1:123456789012:queue',
    });
    const fine = alertConfigErrors({
      LOGZIP_ALERT_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/C',
      LOGZIP_ALERT_SNS_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:logzip-alerts',
    });

    // Assess
    expect(errors).toEqual([
      expect.stringMatching(/^LOGZIP_ALERT_WEBHOOK_URL: /),
      expect.stringMatching(/^LOGZIP_ALERT_SNS_TOPIC_ARN: /),
    ]);
    expect(fine).toEqual([]);
  });
});
