export type {
  AlertAttempt,
  AlertChannel,
  AlertOutcome,
  AlertSource,
  BuildAlertOptions,
  ChannelOutcome,
  FailureAlert,
  FailureAlerter,
  FailureRun,
  FinalReason,
  NotifyOptions,
  SlackBlock,
  SlackPayload,
  SnsPublishContent,
} from './alerts/index.js';
export {
  alertMarkerKey,
  alertTitle,
  archivePageUrl,
  buildFailureAlert,
  failureIdOf,
  renderAlertText,
  renderSlackPayload,
  renderSnsPublish,
  scrubSecrets,
  secretsOf,
} from './alerts/index.js';
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
export { contentTypeFor } from './engine/content-type.js';
export { crc32Hex, extractArchive, logIdFolder, sameSource } from './engine/extract.js';
export type { AttemptContext, RecordedOutcome } from './engine/record.js';
export { extractAndRecord } from './engine/record.js';
export type { ResolveArchiveOptions } from './engine/resolve-archive.js';
export { resolveArchive } from './engine/resolve-archive.js';
export type { ExtractDeps, ExtractOptions, ExtractProgress, ExtractResult } from './engine/types.js';
export type { ErrorCode, LogzipErrorOptions } from './errors.js';
export {
  ARCHIVE_ERROR_CODES,
  ERROR_CODES,
  isErrorCode,
  isLogzipError,
  LogzipError,
  toLogzipError,
} from './errors.js';
export type { EnqueueResult, ExtractJob, JobReason, QueueProducer } from './job.js';
export { extractJobSchema, JOB_REASONS, jobIdFor, LOG_ID_RE, logIdSchema, QUEUE_NAME } from './job.js';
export { compileLogIdPattern, DEFAULT_LOG_ID_PATTERN, parseLogId, shardedArchiveKey } from './log-id.js';
export type { Clock } from './ports/clock.js';
export { systemClock } from './ports/clock.js';
export type { Logger } from './ports/logger.js';
export { silentLogger } from './ports/logger.js';
export type { ListOptions, ObjectInfo, ObjectStore, PutOptions } from './ports/object-store.js';
export { isPreconditionFailed, PreconditionFailedError } from './ports/object-store.js';
export type { Route, RouteStore, TriggerControl, TriggerFilter, TriggerState } from './ports/route.js';
export { ROUTES } from './ports/route.js';
export type { RecordAttemptInput } from './state/failures.js';
export { recordAttempt, resolveRecord } from './state/failures.js';
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
  SourceRef,
} from './state/types.js';
export { FAILURE_STATES } from './state/types.js';
export type { PlannedEntry, RandomAccessReader, ZipDirectory, ZipEntry } from './zip/index.js';
export {
  assertEncoding,
  blockReader,
  bufferReader,
  InflateBudget,
  openEntryStream,
  planEntries,
  readEntry,
  readZipDirectory,
} from './zip/index.js';
