// @logzip/core/operations: bulk operations over many log IDs (re-enqueue, retry, purge), shared by
// the admin's API, UI and CLI and run by the operations worker.
export type {
  ItemOutcome,
  NewOperation,
  Operation,
  OperationItemResult,
  OperationKind,
  OperationOptions,
  OperationSelection,
  OperationState,
  OperationStore,
} from '../ports/operations.js';
export { OPERATION_KINDS, OPERATION_STATES } from '../ports/operations.js';
export type { OperationRun, PerformItem, RunOperationOptions } from './run-operation.js';
export { runOperation, STATE_CHECK_MS } from './run-operation.js';
