import { describe, expect, it } from 'vitest';
import { redisKeys } from '../../src/adapters/bullmq/keys.js';

// The key names are contracts between processes and with deployments already running: the default
// namespace must keep every name byte for byte, and another namespace must move every one of them.

describe('the Redis key names', () => {
  it('keeps the names of earlier releases under the default namespace', () => {
    // Act
    const keys = redisKeys();
    // Assess
    expect(keys.route).toBe('logzip:route');
    expect(keys.audit).toBe('logzip:audit');
    expect(keys.lambdaDestination).toBe('logzip:lambda-destination');
    expect(keys.sweepSnapshot()).toBe('logzip:sweep:last');
    expect(keys.sweepSnapshot('bull')).toBe('logzip:sweep:last');
    expect(keys.sweepSnapshot('tenant-a')).toBe('logzip:sweep:last:tenant-a');
    expect(keys.ingestIdempotencyPrefix).toBe('logzip:ingest:idempotency:');
    expect(keys.rateLimitPrefix).toBe('logzip:rate-limit:');
    expect(keys.lockPrefix).toBe('logzip:lock:');
    expect(keys.enqueueLock('bull', 'logzip-extract', 'log-1')).toBe(
      'logzip:enqueue-lock:bull:logzip-extract:log-1',
    );
    expect(keys.emulatorFired('logs', 'incoming/')).toBe('logzip:emulator:fired:logs:incoming/');
    expect(keys.workerHeartbeat('bull', 'host:42')).toBe('logzip:heartbeat:bull:host:42');
    expect(keys.index.activityHour('2026-12-05T01')).toBe('logzip:{index}:activity:h:2026-12-05T01');
  });

  it('moves every name under another namespace', () => {
    // Act
    const keys = redisKeys('staging:');
    const names = [
      keys.route,
      keys.audit,
      keys.lambdaDestination,
      keys.sweepSnapshot(),
      keys.ingestIdempotencyPrefix,
      keys.rateLimitPrefix,
      keys.lockPrefix,
      keys.enqueueLock('bull', 'q', 'j'),
      keys.emulatorFired('b', 'p/'),
      keys.workerHeartbeat('bull', 'host:1'),
      keys.workerHeartbeatPattern('bull'),
      keys.index.activityLast,
      keys.index.activityHour('2026-12-05T01'),
      keys.index.activityMinute('2026-12-05T01:07'),
    ];
    // Assess
    for (const name of names) expect(name.startsWith('staging:')).toBe(true);
  });
});
