import { randomUUID } from 'node:crypto';
import { type JobState, type JobsOptions, type KeepJobs, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  type EnqueueResult,
  type ExtractJob,
  extractJobSchema,
  jobIdFor,
  QUEUE_NAME,
  type QueueProducer,
} from '../../job.js';
import { DEFAULT_KEYS, DEFAULT_QUEUE_PREFIX, type RedisKeys } from './keys.js';

/** The BullMQ job name of an extraction job. */
export const EXTRACT_JOB_NAME = 'extract';

/** A job in one of these states will still run: a second enqueue of its log ID is `already_queued`. */
export const PENDING_STATES: readonly JobState[] = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
];

/** The job states the queue's counts are given for (the admin's overview, the worker's metrics). */
export const COUNTED_STATES = [
  ...PENDING_STATES,
  'failed',
  'completed',
] as const satisfies readonly JobState[];

/** Retention: Redis must not grow without bound; failure records keep the history that matters. */
export const DEFAULT_REMOVE_ON_COMPLETE: KeepJobs = { age: 7 * 24 * 3600, count: 10_000 };
export const DEFAULT_REMOVE_ON_FAIL: KeepJobs = { age: 30 * 24 * 3600, count: 50_000 };

export interface BullmqProducerOptions {
  /** An ioredis client (createRedis). The producer never closes it. */
  connection: Redis;
  queueName?: string;
  /** BullMQ key prefix (default `bull`); tests use a unique one. */
  prefix?: string;
  /** Attempts per job, the first run included (default 3). */
  attempts?: number;
  /** First exponential backoff delay: retries wait delay, 2×delay, 4×delay... (default 2,000 ms). */
  backoffDelayMs?: number;
  removeOnComplete?: KeepJobs;
  removeOnFail?: KeepJobs;
  /** The deployment's key names (redisKeys(LOGZIP_KEY_NAMESPACE)), for the enqueue lock; default `logzip:`. */
  keys?: Pick<RedisKeys, 'enqueueLock'>;
}

export type QueueJobState = JobState;

export interface BullmqProducer extends QueueProducer {
  readonly queue: Queue;
  /** The job options every enqueue uses. */
  readonly jobOptions: Readonly<JobsOptions>;
  /** The state of the log ID's job in the queue, or undefined when it has none. */
  getJobState(logId: string): Promise<QueueJobState | undefined>;
  /** Job counts by state (waiting, active, delayed, prioritized, failed, completed...). */
  getCounts(): Promise<Record<string, number>>;
  /** Closes the Queue object (not the connection). */
  close(): Promise<void>;
}

const LOCK_TTL_MS = 10_000;
const LOCK_WAIT_MS = 2_000;
const RELEASE_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

function firstIssue(error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }): string {
  return error.issues
    .map((issue) =>
      issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message,
    )
    .join('; ');
}

/**
 * The queue producer of the `queue` route. One job per log ID: the job id is `jobIdFor(logId)`,
 * a log ID whose job is waiting, delayed or running is `already_queued`, and a log ID whose
 * previous job completed or failed gets a fresh job (the finished one is removed first, since
 * BullMQ silently ignores an add() with the id of a job that still exists). Enqueues of one log
 * ID are serialised with a short Redis lock so two callers cannot both report `enqueued`.
 *
 * @example
 * const producer = createBullmqProducer({ connection: createRedis(config.redisUrl) });
 * await producer.enqueue({ logId: '54321', bucket: 'logs', key: 'incoming/ab/cd/54321.zip', reason: 'upload' });
 */
export function createBullmqProducer(options: BullmqProducerOptions): BullmqProducer {
  const queueName = options.queueName ?? QUEUE_NAME;
  const prefix = options.prefix ?? DEFAULT_QUEUE_PREFIX;
  const redis = options.connection;
  const queue = new Queue(queueName, { connection: redis, prefix });
  // Errors surface on the calls themselves; an unhandled 'error' event would crash the process.
  queue.on('error', () => {});
  const jobOptions: JobsOptions = Object.freeze({
    attempts: options.attempts ?? 3,
    backoff: { type: 'exponential', delay: options.backoffDelayMs ?? 2_000 },
    removeOnComplete: options.removeOnComplete ?? DEFAULT_REMOVE_ON_COMPLETE,
    removeOnFail: options.removeOnFail ?? DEFAULT_REMOVE_ON_FAIL,
  });

  async function getJobState(logId: string): Promise<QueueJobState | undefined> {
    const state = await queue.getJobState(jobIdFor(logId));
    return state === 'unknown' ? undefined : state;
  }

  async function acquire(lockKey: string, token: string): Promise<boolean> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      if ((await redis.set(lockKey, token, 'PX', LOCK_TTL_MS, 'NX')) === 'OK') return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async function enqueue(job: ExtractJob): Promise<EnqueueResult> {
    const parsed = extractJobSchema.safeParse(job);
    if (!parsed.success) return { outcome: 'refused', reason: `invalid job: ${firstIssue(parsed.error)}` };
    const data = parsed.data;
    const jobId = jobIdFor(data.logId);
    const lockKey = (options.keys ?? DEFAULT_KEYS).enqueueLock(prefix, queueName, jobId);
    const token = randomUUID();
    // Another caller is enqueueing this log ID right now: its job is the one that will run.
    if (!(await acquire(lockKey, token))) return { outcome: 'already_queued', jobId };
    try {
      const state = await queue.getJobState(jobId);
      if (PENDING_STATES.includes(state as JobState)) return { outcome: 'already_queued', jobId };
      if (state === 'completed' || state === 'failed') {
        if ((await queue.remove(jobId)) !== 1) {
          // Only a locked job cannot be removed, and a locked job is running: it is queued.
          return { outcome: 'already_queued', jobId };
        }
      }
      await queue.add(EXTRACT_JOB_NAME, data, { ...jobOptions, jobId });
      return { outcome: 'enqueued', jobId };
    } finally {
      await redis.eval(RELEASE_LOCK, 1, lockKey, token).catch(() => {});
    }
  }

  return {
    queue,
    jobOptions,
    enqueue,
    getJobState,
    async getCounts() {
      return queue.getJobCounts(...COUNTED_STATES);
    },
    async close() {
      await queue.close();
    },
  };
}
