import { describe, expect, it } from 'vitest';
import { planBudget } from '../../src/budget.js';

const MB = 1_000_000;

describe('planBudget', () => {
  it('runs an archive that fits, arming the abort at the safety margin', () => {
    // Act
    const decision = planBudget({
      size: 40 * MB,
      maxBytes: 1024 * MB,
      remainingMs: 900_000,
      safetyMarginMs: 30_000,
      minThroughput: 4 * MB,
    });
    // Assess
    expect(decision).toEqual({ action: 'run', estimatedMs: 10_000, abortAfterMs: 870_000 });
  });

  it('hands off an archive over LOGZIP_LAMBDA_MAX_BYTES whatever the time left', () => {
    // Act
    const decision = planBudget({
      size: 1025 * MB,
      maxBytes: 1024 * MB,
      remainingMs: 900_000,
      safetyMarginMs: 30_000,
      minThroughput: 1000 * MB,
    });
    // Assess
    expect(decision).toMatchObject({ action: 'handoff', reason: 'over_max_bytes' });
  });

  it('hands off an archive whose estimate does not fit the remaining time', () => {
    // Act
    const decision = planBudget({
      size: 100 * MB,
      maxBytes: 1024 * MB,
      remainingMs: 50_000,
      safetyMarginMs: 30_000,
      minThroughput: 4 * MB,
    });
    // Assess
    expect(decision).toMatchObject({
      action: 'handoff',
      reason: 'estimate_exceeds_time',
      estimatedMs: 25_000,
    });
  });
});
