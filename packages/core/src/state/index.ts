// @logzip/core/state: the pure record rules, the failure index and its keeper, failure groups and
// fingerprints, and the reindex. The state store itself (createStateStore, StateStore) is in the
// root entry point.

export type { FailureGroup, FailureGroups, GroupChange, GroupMember } from '../ports/failure-groups.js';
export { GROUP_SAMPLE_SIZE } from '../ports/failure-groups.js';
export type {
  ActivityView,
  ExtractionActivity,
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
} from '../ports/failure-index.js';
export type {
  FullSweepCheckpoint,
  ObservedArchive,
  PendingEntry,
  PendingMarks,
  PendingSet,
} from '../ports/pending-set.js';
export type { CheckIndexOptions, DriftProblem, IndexDrift } from './check-index.js';
export { checkIndex } from './check-index.js';
export type { RecordAttemptInput } from './failures.js';
export {
  MAX_ATTEMPTS_KEPT,
  MAX_STACK_CHARS,
  recordAttempt,
  resolveRecord,
  runIdOfJob,
  upgradeFailureRecord,
} from './failures.js';
export type { Fingerprint, FingerprintInput } from './fingerprint.js';
export { FINGERPRINT_FRAMES, fingerprintFailure } from './fingerprint.js';
export type { GroupedStateStoreOptions } from './grouped-state-store.js';
export { createGroupedStateStore, groupFailure } from './grouped-state-store.js';
export type { IndexCursor } from './index-cursor.js';
export { decodeCursor, encodeCursor } from './index-cursor.js';
export type { ParsedStateObject, StateObjectKind } from './index-summary.js';
export {
  parseStateObject,
  SUMMARY_KEY_CHARS,
  SUMMARY_MESSAGE_CHARS,
  sameFailureSummary,
  summarizeFailure,
  summarizeManifest,
} from './index-summary.js';
export type { IndexedStateStore, IndexedStateStoreOptions, IndexWriter } from './indexed-state-store.js';
export {
  createIndexedStateStore,
  isIndexedStateStore,
  observeArchive,
  observedTraceparent,
} from './indexed-state-store.js';
export type { IndexKeeper, IndexKeeperOptions } from './keep-index.js';
export { startIndexKeeper } from './keep-index.js';
export type { ReindexCounts, ReindexOptions, ReindexProgress, ReindexResult } from './reindex.js';
export { REBUILD_PHASES, reindex } from './reindex.js';
