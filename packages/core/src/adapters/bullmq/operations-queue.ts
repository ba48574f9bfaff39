import type { Queue } from 'bullmq';

// The contract between whoever starts a run of a stored operation (the admin service, the CLI) and
// the worker that runs it: the queue's name and the job's payload.

/** The BullMQ queue whose jobs run stored operations (one job = one run of one operation). */
export const OPERATIONS_QUEUE_NAME = 'logzip-operations';

/** What an operation job carries: the operation is in Redis, the job only names it. */
export interface OperationJob {
  operationId: string;
}

/** Adds a run of an operation (create and resume call this). */
export async function enqueueOperationRun(queue: Queue<OperationJob>, operationId: string): Promise<void> {
  await queue.add(
    'run',
    { operationId },
    {
      jobId: `${operationId}-${Date.now().toString(36)}`,
      attempts: 1_000,
      backoff: { type: 'fixed', delay: 1_000 },
      removeOnComplete: { count: 1_000 },
      removeOnFail: { count: 1_000 },
    },
  );
}
