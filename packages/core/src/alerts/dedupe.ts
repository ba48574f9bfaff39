import { createHash } from 'node:crypto';
import type { ObjectStore } from '../ports/object-store.js';
import type { AlertSource, ChannelOutcome } from './types.js';

/** Where alert markers live: the state prefix of the output bucket, next to the failure records. */
export interface AlertMarkerLocation {
  store: ObjectStore;
  bucket: string;
  /** LOGZIP_STATE_PREFIX (a missing trailing slash is added). */
  prefix: string;
}

/** What a marker holds: enough to say which failure was announced, when, and how it went. */
export interface AlertMarker {
  version: 1;
  logId: string;
  key: string;
  failureId: string;
  code: string;
  source: AlertSource;
  claimedAt: string;
  /** Random: tells the claimer its own marker from another process's. */
  claimId: string;
  channels: string[];
  /** Written after the channels answered (a marker without it: the sender died, or is still sending). */
  outcome?: { status: 'sent' | 'failed'; finishedAt: string; channels: ChannelOutcome[] };
}

/**
 * The marker of one failure's alert: `<statePrefix>alerts/<logId>-<hash>.json`, hash = the first
 * 16 hex digits of sha256(logId, source key, failure id). Created with `ifNoneMatch`, so of two
 * processes announcing the same failure (the Lambda handler's last attempt and the drain of its
 * on-failure destination, or a `failed` event handled twice) exactly one wins.
 */
export function alertMarkerKey(prefix: string, logId: string, key: string, failureId: string): string {
  const base = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  const hash = createHash('sha256').update(`${logId}\n${key}\n${failureId}`).digest('hex').slice(0, 16);
  return `${base}alerts/${logId}-${hash}.json`;
}

function body(marker: AlertMarker): Buffer {
  return Buffer.from(`${JSON.stringify(marker)}\n`);
}

/** Creates the marker; throws PreconditionFailedError when it exists (the alert is someone else's). */
export async function claimAlertMarker(location: AlertMarkerLocation, marker: AlertMarker): Promise<void> {
  const key = alertMarkerKey(location.prefix, marker.logId, marker.key, marker.failureId);
  await location.store.put(location.bucket, key, body(marker), {
    contentType: 'application/json',
    ifNoneMatch: true,
  });
}

/** The marker as stored, or undefined when there is none. */
export async function readAlertMarker(
  location: AlertMarkerLocation,
  logId: string,
  key: string,
  failureId: string,
): Promise<AlertMarker | undefined> {
  const objectKey = alertMarkerKey(location.prefix, logId, key, failureId);
  if ((await location.store.head(location.bucket, objectKey)) === undefined) return undefined;
  return JSON.parse((await location.store.get(location.bucket, objectKey)).toString('utf8')) as AlertMarker;
}

/** Rewrites a claimed marker with how the delivery went. */
export async function completeAlertMarker(location: AlertMarkerLocation, marker: AlertMarker): Promise<void> {
  const key = alertMarkerKey(location.prefix, marker.logId, marker.key, marker.failureId);
  await location.store.put(location.bucket, key, body(marker), { contentType: 'application/json' });
}
