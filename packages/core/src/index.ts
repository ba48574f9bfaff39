// The public API of @logzip/core: configuration, errors, the engine (extraction, sweep, the
// attempt ledger the routes write through), the job and log-ID contracts, the ports a caller
// implements or injects, and the records they carry. Internals other packages need have their own
// entry points: ./state (record rules, the failure index, groups, reindex), ./operations (bulk
// operations), ./canary, ./alerts (alerters, channels, messages), ./events (cross-process payloads),
// ./zip (the reader) and the adapters (./s3, ./fs, ./bullmq, ./redis, ./redis-index, ./aws-trigger,
// ./logger, ./runtime).

export type { ConfigRequirement, ConfigResult, Env, EnvSchema, Limits, LogzipConfig } from './config.js';
export {
  DEFAULT_LIMITS,
  EXIT_CONFIG,
  envFields,
  formatConfigErrors,
  parseBytes,
  parseDuration,
  readConfig,
  sharedEnvSchema,
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
export type { FullSweepOptions, FullSweepProgress, FullSweepResult } from './engine/full-sweep.js';
export { fullSweep } from './engine/full-sweep.js';
export type { InventoryReport, InventoryRow } from './engine/inventory.js';
export { parseInventoryLocation, readInventoryManifest } from './engine/inventory.js';
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
  extractJobSchema,
  JOB_REASONS,
  jobIdFor,
  LOG_ID_RE,
  logIdSchema,
  QUEUE_NAME,
  runOfJob,
} from './job.js';
export { compileLogIdPattern, DEFAULT_LOG_ID_PATTERN, parseLogId, shardedArchiveKey } from './log-id.js';
export type { Clock } from './ports/clock.js';
export { systemClock } from './ports/clock.js';
export type { Logger } from './ports/logger.js';
export { silentLogger } from './ports/logger.js';
export type { ListOptions, ObjectInfo, ObjectStore, PutOptions, PutResult } from './ports/object-store.js';
export { isPreconditionFailed, PreconditionFailedError } from './ports/object-store.js';
export type { Route, RouteStore, TriggerControl, TriggerFilter, TriggerState } from './ports/route.js';
export { ROUTES } from './ports/route.js';
export type {
  SpanAttributes,
  SpanAttributeValue,
  StartSpanOptions,
  Tracer,
  TraceSpan,
} from './ports/tracer.js';
export { inSpan, noopTracer, parseTraceparent, SPAN_ATTRIBUTES, TRACEPARENT } from './ports/tracer.js';
export type { StateStoreOptions } from './state/object-state-store.js';
export { createStateStore } from './state/object-state-store.js';
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
export type { TracesSampler, TracingSettings, TracingSettingsResult } from './tracing-config.js';
export { readTracingSettings, TRACES_SAMPLERS } from './tracing-config.js';
export { isSupportedEncoding } from './zip/names.js';
