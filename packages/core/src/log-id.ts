import { createHash } from 'node:crypto';
import { LogzipError } from './errors.js';

export const DEFAULT_LOG_ID_PATTERN = '^(?<logId>[0-9A-Za-z_]{1,64})(?:-[^/]*)?\\.zip$';

/** Compiles LOGZIP_LOG_ID_PATTERN; `.zip` matching is case-insensitive, as the contract says. */
export function compileLogIdPattern(pattern: string = DEFAULT_LOG_ID_PATTERN): RegExp {
  const re = new RegExp(pattern, 'i');
  if (!re.source.includes('(?<logId>')) {
    throw new Error('LOGZIP_LOG_ID_PATTERN must have a named group "logId"');
  }
  return re;
}

/** The log ID of an archive key, from its file name (the part after the last `/`). */
export function parseLogId(key: string, pattern: RegExp): string {
  const fileName = key.slice(key.lastIndexOf('/') + 1);
  const logId = pattern.exec(fileName)?.groups?.logId;
  if (!logId || !/^[0-9A-Za-z_-]{1,64}$/.test(logId)) {
    throw new LogzipError('invalid_key', `cannot take a log ID from "${key}"`);
  }
  return logId;
}

/** `incoming/ab/cd/<logId>.zip`: the first four hex digits of sha256(logId) spread the keys. */
export function shardedArchiveKey(incomingPrefix: string, logId: string): string {
  const hex = createHash('sha256').update(logId).digest('hex');
  return `${incomingPrefix}${hex.slice(0, 2)}/${hex.slice(2, 4)}/${logId}.zip`;
}
