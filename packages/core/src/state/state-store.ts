import type { AuditEntry, FailureRecord, FailureState, Manifest } from './types.js';

export interface FailureFilter {
  state?: FailureState;
  code?: string;
  route?: string;
  /** Only records updated at or after this time. */
  since?: Date;
}

/**
 * Manifests, failure records and audit entries under the state prefix. One implementation
 * (StateStore in state/object-state-store.ts) over any ObjectStore keeps S3 and folders identical.
 */
export interface StateStore {
  getManifest(logId: string): Promise<Manifest | undefined>;
  /** Writes the current manifest; the previous one, if any, is kept in the history. */
  putManifest(manifest: Manifest): Promise<void>;
  /** Moves the current manifest to history (before a replacement starts). */
  retireManifest(logId: string): Promise<void>;
  listHistory(logId: string): Promise<Manifest[]>;
  getFailure(logId: string): Promise<FailureRecord | undefined>;
  putFailure(record: FailureRecord): Promise<void>;
  listFailures(filter?: FailureFilter): Promise<FailureRecord[]>;
  appendAudit(entry: AuditEntry): Promise<void>;
  listAudit(options?: { limit?: number }): Promise<AuditEntry[]>;
  /**
   * Takes the log ID's extraction lease when it is free, expired, or already this owner's; false
   * while another run holds it. One run at a time per log ID keeps a failing run's clean-up from
   * deleting what a concurrent run (the other route, a duplicate event) is writing.
   */
  acquireLease(logId: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Extends a held lease; throws if another owner has taken it over. */
  renewLease(logId: string, owner: string, ttlMs: number): Promise<void>;
  /** Gives the lease up if this owner still holds it. */
  releaseLease(logId: string, owner: string): Promise<void>;
  /** Removes every state object of a log ID (privacy purge). Returns the keys removed. */
  purge(logId: string): Promise<string[]>;
}
