// The public API of @logzip/core: configuration, errors, the job and record contracts, the ports,
// the engine (extraction, sweep) and the attempt ledger the routes write through. Internals other
// packages or tests need have their own entry points: ./zip (the reader), ./state (the pure record
// rules), ./alerts (channels and message rendering), ./events (cross-process payloads) and the
// adapters (./s3, ./fs, ./bullmq, ./aws-trigger, ./logger, ./runtime).

export type { DigestDecision, DigestGate, DueDigest, PendingFailure } from './alerts/group-digest.js';
export { decideDigest } from './alerts/group-digest.js';
export type { GroupedAlerter, GroupedAlerterOptions } from './alerts/grouped-alerter.js';
export { createGroupedAlerter, startDigestFlush } from './alerts/grouped-alerter.js';
export type { AlertOutcome, AlertSource, FailureAlerter, FailureRun, NotifyOptions } from './alerts/types.js';
export type {
  CanaryArchive,
  CanaryDelivery,
  CanaryEntry,
  CanaryObservation,
  CanaryOptions,
  CanaryPorts,
  CanaryResult,
  CanaryStatus,
  ObservedEntry,
} from './canary/index.js';
export { buildCanaryArchive, compareCanaryEntries, makeCanaryLogId, runCanary } from './canary/index.js';
export type { ConfigRequirement, ConfigResult, Env, Limits, LogzipConfig } from './config.js';
export {
  DEFAULT_LIMITS,
  EXIT_CONFIG,
  envSchema,
  formatConfigErrors,
  parseBytes,
  parseDuration,
  readConfig,
} from './config.js';
export type { FailedAttempt } from './engine/attempts.js';
export {
  alertIfFinal,
  attemptsOfRequest,
  isFinalFailureOf,
  recordFailedAttempt,
  recordFailedAttemptOrLog,
  resolveFailure,
} from './engine/attempts.js';
export { extractArchive } from './engine/extract.js';
export type { AttemptContext, RecordedOutcome } from './engine/record.js';
export { extractAndRecord } from './engine/record.js';
export type { ResolveArchiveOptions } from './engine/resolve-archive.js';
export { resolveArchive } from './engine/resolve-archive.js';
export type {
  SweepOptions,
  SweepOutcome,
  SweepReport,
  SweepResult,
  SweepSnapshot,
  SweepSummary,
} from './engine/sweep.js';
export { sweep } from './engine/sweep.js';
export type { ExtractDeps, ExtractOptions, ExtractProgress, ExtractResult } from './engine/types.js';
export type { ErrorCode, LogzipErrorOptions } from './errors.js';
export { ERROR_CODES, isErrorCode, isLogzipError, LogzipError, toLogzipError } from './errors.js';
export type { EnqueueResult, ExtractJob, JobReason, QueueProducer } from './job.js';
export {
  DEFAULT_QUEUE_PREFIX,
  extractJobSchema,
  JOB_REASONS,
  jobIdFor,
  LOG_ID_RE,
  logIdSchema,
  QUEUE_NAME,
  runOfJob,
} from './job.js';
export { compileLogIdPattern, DEFAULT_LOG_ID_PATTERN, parseLogId, shardedArchiveKey } from './log-id.js';
export type { OperationRun, PerformItem, RunOperationOptions } from './operations/run-operation.js';
export { runOperation, STATE_CHECK_MS } from './operations/run-operation.js';
export type { Clock } from './ports/clock.js';
export { systemClock } from './ports/clock.js';
export type { FailureGroup, FailureGroups, GroupChange, GroupMember } from './ports/failure-groups.js';
export { GROUP_SAMPLE_SIZE } from './ports/failure-groups.js';
export type {
  FailureIndex,
  FailurePageQuery,
  FailureSummary,
  IndexBatch,
  IndexCounts,
  IndexPage,
  IndexReadiness,
  ManifestSummary,
  RebuildCheckpoint,
  RebuildControl,
  RebuildPhase,
} from './ports/failure-index.js';
export type { Logger } from './ports/logger.js';
export { silentLogger } from './ports/logger.js';
export type { ListOptions, ObjectInfo, ObjectStore, PutOptions, PutResult } from './ports/object-store.js';
export { isPreconditionFailed, PreconditionFailedError } from './ports/object-store.js';
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
} from './ports/operations.js';
export { OPERATION_KINDS, OPERATION_STATES } from './ports/operations.js';
export type { Route, RouteStore, TriggerControl, TriggerFilter, TriggerState } from './ports/route.js';
export { ROUTES } from './ports/route.js';
export type { CheckIndexOptions, DriftProblem, IndexDrift } from './state/check-index.js';
export { checkIndex } from './state/check-index.js';
export type { Fingerprint, FingerprintInput } from './state/fingerprint.js';
export { FINGERPRINT_FRAMES, fingerprintFailure } from './state/fingerprint.js';
export type { GroupedStateStoreOptions } from './state/grouped-state-store.js';
export { createGroupedStateStore, groupFailure } from './state/grouped-state-store.js';
export type { IndexCursor } from './state/index-cursor.js';
export { decodeCursor, encodeCursor } from './state/index-cursor.js';
export type { ParsedStateObject, StateObjectKind } from './state/index-summary.js';
export {
  parseStateObject,
  SUMMARY_KEY_CHARS,
  SUMMARY_MESSAGE_CHARS,
  sameFailureSummary,
  summarizeFailure,
  summarizeManifest,
} from './state/index-summary.js';
export type {
  IndexedStateStore,
  IndexedStateStoreOptions,
  IndexWriter,
} from './state/indexed-state-store.js';
export { createIndexedStateStore, isIndexedStateStore } from './state/indexed-state-store.js';
export type { IndexKeeper, IndexKeeperOptions } from './state/keep-index.js';
export { startIndexKeeper } from './state/keep-index.js';
export type { StateStoreOptions } from './state/object-state-store.js';
export { createStateStore } from './state/object-state-store.js';
export type {
  ReindexCounts,
  ReindexOptions,
  ReindexProgress,
  ReindexResult,
} from './state/reindex.js';
export { REBUILD_PHASES, reindex } from './state/reindex.js';
export type { FailureFilter, StateStore } from './state/state-store.js';
export type {
  AttemptRoute,
  AuditEntry,
  FailureAttempt,
  FailureRecord,
  FailureState,
  Manifest,
  ManifestEntry,
  RunKind,
  SourceRef,
} from './state/types.js';
export { FAILURE_STATES, RUN_KINDS } from './state/types.js';
export { isSupportedEncoding } from './zip/names.js';
