import type { Route } from '@logzip/core';
import { observeArchive } from '@logzip/core/state';
import { AdminError } from '../errors.js';
import type { OperationsContext } from '../operations/context.js';

/** Where an archive went: `lambda` (the S3 trigger takes it) or `queue` (a job was enqueued). */
export interface Dispatch {
  route: Route;
  /** Whether a job for the log ID is on the queue now (enqueued here, or already waiting). */
  enqueued: boolean;
}

export interface DispatchInput {
  logId: string;
  bucket: string;
  key: string;
  /** Request ids the failure record and the worker's logs carry. */
  requestIds?: Record<string, string>;
  /** The ingest span: observed with the archive and put on the job, so either route continues its trace. */
  traceparent?: string;
}

/**
 * Dispatches a stored archive by the current route: `lambda` needs nothing more (the S3 trigger,
 * or the local emulator, fires on the object); `queue`, and a route nobody set, enqueue a job
 * (deduplicated by log ID): an upload is never left to chance. Errors (Redis unreachable) are the
 * caller's to handle.
 */
export async function dispatchArchive(ctx: OperationsContext, input: DispatchInput): Promise<Dispatch> {
  await observeArchive(
    ctx.state,
    {
      logId: input.logId,
      bucket: input.bucket,
      key: input.key,
      ...(input.traceparent === undefined ? {} : { traceparent: input.traceparent }),
    },
    ctx.logger,
  );
  const route = await ctx.routes.get();
  if (route === 'lambda') return { route: 'lambda', enqueued: false };
  const result = await ctx.producer.enqueue({
    logId: input.logId,
    bucket: input.bucket,
    key: input.key,
    reason: 'upload',
    ...(input.requestIds === undefined ? {} : { requestIds: input.requestIds }),
    ...(input.traceparent === undefined ? {} : { traceparent: input.traceparent }),
  });
  if (result.outcome === 'refused') {
    throw new AdminError('invalid_request', `the archive cannot be queued: ${result.reason}`);
  }
  if (route === undefined) {
    ctx.logger.warn(
      { logId: input.logId, key: input.key },
      'the route flag is not set: the upload was queued (set it with logzip route lambda|queue)',
    );
  }
  return { route: 'queue', enqueued: true };
}
