import { type TempDir, tempDir } from '@logzip/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFsObjectStore } from '../../src/adapters/fs/index.js';
import type { FailureAlerter, FailureRun } from '../../src/alerts/types.js';
import { alertIfFinal, recordFailedAttempt, resolveFailure } from '../../src/engine/attempts.js';
import { LogzipError } from '../../src/errors.js';
import { silentLogger } from '../../src/ports/logger.js';
import { createStateStore } from '../../src/state/object-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import type { FailureRecord } from '../../src/state/types.js';

// The attempt ledger is the one read-update-write of a failure record: what it returns must be
// exactly what a reader finds afterwards, so no caller needs to read the record again.

const source = { bucket: 'incoming', key: 'incoming/4242.zip' };

describe('the attempt ledger', () => {
  let dir: TempDir;
  let state: StateStore;

  beforeEach(async () => {
    dir = await tempDir('ledger');
    state = createStateStore({
      store: createFsObjectStore({ rootDir: dir.path }),
      bucket: 'state',
      prefix: 'logzip-state/',
    });
  });
  afterEach(async () => {
    await dir.cleanup();
  });

  it('returns the record it wrote, and a final attempt is failed whatever the error says', async () => {
    // Prepare
    const error = new LogzipError('storage_unavailable', 'S3 said 503');
    // Act
    const first = await recordFailedAttempt(state, {
      logId: '4242',
      source,
      route: 'queue',
      error,
      attempt: 1,
      maxAttempts: 3,
      jobId: 'log-4242',
    });
    const last = await recordFailedAttempt(state, {
      logId: '4242',
      source,
      route: 'queue',
      error,
      attempt: 2,
      maxAttempts: 3,
      jobId: 'log-4242',
      final: true,
    });
    // Assess
    expect(first.state).toBe('retrying');
    expect(last.state).toBe('failed');
    expect(last.attempts.map((a) => a.attempt)).toEqual([1, 2]);
    expect(await state.getFailure('4242')).toEqual(last);
  });

  it('derives the error from the record as it stands, and writes resolved when the archive was extracted since', async () => {
    // Prepare
    await recordFailedAttempt(state, {
      logId: '4242',
      source,
      route: 'lambda',
      error: new LogzipError('crc_mismatch', 'entry a.log'),
      attempt: 1,
      maxAttempts: 3,
      requestId: 'req-1',
    });
    // Act
    const record = await recordFailedAttempt(state, {
      logId: '4242',
      source,
      route: 'lambda',
      error: (previous) => new LogzipError(previous?.code ?? 'internal', 'from the destination'),
      attempt: 3,
      maxAttempts: 3,
      requestId: 'req-1',
      extractedSince: true,
    });
    // Assess
    expect(record.code).toBe('crc_mismatch');
    expect(record.state).toBe('resolved');
    expect(await state.getFailure('4242')).toEqual(record);
  });

  it('resolves an open record once, and leaves an absent one absent', async () => {
    // Prepare
    await recordFailedAttempt(state, {
      logId: '4242',
      source,
      route: 'cli',
      error: new LogzipError('timeout', 'slow'),
      attempt: 1,
      maxAttempts: 1,
    });
    // Act
    const resolved = await resolveFailure(state, '4242', silentLogger);
    const again = await resolveFailure(state, '4242', silentLogger);
    const none = await resolveFailure(state, '9999', silentLogger);
    // Assess
    expect(resolved?.state).toBe('resolved');
    expect(again).toBeUndefined();
    expect(none).toBeUndefined();
    expect(await state.getFailure('9999')).toBeUndefined();
  });

  it("alerts only on a failed record whose newest attempt is the run's", async () => {
    // Prepare
    const sent: FailureRun[] = [];
    const alerter: FailureAlerter = {
      enabled: true,
      async notifyFailure(_record, run) {
        sent.push(run);
        return { status: 'skipped', reason: 'no_channels' };
      },
    };
    const record = await recordFailedAttempt(state, {
      logId: '4242',
      source,
      route: 'lambda',
      error: new LogzipError('corrupt', 'bad'),
      attempt: 1,
      maxAttempts: 3,
      requestId: 'req-2',
    });
    const retrying: FailureRecord = { ...record, state: 'retrying' };
    // Act
    await alertIfFinal(alerter, record, { source: 'lambda', requestId: 'another-request' });
    await alertIfFinal(alerter, retrying, { source: 'lambda', requestId: 'req-2' });
    await alertIfFinal(alerter, record, { source: 'lambda', requestId: 'req-2' });
    // Assess
    expect(sent).toEqual([{ source: 'lambda', requestId: 'req-2' }]);
  });
});
