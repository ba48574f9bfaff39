import type { TriggerControl, TriggerState } from '@logzip/core';
import { AdminError } from '../errors.js';

/**
 * S3 storage without LOGZIP_LAMBDA_FUNCTION: the admin cannot tell which notification entry is
 * logzip's, so it says so instead of guessing; switching to lambda is refused.
 */
export function createUnconfiguredTriggerControl(bucket: string): TriggerControl {
  const state: TriggerState = {
    enabled: false,
    details: { kind: 'none', bucket },
    problems: ['LOGZIP_LAMBDA_FUNCTION is not set: the admin cannot read or switch the S3 trigger'],
  };
  return {
    read: async () => state,
    enable: async () => {
      throw new AdminError(
        'conflict',
        'LOGZIP_LAMBDA_FUNCTION is not set: there is no function to route archives to',
      );
    },
    disable: async () => state,
  };
}
