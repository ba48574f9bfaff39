import type {
  AuditEntry,
  Clock,
  Logger,
  ObjectStore,
  QueueProducer,
  RouteStore,
  StateStore,
  TriggerControl,
} from '@logzip/core';
import type { WorkerHeartbeat } from '@logzip/core/bullmq';
import type { RerunPayload } from '@logzip/core/events';
import type { FailureGroups, FailureIndex } from '@logzip/core/state';

import type { OperationRunner } from './bulk-operations.js';
import type { HealthThresholds } from './health.js';

/** Where archives arrive and where their files go: what every operation checks keys against. */
export interface AdminSettings {
  incoming: { bucket: string; prefix: string };
  output: { bucket: string; prefix: string };
  logIdPattern: RegExp;
  /** How S3 reaches the function (LOGZIP_TRIGGER_MODE); `direct` when not given. */
  triggerMode?: 'direct' | 'buffered';
  /** When the health strip turns red (DEFAULT_HEALTH_THRESHOLDS when not given). */
  health?: HealthThresholds;
}

/** Who asked for an action, and through which door: every audit entry names both. */
export interface Actor {
  operator: string;
  channel: 'api' | 'ui' | 'cli';
}

/** A log ID's job in the queue, as the admin shows it. */
export interface QueueJobView {
  id: string;
  state: string;
  attemptsMade: number;
  failedReason: string | null;
  reason: string | null;
  key: string | null;
  createdAt: string | null;
  processedAt: string | null;
  finishedAt: string | null;
}

/** The queue as the admin reads it (counts, one log ID's job) and the one change purge needs. */
export interface QueueView {
  counts(): Promise<Record<string, number>>;
  job(logId: string): Promise<QueueJobView | undefined>;
  /** Removes the log ID's job unless it is running. */
  remove(logId: string): Promise<'removed' | 'active' | 'none'>;
  /** Jobs that finished since the given time. */
  throughput(since: Date): Promise<{ completed: number; failed: number }>;
  /** The job that has waited longest for a worker, if any. */
  oldestWaiting(): Promise<{ id: string; createdAt: string } | undefined>;
}

/** Invokes the extraction function asynchronously (InvocationType Event). */
export interface LambdaInvoker {
  readonly functionName: string;
  invoke(payload: RerunPayload): Promise<{ statusCode: number | undefined }>;
}

/** The sweeper's last published backlog (archives nobody extracted yet). */
export interface BacklogView {
  at: string;
  count: number;
  oldestLastModified: string | null;
}

export interface AuditLog {
  /** Appends to Redis and to the state store; never throws (a lost write is logged). */
  record(entry: Omit<AuditEntry, 'at'>): Promise<AuditEntry>;
  list(options?: { limit?: number }): Promise<AuditEntry[]>;
  /** Newest first, a page at a time (from the index when there is one). */
  page(options: { limit: number; cursor?: string }): Promise<AuditPage>;
}

export interface AuditPage {
  entries: AuditEntry[];
  total: number;
  nextCursor?: string;
}

/** A short exclusive lock, so two operators cannot switch the route at the same time. */
export interface SwitchLock {
  acquire(name: string, ttlMs: number): Promise<(() => Promise<void>) | undefined>;
}

/** Everything the operations need, injected: the HTTP API and the direct CLI build the same one. */
export interface OperationsContext {
  settings: AdminSettings;
  store: ObjectStore;
  state: StateStore;
  /** The index the views page through (the state store writes through to it). */
  index: FailureIndex;
  routes: RouteStore;
  trigger: TriggerControl;
  producer: QueueProducer;
  queue: QueueView;
  audit: AuditLog;
  lambda?: LambdaInvoker;
  lock?: SwitchLock;
  backlog?: () => Promise<BacklogView | undefined>;
  /** The workers' heartbeats (undefined: the health strip says it cannot see the workers). */
  heartbeats?: () => Promise<WorkerHeartbeat[]>;
  /** Failure groups in the Redis index (undefined: views say the index is needed). */
  groups?: FailureGroups;
  /** Stored bulk operations and the queue their runs go to (the workers run them). */
  operations?: OperationRunner;
  logger: Logger;
  clock: Clock;
}
