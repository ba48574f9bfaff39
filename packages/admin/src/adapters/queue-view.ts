import { jobIdFor } from '@logzip/core';
import { COUNTED_STATES } from '@logzip/core/bullmq';
import type { Job, Queue } from 'bullmq';
import type { QueueJobView, QueueView } from '../operations/context.js';

const THROUGHPUT_SCAN = 1000;

function iso(ms: number | undefined): string | null {
  return ms === undefined || ms === 0 ? null : new Date(ms).toISOString();
}

function viewOf(job: Job, state: string): QueueJobView {
  const data = (job.data ?? {}) as { reason?: unknown; key?: unknown };
  return {
    id: job.id ?? '',
    state,
    attemptsMade: job.attemptsMade,
    failedReason: job.failedReason === undefined || job.failedReason === '' ? null : job.failedReason,
    reason: typeof data.reason === 'string' ? data.reason : null,
    key: typeof data.key === 'string' ? data.key : null,
    createdAt: iso(job.timestamp),
    processedAt: iso(job.processedOn),
    finishedAt: iso(job.finishedOn),
  };
}

/** The admin's view of the BullMQ queue: counts, one log ID's job (`jobIdFor(logId)`), removal. */
export function createQueueView(queue: Queue): QueueView {
  return {
    async counts() {
      return queue.getJobCounts(...COUNTED_STATES);
    },

    async job(logId) {
      const job = await queue.getJob(jobIdFor(logId));
      if (job === undefined || job === null) return undefined;
      return viewOf(job, await job.getState());
    },

    async remove(logId) {
      const job = await queue.getJob(jobIdFor(logId));
      if (job === undefined || job === null) return 'none';
      if ((await job.getState()) === 'active') return 'active';
      try {
        await job.remove();
        return 'removed';
      } catch {
        // BullMQ refuses to remove a job that got locked (started) meanwhile.
        return 'active';
      }
    },

    async oldestWaiting() {
      // The wait list is newest first; asc reads it from its far (oldest) end.
      const [job] = await queue.getJobs(['wait'], 0, 0, true);
      if (job === undefined || job === null) return undefined;
      return { id: job.id ?? '', createdAt: new Date(job.timestamp).toISOString() };
    },

    async throughput(since) {
      const cutoff = since.getTime();
      const count = async (state: 'completed' | 'failed') => {
        const jobs = await queue.getJobs([state], 0, THROUGHPUT_SCAN - 1, false);
        return jobs.filter((job) => (job?.finishedOn ?? 0) >= cutoff).length;
      };
      const [completed, failed] = await Promise.all([count('completed'), count('failed')]);
      return { completed, failed };
    },
  };
}
