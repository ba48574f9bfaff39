/** Why an archive is not run in this invocation. */
export type HandoffReason =
  | 'over_max_bytes'
  | 'estimate_exceeds_time'
  | 'deadline_reached'
  | 'timed_out_before';

export interface BudgetInput {
  /** Archive size in bytes. */
  size: number;
  /** LOGZIP_LAMBDA_MAX_BYTES. */
  maxBytes: number;
  /** context.getRemainingTimeInMillis() now. */
  remainingMs: number;
  safetyMarginMs: number;
  /** Conservative archive bytes per second. */
  minThroughput: number;
}

export type BudgetDecision =
  | { action: 'run'; estimatedMs: number /** Abort the run this many ms from now. */; abortAfterMs: number }
  | { action: 'handoff'; reason: HandoffReason; estimatedMs: number; detail: string };

/**
 * Decides before a run whether it fits this invocation. Pure: the handler feeds it the archive
 * size and the remaining time, and arms an abort `abortAfterMs` from now when it says run.
 */
export function planBudget(input: BudgetInput): BudgetDecision {
  const estimatedMs = Math.ceil((input.size / input.minThroughput) * 1000);
  const usableMs = input.remainingMs - input.safetyMarginMs;
  if (input.size > input.maxBytes) {
    return {
      action: 'handoff',
      reason: 'over_max_bytes',
      estimatedMs,
      detail: `${input.size} bytes is over LOGZIP_LAMBDA_MAX_BYTES (${input.maxBytes})`,
    };
  }
  if (estimatedMs > usableMs) {
    return {
      action: 'handoff',
      reason: 'estimate_exceeds_time',
      estimatedMs,
      detail: `an estimated ${estimatedMs} ms does not fit the ${Math.max(0, usableMs)} ms left before the safety margin`,
    };
  }
  return { action: 'run', estimatedMs, abortAfterMs: usableMs };
}
