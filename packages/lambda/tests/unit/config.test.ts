import { describe, expect, it } from 'vitest';
import { LambdaConfigError, readLambdaConfig } from '../../src/config.js';

describe('readLambdaConfig', () => {
  it('reads defaults: output bucket = incoming bucket, 3 attempts', () => {
    // Act
    const { config, errors } = readLambdaConfig({ LOGZIP_INCOMING_BUCKET: 'logs' });
    // Assess
    expect(errors).toEqual([]);
    expect(config?.output).toEqual({ bucket: 'logs', prefix: 'extracted/' });
    expect(config?.lambda).toEqual({
      maxAttempts: 3,
      minThroughput: 4_000_000,
      safetyMarginMs: 30_000,
      batchConcurrency: 4,
    });
  });

  it('names every bad variable at once, core and Lambda-only alike', () => {
    // Act
    const { config, errors } = readLambdaConfig({
      LOGZIP_LAMBDA_MAX_BYTES: 'lots',
      LOGZIP_LAMBDA_SAFETY_MARGIN: 'soon',
      LOGZIP_LAMBDA_MAX_ATTEMPTS: '5',
    });
    const message = new LambdaConfigError(errors).message;
    // Assess
    expect(config).toBeUndefined();
    for (const name of [
      'LOGZIP_INCOMING_BUCKET',
      'LOGZIP_LAMBDA_MAX_BYTES',
      'LOGZIP_LAMBDA_SAFETY_MARGIN',
      'LOGZIP_LAMBDA_MAX_ATTEMPTS',
    ]) {
      expect(message).toContain(name);
    }
  });
});
