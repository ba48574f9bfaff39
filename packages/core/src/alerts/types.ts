import type { ErrorCode } from '../errors.js';
import type { AttemptRoute, FailureRecord, RunKind } from '../state/types.js';

/** The path on which a failure became final, and so the one that announces it. */
export type AlertSource = 'lambda' | 'queue' | 'lambda-destination';

/** Why the failure is final. */
export type FinalReason = 'permanent' | 'retries_exhausted' | 'lambda_destination';

/**
 * The run whose failure is being announced. Its identity is the dedupe key: the Lambda handler's
 * last attempt and the on-failure destination's message for it share the `requestId` (Lambda keeps
 * one awsRequestId across the retries of an event), and a BullMQ job is its id plus its creation
 * time (logzip reuses one job id per log ID, so the id alone repeats across re-enqueues).
 */
export interface FailureRun {
  source: AlertSource;
  /** Lambda awsRequestId (handler and destination). */
  requestId?: string | undefined;
  /** BullMQ job id. */
  jobId?: string | undefined;
  /** The BullMQ job's creation time (`job.timestamp`). */
  jobCreatedAt?: Date | undefined;
  /** The Lambda destination's condition (`RetriesExhausted`, `EventAgeExceeded`). */
  condition?: string | undefined;
}

/** One attempt as an alert shows it. */
export interface AlertAttempt {
  at: string;
  route: AttemptRoute;
  /** The attempt's number within its run. */
  attempt: number;
  run: RunKind;
  code: ErrorCode;
  requestId?: string;
  jobId?: string;
}

/** Everything an alert says, already cut to size and scrubbed of secrets; renderers only format it. */
export interface FailureAlert {
  logId: string;
  bucket: string;
  key: string;
  route: AttemptRoute;
  source: AlertSource;
  code: ErrorCode;
  /** The code's one-line meaning (ERROR_CODES). */
  codeSummary: string;
  retryable: boolean;
  reason: FinalReason;
  /** One sentence saying why nothing will retry it. */
  reasonText: string;
  message: string;
  entry?: string;
  /**
   * The first lines of the stack, then each later `Caused by:` line with its first frame (after a
   * `    ...` line), each cut to a readable length.
   */
  stackTop: string[];
  /** Lines of the stack not shown. */
  stackOmitted: number;
  /** Attempts of the run that failed (0 when the record holds none of them). */
  runAttempts: number;
  /** Attempts the failure record holds for this log ID (all runs, at most MAX_ATTEMPTS_KEPT). */
  totalAttempts: number;
  /** The newest attempts, oldest first. */
  recentAttempts: AlertAttempt[];
  firstFailedAt: string;
  lastFailedAt: string;
  /** The admin's page of the log ID. */
  link: string;
  /** The run's identity (not a secret): `lambda:<awsRequestId>` or `queue:<jobId>@<created ms>`. */
  failureId: string;
  condition?: string;
}

/**
 * Where alerts go (the alert port). `send` throws when the channel did not take the alert; the
 * caller bounds it with `signal`, retries once, logs and moves on.
 */
export interface AlertChannel {
  /** `webhook`, `sns`...: shown in logs and in the alert marker, never a secret. */
  readonly name: string;
  send(alert: FailureAlert, options: { signal: AbortSignal }): Promise<void>;
}

export type ChannelOutcome =
  | { channel: string; ok: true; tries: number }
  | { channel: string; ok: false; tries: number; error: string };

export type AlertOutcome =
  /** At least one channel took it. */
  | { status: 'sent'; failureId: string; channels: ChannelOutcome[] }
  /** Every channel failed (logged). */
  | { status: 'failed'; failureId: string; channels: ChannelOutcome[] }
  /** Another process (or an earlier try) already claimed this failure's alert. */
  | { status: 'duplicate'; failureId: string }
  /** Nothing to send: no channel configured, or the record is not `failed`. */
  | { status: 'skipped'; reason: 'no_channels' | 'not_failed' | 'digested' };

export interface NotifyOptions {
  /**
   * The most time the whole call may take, retries included (a Lambda near its deadline must not
   * time out, which Lambda would retry, for an alert). Default: no limit beyond the per-try timeout.
   */
  budgetMs?: number;
}

/** Announces final failures; never throws. */
export interface FailureAlerter {
  /** Whether any channel is configured (callers may skip reading a record when not). */
  readonly enabled: boolean;
  notifyFailure(record: FailureRecord, run: FailureRun, options?: NotifyOptions): Promise<AlertOutcome>;
}
