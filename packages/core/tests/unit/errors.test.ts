import { LogzipError, toLogzipError } from '@logzip/core';
import { describe, expect, it } from 'vitest';

describe('LogzipError', () => {
  it('takes retryability from its code', () => {
    // Act
    const permanent = new LogzipError('corrupt', 'bad');
    const transient = new LogzipError('storage_unavailable', 'S3 503');
    // Assess
    expect(permanent.retryable).toBe(false);
    expect(transient.retryable).toBe(true);
    expect(permanent.name).toBe('LogzipError');
  });

  it('wraps unknown errors as internal, keeping the stack', () => {
    const original = new TypeError('boom');
    const wrapped = toLogzipError(original);
    expect(wrapped.code).toBe('internal');
    expect(wrapped.stack).toBe(original.stack);
    expect(wrapped.cause).toBe(original);
  });
});
