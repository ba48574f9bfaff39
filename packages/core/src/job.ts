import * as z from 'zod';
import { RUN_KINDS, type RunKind } from './state/types.js';

export const QUEUE_NAME = 'logzip-extract';
/** BullMQ's own key prefix (LOGZIP_QUEUE_PREFIX); every logzip process of a deployment must use the same one. */
export const DEFAULT_QUEUE_PREFIX = 'bull';

export const LOG_ID_RE = /^[0-9A-Za-z_-]{1,64}$/;
export const logIdSchema = z.string().regex(LOG_ID_RE, 'a log ID is 1-64 characters of [0-9A-Za-z_-]');

/** `notification`: taken from the trigger queue by the worker (buffered mode, route `queue`). */
export const JOB_REASONS = ['upload', 'reenqueue', 'sweep', 'handoff', 'notification'] as const;
export type JobReason = (typeof JOB_REASONS)[number];

/** The extraction job, validated on both ends of the queue. */
export const extractJobSchema = z
  .object({
    logId: logIdSchema,
    bucket: z.string().min(1).max(255),
    key: z.string().min(1).max(1024),
    reason: z.enum(JOB_REASONS),
    force: z.boolean().optional(),
    requestIds: z.record(z.string(), z.string()).optional(),
    /** A fallback code page for entry names without the UTF-8 flag, instead of LOGZIP_FALLBACK_ENCODING. */
    encoding: z.string().min(1).max(64).optional(),
    /** The run the job's attempts belong to, when the reason does not say it (runOfJob). */
    run: z.enum(RUN_KINDS).optional(),
    /** W3C trace context of whoever queued the job (ingest, a hand-off): the worker continues the trace. */
    traceparent: z.string().max(55).optional(),
  })
  .strict();

export type ExtractJob = z.infer<typeof extractJobSchema>;

/**
 * The run a job's attempts belong to: its own `run`, else what its reason implies (a hand-off or a
 * notification carries on its upload). Jobs of earlier versions carry no `run`.
 */
export function runOfJob(job: Pick<ExtractJob, 'reason' | 'run'>): RunKind {
  if (job.run !== undefined) return job.run;
  if (job.reason === 'reenqueue' || job.reason === 'sweep') return job.reason;
  return 'upload';
}

export type EnqueueResult =
  | { outcome: 'enqueued'; jobId: string }
  | { outcome: 'already_queued'; jobId: string }
  | { outcome: 'refused'; reason: string };

/** Puts extraction jobs on the queue; at most one waiting or active job per log ID. */
export interface QueueProducer {
  enqueue(job: ExtractJob): Promise<EnqueueResult>;
}

/** BullMQ custom ids cannot be all digits nor contain ':'; log IDs can be all digits. */
export function jobIdFor(logId: string): string {
  return `log-${logId}`;
}
