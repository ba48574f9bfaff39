import type { IndexPage } from './failure-index.js';

/** Failures with one cause (one fingerprint) that are still `failed`. */
export interface FailureGroup {
  fingerprint: string;
  code: string;
  /** Log IDs whose failure record is `failed` with this fingerprint now. */
  count: number;
  /** The earliest createdAt and the latest updatedAt of any record the group has held. */
  firstSeen: string;
  lastSeen: string;
  routes: string[];
  /** The newest log IDs of the group (at most GROUP_SAMPLE_SIZE). */
  sample: string[];
  /** The normalised top frames (or message) the fingerprint names. */
  signature: string;
  /** Members by the hour of their latest failure, the last 24 hours, oldest first (24 numbers). */
  trend: number[];
}

/** One failure record as the groups see it. */
export interface GroupMember {
  logId: string;
  fingerprint: string;
  signature: string;
  code: string;
  route: string;
  state: string;
  createdAt: string;
  updatedAt: string;
}

/** What a put did to the member's group: `new` (never seen), `reopened` (had no member), `open`. */
export type GroupChange = 'new' | 'reopened' | 'open' | 'left' | 'stale';

export const GROUP_SAMPLE_SIZE = 5;

/**
 * Failure groups in the index: a group per fingerprint, its members (failed log IDs) newest first,
 * its first/last seen, routes and signature. Every write is idempotent; an older record never
 * replaces a newer one.
 */
export interface FailureGroups {
  /** Puts a record in its group (state `failed`), or takes it out of any group (other states). */
  put(member: GroupMember): Promise<GroupChange>;
  /** Takes a log ID out of its group (purge). */
  remove(logId: string): Promise<void>;
  /** Groups with at least one member, the most recently failed first. */
  list(query: { limit: number; cursor?: string; code?: string }): Promise<IndexPage<FailureGroup>>;
  get(fingerprint: string): Promise<FailureGroup | undefined>;
  /** One group's log IDs, newest first. */
  members(fingerprint: string, query: { limit: number; cursor?: string }): Promise<IndexPage<string>>;
  /** Every log ID of a group, in pages (an operation freezes its selection from them). */
  scanMembers(fingerprint: string, pageSize?: number): AsyncIterable<string[]>;
}
