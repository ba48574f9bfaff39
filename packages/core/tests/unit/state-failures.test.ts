import { describe, expect, it } from 'vitest';
import { LogzipError, toLogzipError } from '../../src/errors.js';
import {
  MAX_ATTEMPTS_KEPT,
  MAX_STACK_CHARS,
  type RecordAttemptInput,
  recordAttempt,
  resolveRecord,
  upgradeFailureRecord,
} from '../../src/state/failures.js';
import type { FailureRecord } from '../../src/state/types.js';

const T0 = new Date('2026-11-28T10:00:00.000Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

function input(overrides: Partial<RecordAttemptInput> = {}): RecordAttemptInput {
  return {
    logId: '54321',
    source: { bucket: 'logs', key: 'incoming/ab/cd/54321.zip' },
    route: 'lambda',
    error: new LogzipError('storage_unavailable', 'S3 GetObject failed (SlowDown 503)'),
    attempt: 1,
    maxAttempts: 3,
    requestId: 'req-1',
    at: T0,
    ...overrides,
  };
}

describe('recordAttempt', () => {
  it('starts a record in `retrying` for a retryable error with attempts left', () => {
    // Prepare
    const attempt = input();

    // Act
    const record = recordAttempt(undefined, attempt);

    // Assess
    expect(record).toMatchObject({
      version: 1,
      logId: '54321',
      state: 'retrying',
      source: { bucket: 'logs', key: 'incoming/ab/cd/54321.zip' },
      route: 'lambda',
      code: 'storage_unavailable',
      message: 'S3 GetObject failed (SlowDown 503)',
      createdAt: T0.toISOString(),
      updatedAt: T0.toISOString(),
    });
    expect(record.attempts).toEqual([
      {
        at: T0.toISOString(),
        route: 'lambda',
        requestId: 'req-1',
        attempt: 1,
        run: 'upload',
        runAttempt: 1,
        code: 'storage_unavailable',
        message: 'S3 GetObject failed (SlowDown 503)',
      },
    ]);
    expect(record.resolvedAt).toBeUndefined();
  });

  it('marks the last allowed attempt `failed` and keeps every earlier attempt', () => {
    // Prepare
    const first = recordAttempt(undefined, input());
    const second = recordAttempt(first, input({ attempt: 2, at: minutes(1) }));

    // Act
    const third = recordAttempt(second, input({ attempt: 3, at: minutes(3) }));

    // Assess
    expect(second.state).toBe('retrying');
    expect(third.state).toBe('failed');
    expect(third.attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect(third.createdAt).toBe(T0.toISOString());
    expect(third.updatedAt).toBe(minutes(3).toISOString());
  });

  it('fails at once on a permanent error, with the entry it names', () => {
    // Prepare
    const error = new LogzipError('crc_mismatch', 'CRC32 mismatch', { entry: 'logs/app.log' });

    // Act
    const record = recordAttempt(undefined, input({ error, attempt: 1, maxAttempts: 3 }));

    // Assess
    expect(record.state).toBe('failed');
    expect(record.code).toBe('crc_mismatch');
    expect(record.entry).toBe('logs/app.log');
  });

  it('keeps the stack with its causes, without repeating a copied stack', () => {
    // Prepare
    const sdkError = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const wrapped = new LogzipError('storage_unavailable', 'S3 GetObject failed', { cause: sdkError });
    const copied = toLogzipError(new TypeError('boom'));

    // Act
    const record = recordAttempt(undefined, input({ error: wrapped }));
    const internal = recordAttempt(undefined, input({ error: copied }));

    // Assess
    expect(record.stack).toContain('LogzipError: S3 GetObject failed');
    expect(record.stack).toContain('Caused by: Error: socket hang up');
    expect(internal.stack?.match(/TypeError: boom/g)).toHaveLength(1);
  });

  it('cuts very long stacks', () => {
    // Prepare
    const error = new LogzipError('internal', 'deep');
    error.stack = `LogzipError: deep\n${'    at frame (file.js:1:1)\n'.repeat(5_000)}`;

    // Act
    const record = recordAttempt(undefined, input({ error }));

    // Assess
    expect(record.stack?.length).toBeLessThan(MAX_STACK_CHARS + 100);
    expect(record.stack).toMatch(/\(cut\)$/);
  });

  it(`keeps only the newest ${MAX_ATTEMPTS_KEPT} attempts`, () => {
    // Prepare
    let record: FailureRecord | undefined;

    // Act
    for (let n = 1; n <= MAX_ATTEMPTS_KEPT + 10; n++) {
      record = recordAttempt(
        record,
        input({ attempt: n, maxAttempts: 1_000, requestId: `req-${n}`, at: minutes(n) }),
      );
    }

    // Assess
    expect(record?.attempts).toHaveLength(MAX_ATTEMPTS_KEPT);
    expect(record?.attempts[0]?.attempt).toBe(11);
    expect(record?.attempts.at(-1)?.attempt).toBe(MAX_ATTEMPTS_KEPT + 10);
    expect(record?.createdAt).toBe(minutes(1).toISOString());
  });

  it('replaces an attempt reported twice with the same ids (handler, then on-failure drain)', () => {
    // Prepare
    const fromHandler = recordAttempt(undefined, input({ attempt: 3, maxAttempts: 3 }));

    // Act
    const fromDrain = recordAttempt(
      fromHandler,
      input({
        attempt: 3,
        maxAttempts: 3,
        at: minutes(1),
        error: new LogzipError('timeout', 'Task timed out'),
      }),
    );

    // Assess
    expect(fromDrain.attempts).toHaveLength(1);
    expect(fromDrain.attempts[0]).toMatchObject({ code: 'timeout', at: minutes(1).toISOString() });
  });

  it('never merges attempts without a request or job id', () => {
    // Prepare
    const first = recordAttempt(undefined, input({ route: 'cli', requestId: undefined }));

    // Act
    const second = recordAttempt(first, input({ route: 'cli', requestId: undefined, at: minutes(1) }));

    // Assess
    expect(second.attempts).toHaveLength(2);
  });

  it('records job ids for the queue route', () => {
    // Act
    const record = recordAttempt(
      undefined,
      input({ route: 'queue', requestId: undefined, jobId: 'log-54321', attempt: 2, maxAttempts: 5 }),
    );

    // Assess
    expect(record.route).toBe('queue');
    expect(record.attempts[0]).toEqual(
      expect.objectContaining({ jobId: 'log-54321', attempt: 1, runAttempt: 2 }),
    );
    expect(record.attempts[0]).not.toHaveProperty('requestId');
  });

  it('regression: a re-enqueue lost the attempt history (a job id reused across runs merged attempts numbered 1)', () => {
    // Prepare: one Lambda attempt of the upload, then five re-enqueues of the same job id, each
    // failing at its first attempt (a permanent error), as the queue reports them.
    const queue = (n: number) =>
      input({
        route: 'queue',
        requestId: undefined,
        jobId: 'log-54321',
        run: 'reenqueue',
        runId: `log-54321@${minutes(n).getTime()}`,
        attempt: 1,
        error: new LogzipError('crc_mismatch', 'CRC32 mismatch'),
        at: minutes(n),
      });
    let record = recordAttempt(
      undefined,
      input({ error: new LogzipError('crc_mismatch', 'CRC32 mismatch') }),
    );

    // Act
    for (let n = 1; n <= 5; n++) record = recordAttempt(record, queue(n));

    // Assess
    expect(record.attempts.map((a) => [a.attempt, a.run, a.route, a.runAttempt])).toEqual([
      [1, 'upload', 'lambda', 1],
      [2, 'reenqueue', 'queue', 1],
      [3, 'reenqueue', 'queue', 1],
      [4, 'reenqueue', 'queue', 1],
      [5, 'reenqueue', 'queue', 1],
      [6, 'reenqueue', 'queue', 1],
    ]);
  });

  it('keeps the number of an attempt reported twice (the handler, then the destination drain)', () => {
    // Prepare
    const first = recordAttempt(undefined, input());
    const second = recordAttempt(first, input({ attempt: 2, at: minutes(1) }));

    // Act
    const again = recordAttempt(second, input({ attempt: 2, at: minutes(2), maxAttempts: 2 }));

    // Assess
    expect(again.attempts.map((a) => [a.attempt, a.runAttempt])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(again.state).toBe('failed');
  });

  it('reads a record of the previous version (attempts without a run) as upload attempts numbered in order', () => {
    // Prepare: what the previous version wrote after a Lambda attempt and one re-enqueued job.
    const legacy = {
      ...recordAttempt(undefined, input()),
      attempts: [
        {
          at: T0.toISOString(),
          route: 'lambda',
          requestId: 'req-1',
          attempt: 1,
          code: 'corrupt',
          message: 'a',
        },
        {
          at: minutes(1).toISOString(),
          route: 'queue',
          jobId: 'log-54321',
          attempt: 1,
          code: 'corrupt',
          message: 'b',
        },
      ],
    } as unknown as FailureRecord;

    // Act
    const read = upgradeFailureRecord(legacy);
    const next = recordAttempt(
      legacy,
      input({
        route: 'queue',
        requestId: undefined,
        jobId: 'log-54321',
        run: 'reenqueue',
        runId: 'log-54321@1',
        at: minutes(2),
      }),
    );

    // Assess
    expect(read.attempts.map((a) => [a.attempt, a.run, a.runAttempt])).toEqual([
      [1, 'upload', 1],
      [2, 'upload', 1],
    ]);
    expect(next.attempts.map((a) => [a.attempt, a.run, a.runAttempt])).toEqual([
      [1, 'upload', 1],
      [2, 'upload', 1],
      [3, 'reenqueue', 1],
    ]);
    expect(upgradeFailureRecord(next)).toBe(next);
  });

  it('reopens a resolved record: state follows the new error, resolvedAt goes, history stays', () => {
    // Prepare
    const resolved = resolveRecord(recordAttempt(undefined, input()), minutes(5));

    // Act
    const reopened = recordAttempt(resolved, input({ requestId: 'req-2', at: minutes(60) }));

    // Assess
    expect(reopened.state).toBe('retrying');
    expect(reopened.resolvedAt).toBeUndefined();
    expect(reopened.attempts.map((a) => a.requestId)).toEqual(['req-1', 'req-2']);
    expect(reopened.createdAt).toBe(T0.toISOString());
  });

  it('does not change the previous record', () => {
    // Prepare
    const first = recordAttempt(undefined, input());
    const snapshot = structuredClone(first);

    // Act
    recordAttempt(first, input({ attempt: 2, requestId: 'req-2', at: minutes(1) }));

    // Assess
    expect(first).toEqual(snapshot);
  });
});

describe('resolveRecord', () => {
  it('marks the record resolved and keeps the last error and attempts', () => {
    // Prepare
    const failed = recordAttempt(undefined, input({ attempt: 3, maxAttempts: 3 }));

    // Act
    const resolved = resolveRecord(failed, minutes(10));

    // Assess
    expect(resolved).toEqual({
      ...failed,
      state: 'resolved',
      updatedAt: minutes(10).toISOString(),
      resolvedAt: minutes(10).toISOString(),
    });
  });
});
