import { LOG_ID_RE } from '@logzip/core';
import { AdminError } from '../errors.js';
import type { AdminSettings } from './context.js';

/** Whether an object is an incoming archive: in the incoming bucket, under the incoming prefix. */
export function isInsideIncoming(settings: AdminSettings, bucket: string, key: string): boolean {
  return (
    bucket === settings.incoming.bucket && key.startsWith(settings.incoming.prefix) && !key.includes('/../')
  );
}

/**
 * Refuses a key outside the incoming bucket/prefix (`key_outside_prefix`): re-enqueue must not
 * become a way to read arbitrary objects.
 */
export function assertInsideIncoming(settings: AdminSettings, bucket: string | undefined, key: string): void {
  const target = bucket ?? settings.incoming.bucket;
  if (!isInsideIncoming(settings, target, key)) {
    throw new AdminError(
      'key_outside_prefix',
      `"${target}/${key}" is outside the incoming archives (s3://${settings.incoming.bucket}/${settings.incoming.prefix})`,
    );
  }
}

export function isLogId(value: string): boolean {
  return LOG_ID_RE.test(value);
}

export function assertLogId(value: string): void {
  if (!isLogId(value)) {
    throw new AdminError(
      'invalid_request',
      `"${value.slice(0, 80)}" is not a log ID (1-64 characters of [0-9A-Za-z_-])`,
    );
  }
}
