import { describe, expect, it } from 'vitest';
import { readWorkerConfig, unknownVariables } from '../../src/config.js';

describe('readWorkerConfig', () => {
  it('applies the defaults', () => {
    // Act
    const { config, errors } = readWorkerConfig({ LOGZIP_INCOMING_BUCKET: 'logs' });

    // Assess
    expect(errors).toEqual([]);
    expect(config?.worker).toEqual({
      concurrency: 2,
      metricsPort: 9464,
      sweepIntervalMs: 300_000,
      sweepGraceMs: 900_000,
      shutdownTimeoutMs: 30_000,
      lockDurationMs: 60_000,
      maxStalledCount: 3,
      queuePrefix: 'bull',
      lambdaFailureQueueUrl: undefined,
      canaryIntervalMs: 0,
      heartbeatIntervalMs: 5_000,
    });
    expect(config?.output).toEqual({ bucket: 'logs', prefix: 'extracted/' });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names every bad variable at once', () => {
    // Act
    const { config, errors } = readWorkerConfig({
      LOGZIP_WORKER_CONCURRENCY: '0',
      LOGZIP_WORKER_SHUTDOWN_TIMEOUT: 'soon',
      LOGZIP_WORKER_LOCK_DURATION: '10ms',
      LOGZIP_WORKER_MAX_STALLED: 'x',
      LOGZIP_QUEUE_PREFIX: 'has:colon',
    });

    // Assess
    expect(config).toBeUndefined();
    const named = errors.map((e) => e.split(':')[0]).sort();
    expect(named).toEqual([
      'LOGZIP_INCOMING_BUCKET',
      'LOGZIP_QUEUE_PREFIX',
      'LOGZIP_WORKER_CONCURRENCY',
      'LOGZIP_WORKER_LOCK_DURATION',
      'LOGZIP_WORKER_MAX_STALLED',
      'LOGZIP_WORKER_SHUTDOWN_TIMEOUT',
    ]);
  });

  it('accepts 0s as "no sweeps in this process" but not a sub-second interval', () => {
    expect(
      readWorkerConfig({ LOGZIP_INCOMING_BUCKET: 'b', LOGZIP_SWEEP_INTERVAL: '0s' }).config?.worker
        .sweepIntervalMs,
    ).toBe(0);
    expect(readWorkerConfig({ LOGZIP_INCOMING_BUCKET: 'b', LOGZIP_SWEEP_INTERVAL: '500ms' }).errors).toEqual([
      expect.stringMatching(/^LOGZIP_SWEEP_INTERVAL/),
    ]);
  });

  it('lists LOGZIP_ variables nobody reads', () => {
    expect(
      unknownVariables({ LOGZIP_WORKER_CONCURENCY: '4', LOGZIP_INCOMING_BUCKET: 'b', PATH: '/bin' }),
    ).toEqual(['LOGZIP_WORKER_CONCURENCY']);
  });
});
