import type { ErrorCode } from '../errors.js';
import type { Route } from '../ports/route.js';

export interface SourceRef {
  bucket: string;
  key: string;
  /** S3 ETag (or the MD5 of a local file). */
  etag: string;
  size: number;
}

export interface ManifestEntry {
  /** Path inside the archive after decoding and normalisation. */
  path: string;
  /** The object key it was written to. */
  key: string;
  size: number;
  /** 8 lowercase hex digits. */
  crc32: string;
}

/** Written last: its presence means the archive is completely extracted. */
export interface Manifest {
  version: 1;
  logId: string;
  source: SourceRef;
  output: { bucket: string; prefix: string };
  entries: ManifestEntry[];
  bytes: number;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /**
   * The fallback code page entry names without the UTF-8 flag were read with (LOGZIP_FALLBACK_ENCODING,
   * or a re-enqueue's `--encoding`). Manifests of earlier versions do not say.
   */
  nameEncoding?: string;
  route?: Route | 'cli';
  requestId?: string;
}

export const FAILURE_STATES = ['retrying', 'failed', 'resolved'] as const;
export type FailureState = (typeof FAILURE_STATES)[number];
export type AttemptRoute = Route | 'cli';

/**
 * What started the run an attempt belongs to: the upload (its S3 event, the ingest API, a Lambda
 * hand-off of it), an operator's re-enqueue (queue or Lambda), the sweeper, or a bulk operation.
 */
export const RUN_KINDS = ['upload', 'reenqueue', 'sweep', 'operation'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

export interface FailureAttempt {
  at: string;
  route: AttemptRoute;
  /** Lambda awsRequestId, or the BullMQ job id. */
  requestId?: string;
  jobId?: string;
  /** The number of this attempt across every run of the log ID, 1-based (kept when older attempts are dropped). */
  attempt: number;
  /** The run it belongs to (records written before runs were kept read as `upload`). */
  run: RunKind;
  /** The number of this attempt within its run (Lambda's invoke count, BullMQ's attempt). */
  runAttempt: number;
  /** Tells apart runs that share a job id (logzip reuses `log-<logId>`): `<jobId>@<job created ms>`. */
  runId?: string;
  code: ErrorCode;
  message: string;
}

/** One per log ID, updated by both routes on every failed attempt. */
export interface FailureRecord {
  version: 1;
  logId: string;
  state: FailureState;
  source: { bucket: string; key: string };
  route: AttemptRoute;
  code: ErrorCode;
  message: string;
  stack?: string;
  entry?: string;
  attempts: FailureAttempt[];
  createdAt: string;
  updatedAt: string;
  resolvedAt?: string;
}

export interface AuditEntry {
  at: string;
  operator: string;
  action: string;
  /** Free-form details: from/to route, reason, log IDs, outcome... */
  details: Record<string, unknown>;
  outcome: 'ok' | 'error';
}
