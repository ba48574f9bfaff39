import { ERROR_CODES, isErrorCode } from '@logzip/core';

/** Whether running the same archive again can help, and what the operator should do. */
export interface FailureAdvice {
  kind: 'permanent' | 'transient';
  advice: string;
}

const PERMANENT_ADVICE: Record<string, string> = {
  source_not_found:
    'The archive is gone from the bucket: ask the uploader to send it again, or purge the log ID.',
  too_large_for_lambda:
    'Too large or slow for a Lambda run: re-enqueue via the queue (a worker has no time limit).',
  invalid_key: 'The file name yields no log ID: fix LOGZIP_LOG_ID_PATTERN or have the upload renamed.',
  limits_exceeded:
    'The archive exceeds the extraction limits: raise a LOGZIP_MAX_* limit if it is legitimate, or ask the uploader.',
};

/**
 * The advice for a failure code: permanent codes mean the archive itself is bad (running it again
 * fails the same way: ask the uploader for a new upload); transient ones mean a dependency failed
 * (re-enqueue once it is back).
 *
 * @example
 * adviseOn('crc_mismatch') // { kind: 'permanent', advice: 'The archive itself is bad: …' }
 */
export function adviseOn(code: string): FailureAdvice {
  if (isErrorCode(code) && ERROR_CODES[code].retryable) {
    return {
      kind: 'transient',
      advice:
        'Storage, Redis or AWS failed or ran out of time: re-enqueue once the dependency is healthy (the route status and the logs by request id say which).',
    };
  }
  return {
    kind: 'permanent',
    advice:
      PERMANENT_ADVICE[code] ??
      'The archive itself is bad: ask the uploader for a new upload. Re-enqueueing the same archive fails the same way.',
  };
}
