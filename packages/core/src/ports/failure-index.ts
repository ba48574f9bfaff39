import type { AuditEntry, FailureState } from '../state/types.js';
import type { PendingSet } from './pending-set.js';

/**
 * What the index keeps of one failure record: enough to list, filter, count and group it without
 * reading the object (the object stays the truth: the stack, the entry and every attempt are in
 * it, and `status` reads it). This is also the item of a failures page.
 */
export interface FailureSummary {
  logId: string;
  state: FailureState;
  code: string;
  route: string;
  /** The latest error's message, cut to SUMMARY_MESSAGE_CHARS. */
  message: string;
  /** The archive key, cut to SUMMARY_KEY_CHARS. */
  sourceKey: string;
  /** Attempts kept in the record. */
  attemptCount: number;
  createdAt: string;
  updatedAt: string;
  resolvedAt?: string;
}

/** What the index keeps of a current manifest: the status lookup answers "extracted?" from it. */
export interface ManifestSummary {
  logId: string;
  sourceKey: string;
  etag: string;
  files: number;
  bytes: number;
  finishedAt: string;
  route?: string;
}

export interface FailurePageQuery {
  state?: FailureState;
  code?: string;
  route?: string;
  /** Only records updated at or after this time. */
  since?: Date;
  /** Log IDs that start with this text. */
  logIdPrefix?: string;
  limit: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

export interface IndexPage<T> {
  items: T[];
  /** Everything that matches the query, not only this page. */
  total: number;
  /** Present only when more items follow. */
  nextCursor?: string;
}

export interface IndexCounts {
  byState: Record<FailureState, number>;
  /** Per error code, per state. */
  byCode: Record<string, Record<FailureState, number>>;
}

/** Whether the index can answer views: `ready` once a rebuild has completed since Redis last lost it. */
export interface IndexReadiness {
  ready: boolean;
  builtAt?: string;
  /** The rebuild under way, when one holds the lock. */
  rebuilding?: { owner: string; checkpoint?: RebuildCheckpoint };
}

export type RebuildPhase = 'manifests' | 'failures' | 'audit';

/** Where an interrupted rebuild resumes: the phase and the last object key it finished. */
export interface RebuildCheckpoint {
  runId: string;
  phase: RebuildPhase;
  /** The last key of `phase` that is indexed (listing resumes after it). */
  after?: string;
  counts: { manifests: number; failures: number; audit: number; skipped: number };
  startedAt: string;
  /** The run started on an index without failures: there are no orphans to prune at the end. */
  fromEmpty?: boolean;
}

/** One finished extraction or final failure, as the activity counters see it. */
export interface ExtractionActivity {
  kind: 'extracted' | 'failed';
  route: string;
  /** ISO time it finished. */
  at: string;
}

/** What the dashboard's throughput, chart and health strip read: per route (lambda, queue). */
export interface ActivityView {
  lastExtracted: { lambda: string | null; queue: string | null };
  lastFailed: { lambda: string | null; queue: string | null };
  /** Totals of the last `minutes` minutes. */
  window: {
    minutes: number;
    extracted: { lambda: number; queue: number };
    failed: { lambda: number; queue: number };
  };
  /** One entry per UTC hour, oldest first, the current hour last. */
  hours: Array<{
    hour: string;
    extracted: { lambda: number; queue: number };
    failed: { lambda: number; queue: number };
  }>;
}

export interface IndexBatch {
  failures?: FailureSummary[];
  manifests?: ManifestSummary[];
  audit?: AuditEntry[];
}

/**
 * The index of the state prefix: failure summaries with newest-first pages per filter, manifest
 * summaries for the status lookup, the audit log, counts. Rebuilt from the objects at any time;
 * every write is idempotent and an older summary never replaces a newer one.
 */
export interface FailureIndex {
  readiness(): Promise<IndexReadiness>;
  putFailure(summary: FailureSummary): Promise<void>;
  removeFailure(logId: string): Promise<void>;
  putManifest(summary: ManifestSummary): Promise<void>;
  removeManifest(logId: string): Promise<void>;
  addAudit(entry: AuditEntry): Promise<void>;
  /** Per-route extraction activity (last times, hourly counters); absent on indexes that keep none. */
  activity?(now: Date): Promise<ActivityView>;
  /** Writes many summaries in one round trip (the rebuild). */
  putBatch(batch: IndexBatch): Promise<void>;
  /** One log ID's summaries: constant cost. */
  lookup(logId: string): Promise<{ failure?: FailureSummary; manifest?: ManifestSummary }>;
  /** Many log IDs' summaries in one round trip (the full sweep's check of a listing page). */
  lookupMany(
    logIds: readonly string[],
  ): Promise<Map<string, { failure?: FailureSummary; manifest?: ManifestSummary }>>;
  /** Archives observed and not yet settled (the periodic sweep's work list); same Redis, same hash tag. */
  readonly pending: PendingSet;
  /** undefined while the index is not ready (never an empty page that looks true). */
  pageFailures(query: FailurePageQuery): Promise<IndexPage<FailureSummary> | undefined>;
  pageAudit(query: { limit: number; cursor?: string }): Promise<IndexPage<AuditEntry> | undefined>;
  counts(): Promise<IndexCounts | undefined>;
  /** Drops resolved failures and audit entries older than the cutoff; returns how many left. */
  trim(olderThan: Date): Promise<{ failures: number; audit: number }>;
  /** Every indexed failure log ID, in pages (drift checks). */
  scanFailureIds(): AsyncIterable<string[]>;
  rebuild: RebuildControl;
}

/** The rebuild's lock, checkpoint and ready marker. */
export interface RebuildControl {
  /** Takes the rebuild lock; false while another owner holds it. */
  acquire(owner: string, ttlMs: number): Promise<boolean>;
  /** Extends the lock; false when it was lost (expired, taken over, or Redis was flushed). */
  renew(owner: string, ttlMs: number): Promise<boolean>;
  release(owner: string): Promise<void>;
  readCheckpoint(): Promise<RebuildCheckpoint | undefined>;
  writeCheckpoint(checkpoint: RebuildCheckpoint): Promise<void>;
  /** Starts (or continues) run `runId`: views answer "rebuilding" until finish(). */
  begin(runId: string): Promise<void>;
  /** Marks the index ready if run `runId` is still the one building (false after a flush). */
  finish(runId: string, at: Date): Promise<boolean>;
}
