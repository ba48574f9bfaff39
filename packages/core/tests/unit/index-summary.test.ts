import { describe, expect, it } from 'vitest';
import { LogzipError } from '../../src/errors.js';
import { recordAttempt } from '../../src/state/failures.js';
import { decodeCursor, encodeCursor } from '../../src/state/index-cursor.js';
import { parseStateObject, summarizeFailure } from '../../src/state/index-summary.js';

const record = recordAttempt(undefined, {
  logId: '54321',
  source: { bucket: 'logs', key: `incoming/${'k'.repeat(300)}.zip` },
  route: 'queue',
  error: new LogzipError('corrupt', 'm'.repeat(500)),
  attempt: 1,
  maxAttempts: 3,
  at: new Date('2026-11-28T10:00:00.000Z'),
});

describe('index summaries and cursors', () => {
  it('summarizes a record with its message and key cut, and its attempts counted', () => {
    // Act
    const summary = summarizeFailure(record);

    // Assess
    expect(summary).toMatchObject({ logId: '54321', state: 'failed', code: 'corrupt', attemptCount: 1 });
    expect(summary.message).toHaveLength(160);
    expect(summary.sourceKey).toHaveLength(160);
  });

  it('reads a version 1 record written by any earlier release, and names what is not one', () => {
    // Prepare
    const body = (value: unknown) => Buffer.from(JSON.stringify(value));

    // Act
    const good = parseStateObject('failures', 'st/failures/54321.json', body(record));
    const renamed = parseStateObject('failures', 'st/failures/999.json', body(record));
    const future = parseStateObject('failures', 'st/failures/54321.json', body({ ...record, version: 2 }));
    const damaged = parseStateObject('manifests', 'st/manifests/1.json', Buffer.from('{'));
    const foreign = parseStateObject('audit', 'st/audit/x.json', body({ hello: 'world' }));

    // Assess
    expect(good).toEqual({ kind: 'failures', value: record });
    expect(renamed).toEqual({ kind: 'invalid', reason: 'holds log ID "54321" but is named "999"' });
    expect(future).toEqual({ kind: 'invalid', reason: 'not a version 1 failure record' });
    expect(damaged).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/^not JSON/) });
    expect(foreign).toEqual({ kind: 'invalid', reason: 'not an audit entry (no "at" and "action")' });
  });

  it('round-trips cursors and refuses text it did not write', () => {
    // Act
    const after = decodeCursor(encodeCursor({ after: { score: 1764324000000, member: '54321' } }));
    const offset = decodeCursor(encodeCursor({ offset: 50 }));

    // Assess
    expect(after).toEqual({ after: { score: 1764324000000, member: '54321' } });
    expect(offset).toEqual({ offset: 50 });
    for (const text of [
      'nonsense',
      '',
      Buffer.from('{"o":-1}').toString('base64url'),
      Buffer.from('[1]').toString('base64url'),
    ]) {
      expect(decodeCursor(text)).toBeUndefined();
    }
  });
});
