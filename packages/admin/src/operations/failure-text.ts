import { isLogzipError } from '@logzip/core';
import { isTriggerControlError } from '@logzip/core/aws-trigger';
import { isRedisUnreachable } from '@logzip/core/bullmq';
import { isAdminError } from '../errors.js';

/** Whether a failure is about a dependency that could not be reached (worth retrying later). */
export function isUnavailable(error: unknown): boolean {
  // Trigger errors are LogzipErrors too: `storage_unavailable` exactly when they are retryable.
  if (isLogzipError(error)) return error.code === 'storage_unavailable' || error.code === 'timeout';
  // The Redis client's own errors (route flag, audit, locks, the queue) as its adapter classifies them.
  return isRedisUnreachable(error);
}

/**
 * One line about a failure that is safe to show an authenticated operator: our own errors say
 * what happened; anything else is reduced to its kind, never a stack or an internal message.
 */
export function describeFailure(error: unknown): string {
  if (isAdminError(error)) return error.message;
  // Written for operators (step, resource, AWS error name): shown as it is.
  if (isTriggerControlError(error)) return error.message;
  if (isLogzipError(error) && error.code !== 'internal') return `${error.code}: ${error.message}`;
  if (isUnavailable(error)) return 'storage_unavailable: Redis or storage could not be reached';
  return 'internal error (see the admin service log)';
}
