import { describe, expect, it } from 'vitest';
import {
  otherDeployments,
  otherDeploymentsWarning,
  queuePrefixFor,
  redisKeys,
} from '../../src/adapters/bullmq/keys.js';

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
    expect(keys.sessionPrefix).toBe('logzip:session:');
    expect(keys.sessionIndex).toBe('logzip:sessions');
    expect(keys.uiResultPrefix).toBe('logzip:ui-result:');
    expect(keys.index.meta).toBe('logzip:{index}:meta');
    expect(keys.index.byFilter('failed', 'corrupt')).toBe('logzip:{index}:z:failed:corrupt:*');
    expect(keys.groups.groups).toBe('logzip:{index}:g');
    expect(keys.groups.open).toBe('logzip:{index}:g:open');
    expect(keys.groups.members('fp1')).toBe('logzip:{index}:g:m:fp1');
    expect(keys.groups.memberOf).toBe('logzip:{index}:g:of');
    expect(keys.operations.list).toBe('logzip:ops');
    expect(keys.operations.base('op-1')).toBe('logzip:{op:op-1}:');
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
      keys.sessionPrefix,
      keys.sessionIndex,
      keys.uiResultPrefix,
      keys.index.meta,
      keys.groups.groups,
      keys.operations.list,
      keys.operations.base('op-1'),
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

describe('another deployment in the same database (LOGZIP_KEY_NAMESPACE)', () => {
  it("finds the namespaces of other deployments' keys, not its own nor BullMQ's or unrelated ones", () => {
    // Prepare
    const keys = [
      'logzip:route',
      'logzip:{index}:meta',
      'staging:audit',
      'staging:sessions',
      'qa:ops',
      'bull:logzip-extract:meta',
      'cache:user:route',
      'session:abc',
    ];

    // Act
    const fromDefault = otherDeployments(keys, 'logzip:');
    const fromStaging = otherDeployments(keys, 'staging:');

    // Assess
    expect(fromDefault).toEqual(['qa:', 'staging:']);
    expect(fromStaging).toEqual(['logzip:', 'qa:']);
    expect(otherDeployments(['logzip:route', 'logzip:audit'], 'logzip:')).toEqual([]);
  });

  it('warns naming both namespaces and the two ways out', () => {
    // Act
    const message = otherDeploymentsWarning(['staging:'], 'logzip:');

    // Assess
    expect(message).toContain('another logzip deployment (namespace "staging:")');
    expect(message).toContain('this stack uses "logzip:"');
    expect(message).toContain('LOGZIP_KEY_NAMESPACE');
    expect(message).toContain('redis://host:6379/N');
  });

  it('keeps the queue prefix bull under the default namespace and follows any other', () => {
    expect(queuePrefixFor('logzip:')).toBe('bull');
    expect(queuePrefixFor('staging:')).toBe('staging');
  });
});
