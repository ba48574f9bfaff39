/** An archive some process saw arrive (the ingest API, a notify, the Lambda's event, a worker's job). */
export interface ObservedArchive {
  logId: string;
  bucket: string;
  key: string;
  /**
   * The trace the archive's extraction continues (the ingest span), for routes whose object carries
   * no metadata (folder storage, an archive announced by notify).
   */
  traceparent?: string;
}

/** One entry of the pending set: the log ID's last observed archive and when it was first seen. */
export interface PendingEntry extends ObservedArchive {
  firstSeen: Date;
  lastSeen: Date;
}

/** Where an interrupted full sweep resumes: per unit (a key range or an inventory file), how far it got. */
export interface FullSweepCheckpoint {
  runId: string;
  /** `listing` or the inventory manifest's location: a checkpoint of another source is not resumed. */
  source: string;
  startedAt: string;
  /** Units finished. */
  done: string[];
  /** Per unit in progress: the last key checked (listing) or the rows read (inventory). */
  positions: Record<string, string>;
  counts: Record<string, number>;
}

/** What the write paths need: mark an archive observed, take a log ID out once it is settled. */
export interface PendingMarks {
  /** Adds the log ID (first-seen time kept when it is already pending; the archive and last-seen time updated). */
  observe(archive: ObservedArchive, at: Date): Promise<void>;
  /**
   * Takes the log ID out, unless an archive was observed after `startedAt` (a re-upload during the
   * run that settled it: that one is still pending).
   */
  settle(logId: string, startedAt: Date): Promise<void>;
  /** The traceparent observed with the log ID's last archive; undefined when none was (or it is not pending). */
  traceparentOf(logId: string): Promise<string | undefined>;
}

/**
 * The set of archives observed but not yet extracted or failed for good, so the periodic sweep
 * checks what changed instead of every archive ever uploaded. Also keeps the full sweep's
 * baseline (when one last finished), its checkpoint and its lock.
 */
export interface PendingSet extends PendingMarks {
  /** Takes the log ID out whatever was observed (the sweep found it extracted, failed or gone). */
  remove(logId: string): Promise<void>;
  /** Up to `limit` entries first seen at or before `before`, oldest first. */
  due(before: Date, limit: number): Promise<PendingEntry[]>;
  stats(): Promise<{ count: number; oldest?: Date }>;
  /** When a full sweep last finished; undefined after Redis lost it (or before the first). */
  baseline(): Promise<Date | undefined>;
  setBaseline(at: Date): Promise<void>;
  fullSweep: {
    acquire(owner: string, ttlMs: number): Promise<boolean>;
    renew(owner: string, ttlMs: number): Promise<boolean>;
    release(owner: string): Promise<void>;
    readCheckpoint(): Promise<FullSweepCheckpoint | undefined>;
    writeCheckpoint(checkpoint: FullSweepCheckpoint): Promise<void>;
    clearCheckpoint(): Promise<void>;
  };
}
