import type { TriggerState } from '@logzip/core';
import { describe, expect, it } from 'vitest';
import { computeDrift } from '../../src/operations/route.js';

function trigger(enabled: boolean, extra: Partial<TriggerState> = {}): TriggerState {
  return {
    enabled,
    ...(enabled ? { filter: { prefix: 'incoming/', suffix: '.zip' } } : {}),
    details: { kind: 'aws', expectedFilter: { prefix: 'incoming/', suffix: '.zip' } },
    problems: [],
    ...extra,
  };
}

describe('computeDrift', () => {
  it('is quiet when the desired route and the trigger agree', () => {
    // Act
    const lambda = computeDrift('lambda', trigger(true), null);
    const queue = computeDrift('queue', trigger(false), null);

    // Assess
    expect(lambda).toEqual({ detected: false, level: 'ok', messages: [], warnings: [] });
    expect(queue).toEqual({ detected: false, level: 'ok', messages: [], warnings: [] });
  });

  it('flags both mismatches, an unknown flag and an unreadable trigger as drift', () => {
    // Act
    const missingTrigger = computeDrift('lambda', trigger(false), null);
    const strayTrigger = computeDrift('queue', trigger(true), null);
    const unknown = computeDrift(null, trigger(true), null);
    const unreadable = computeDrift(
      'lambda',
      null,
      'reading the notification configuration failed (AccessDenied)',
    );

    // Assess
    expect(missingTrigger.messages[0]).toMatch(/route says lambda but the S3 trigger is missing/);
    expect(strayTrigger.messages[0]).toMatch(/route says queue but the S3 trigger is still on/);
    expect(unknown.messages[0]).toMatch(/route flag is not set.*on \(lambda\)/);
    expect(unreadable.messages[0]).toMatch(/AccessDenied/);
    for (const drift of [missingTrigger, strayTrigger, unknown, unreadable]) {
      expect(drift).toMatchObject({ detected: true, level: 'danger' });
    }
  });

  it('flags a trigger that fires for other keys than the incoming archives', () => {
    // Act
    const drift = computeDrift('lambda', trigger(true, { filter: { prefix: 'uploads/', suffix: '' } }), null);

    // Assess
    expect(drift.detected).toBe(true);
    expect(drift.messages[0]).toMatch(/fires for prefix "uploads\/"/);
  });

  it("reports the lambda route's problems as warnings, and ignores them while the queue route is active", () => {
    // Prepare
    const throttled = trigger(true, { problems: ['reserved concurrency is 0 (throttled)'] });
    const idle = trigger(false, { problems: ['reserved concurrency is 0 (throttled)'] });

    // Act
    const onLambda = computeDrift('lambda', throttled, null);
    const onQueue = computeDrift('queue', idle, null);

    // Assess
    expect(onLambda).toEqual({
      detected: false,
      level: 'warning',
      messages: [],
      warnings: ['reserved concurrency is 0 (throttled)'],
    });
    expect(onQueue.level).toBe('ok');
  });
});
