export type { BulkItem, BulkResult, BulkSummary } from './bulk.js';
export { bulkExitCode, summarize, summaryLine } from './bulk.js';
export type {
  Actor,
  AdminSettings,
  AuditLog,
  BacklogView,
  LambdaInvoker,
  OperationsContext,
  QueueJobView,
  QueueView,
  SwitchLock,
} from './context.js';
export { describeFailure, isUnavailable } from './failure-text.js';
export type { FailureList, FailureQuery } from './failures.js';
export { listFailures, parseFailureState } from './failures.js';
export { assertInsideIncoming, assertLogId, isInsideIncoming, isLogId } from './keys.js';
export type { Overview } from './overview.js';
export { getOverview } from './overview.js';
export type { PurgeInput, PurgeOutcome } from './purge.js';
export { purge } from './purge.js';
export type { ReenqueueInput, ReenqueueOutcome, ReenqueueVia } from './reenqueue.js';
export { reenqueue, selectLogIds } from './reenqueue.js';
export type { Drift, DriftLevel, RouteStatus, SwitchRouteInput, SwitchRouteResult } from './route.js';
export { computeDrift, getRouteStatus, switchRoute } from './route.js';
export type { ArchiveStatus, TimelineEvent } from './status.js';
export { getArchiveStatus } from './status.js';
