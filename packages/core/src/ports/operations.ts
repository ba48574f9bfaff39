export const OPERATION_KINDS = ['reenqueue', 'purge'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

export const OPERATION_STATES = ['running', 'paused', 'aborted', 'finished'] as const;
export type OperationState = (typeof OPERATION_STATES)[number];

/** How the log IDs were chosen (kept for the audit and the views; the frozen list is the truth). */
export interface OperationSelection {
  group?: string;
  code?: string;
  route?: string;
  /** ISO time: failures updated at or after it. */
  since?: string;
  allFailed?: boolean;
  /** How many log IDs were named explicitly. */
  logIds?: number;
}

export interface OperationOptions {
  /** Items per second at most (0 = unlimited). */
  ratePerSecond: number;
  force?: boolean;
  /** A fallback code page to re-extract with (reenqueue). */
  encoding?: string;
}

/** A stored bulk job: `ops show --json`. */
export interface Operation {
  id: string;
  kind: OperationKind;
  state: OperationState;
  total: number;
  done: number;
  failed: number;
  skipped: number;
  left: number;
  /** Items per second since the operation last started or resumed. */
  rate: number;
  /** Seconds left at that rate, when it is known. */
  etaSeconds?: number;
  createdBy: string;
  reason: string;
  selection: OperationSelection;
  options: OperationOptions;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
}

export type ItemOutcome = 'done' | 'failed' | 'skipped';

/** What one log ID's action came to. */
export interface OperationItemResult {
  logId: string;
  outcome: ItemOutcome;
  /** The action's own word: enqueued, already_queued, not_found, already_extracted, error... */
  detail: string;
  at: string;
}

export interface NewOperation {
  kind: OperationKind;
  createdBy: string;
  reason: string;
  selection: OperationSelection;
  options: OperationOptions;
}

/**
 * Operations in Redis: the frozen list of log IDs, one result per log ID (written once: a log ID
 * is never counted twice), counters, state, and the position the runner reached.
 */
export interface OperationStore {
  create(operation: NewOperation, logIds: readonly string[], at: Date): Promise<Operation>;
  get(id: string): Promise<Operation | undefined>;
  /** The newest first. */
  list(limit: number): Promise<Operation[]>;
  /** Moves the state when it is one of `from`; returns the operation after, or undefined if it did not move. */
  transition(
    id: string,
    from: readonly OperationState[],
    to: OperationState,
    at: Date,
  ): Promise<Operation | undefined>;
  /** The next log IDs from the runner's position that have no result yet, and the position after them. */
  nextBatch(id: string, size: number): Promise<{ logIds: string[]; position: number }>;
  /** Remembers where the runner is (a restart continues there). */
  advance(id: string, position: number): Promise<void>;
  /** Records one result; false when the log ID already has one (nothing is counted twice). */
  record(id: string, result: OperationItemResult): Promise<boolean>;
  results(id: string, query: { offset: number; limit: number }): Promise<OperationItemResult[]>;
}
