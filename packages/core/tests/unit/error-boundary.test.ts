import { isLogzipError } from '@logzip/core';
import { TriggerControlError } from '@logzip/core/aws-trigger';
import { isRedisUnreachable } from '@logzip/core/bullmq';
import { describe, expect, it } from 'vitest';

// Errors that leave core are LogzipErrors with a code from the table, so the admin tells an outage
// from a bug by the code, not by a class name or the message.

describe('errors at the package boundary', () => {
  it('makes a trigger error a LogzipError: storage_unavailable exactly when a retry can help', () => {
    // Act
    const throttled = new TriggerControlError('read_notification', 'platform_error', 'throttled', {
      retryable: true,
    });
    const missing = new TriggerControlError('get_function', 'function_not_found', 'no such function');
    // Assess
    expect(isLogzipError(throttled)).toBe(true);
    expect(throttled).toMatchObject({
      code: 'storage_unavailable',
      retryable: true,
      name: 'TriggerControlError',
    });
    expect(missing).toMatchObject({ code: 'internal', retryable: false, failure: 'function_not_found' });
  });

  it("classifies the Redis client's errors in the Redis adapter", () => {
    // Prepare
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const closed = new Error('Connection is closed.');
    const wrongType = new Error('WRONGTYPE Operation against a key holding the wrong kind of value');
    // Act + Assess
    expect(isRedisUnreachable(refused)).toBe(true);
    expect(isRedisUnreachable(closed)).toBe(true);
    expect(isRedisUnreachable(wrongType)).toBe(false);
    expect(isRedisUnreachable('ECONNREFUSED')).toBe(false);
  });
});
