import { z } from 'zod';

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
    /** W3C trace context of whoever queued the job (ingest, a hand-off): the worker continues the trace. */
    traceparent: z.string().max(55).optional(),
  })
  .strict();

export type ExtractJob = z.infer<typeof extractJobSchema>;

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
