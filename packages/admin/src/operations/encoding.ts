import { isSupportedEncoding } from '@logzip/core';
import { AdminError } from '../errors.js';

/**
 * Refuses a re-run's fallback code page the engine cannot read names in, before anything is
 * enqueued: a typo would otherwise fail every archive of the selection with `internal`.
 */
export async function assertSupportedEncoding(encoding: string | undefined): Promise<void> {
  if (encoding === undefined) return;
  if (!(await isSupportedEncoding(encoding))) {
    throw new AdminError(
      'unknown_encoding',
      `"${encoding.slice(0, 64)}" is not a code page logzip can read names in (try cp437, latin1, cp932, cp1252)`,
    );
  }
}
