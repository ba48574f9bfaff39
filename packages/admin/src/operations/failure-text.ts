import { isLogzipError } from '@logzip/core';
import { isAdminError } from '../errors.js';

interface NamedError {
  name?: unknown;
  message?: unknown;
  retryable?: unknown;
  code?: unknown;
}

/** Errors of the trigger adapters are written for operators (step, resource, AWS error name). */
function isTriggerError(error: unknown): error is Error & { retryable: boolean; step: string } {
  return error instanceof Error && error.name === 'TriggerControlError';
}

const REDIS_DOWN =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|Connection is closed|MaxRetriesPerRequest|Stream isn't writeable/i;

/** Whether a failure is about a dependency that could not be reached (worth retrying later). */
export function isUnavailable(error: unknown): boolean {
  if (isLogzipError(error)) return error.code === 'storage_unavailable' || error.code === 'timeout';
  if (isTriggerError(error)) return error.retryable;
  const e = error as NamedError;
  return typeof e?.message === 'string' && REDIS_DOWN.test(e.message);
}

/**
 * One line about a failure that is safe to show an authenticated operator: our own errors say
 * what happened; anything else is reduced to its kind, never a stack or an internal message.
 */
export function describeFailure(error: unknown): string {
  if (isAdminError(error)) return error.message;
  if (isTriggerError(error)) return error.message;
  if (isLogzipError(error) && error.code !== 'internal') return `${error.code}: ${error.message}`;
  if (isUnavailable(error)) return 'storage_unavailable: Redis or storage could not be reached';
  return 'internal error (see the admin service log)';
}
