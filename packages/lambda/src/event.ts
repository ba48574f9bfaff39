import type { RunKind } from '@logzip/core';
import {
  decodeS3Key,
  isSupportedEventVersion,
  rerunPayloadSchema,
  s3RecordSchema,
} from '@logzip/core/events';

/** One archive the invocation was asked to extract, whatever the event shape it came from. */
export interface ArchiveWork {
  kind: 'archive';
  origin: 's3' | 'rerun';
  bucket: string;
  /** Decoded key, as stored in S3. */
  key: string;
  /** Given by a re-run payload; S3 events take it from the key. */
  logId?: string;
  force?: boolean;
  /** A re-run's fallback code page for names without the UTF-8 flag (default LOGZIP_FALLBACK_ENCODING). */
  encoding?: string;
  /** The run its attempts belong to: `upload` for an S3 event, the re-run payload's (default `reenqueue`). */
  run: RunKind;
  /** From the S3 event record; undefined for a re-run. */
  size?: number;
  etag?: string;
  sequencer?: string;
  eventName?: string;
  eventTime?: string;
  /** The upload's `x-amz-request-id` and `x-amz-id-2`. */
  s3RequestId?: string;
  s3Id2?: string;
}

/** Something in the event that is not work for this function, with the reason it is skipped. */
export interface SkipWork {
  kind: 'skip';
  reason: string;
  bucket?: string;
  key?: string;
  s3RequestId?: string;
  s3Id2?: string;
}

export type Work = ArchiveWork | SkipWork;

function parseS3Record(raw: unknown, index: number): Work {
  const parsed = s3RecordSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      kind: 'skip',
      reason: `record ${index} is not an S3 event record (${issue?.path.join('.')}: ${issue?.message})`,
    };
  }
  const record = parsed.data;
  const ids = {
    ...(record.responseElements?.['x-amz-request-id'] === undefined
      ? {}
      : { s3RequestId: record.responseElements['x-amz-request-id'] }),
    ...(record.responseElements?.['x-amz-id-2'] === undefined
      ? {}
      : { s3Id2: record.responseElements['x-amz-id-2'] }),
  };
  const bucket = record.s3.bucket.name;
  const key = decodeS3Key(record.s3.object.key);
  if (key === undefined) {
    return {
      kind: 'skip',
      reason: 'the key is not validly URL-encoded',
      bucket,
      key: record.s3.object.key,
      ...ids,
    };
  }
  if (record.eventSource !== 'aws:s3') {
    return { kind: 'skip', reason: `event source ${record.eventSource} is not aws:s3`, bucket, key, ...ids };
  }
  if (!isSupportedEventVersion(record.eventVersion)) {
    return { kind: 'skip', reason: `event version ${record.eventVersion} is not 2.x`, bucket, key, ...ids };
  }
  if (!record.eventName.startsWith('ObjectCreated:')) {
    return {
      kind: 'skip',
      reason: `event ${record.eventName} is not an ObjectCreated event`,
      bucket,
      key,
      ...ids,
    };
  }
  const object = record.s3.object;
  return {
    kind: 'archive',
    origin: 's3',
    run: 'upload',
    bucket,
    key,
    eventName: record.eventName,
    ...(record.eventTime === undefined ? {} : { eventTime: record.eventTime }),
    ...(object.size === undefined ? {} : { size: object.size }),
    ...(object.eTag === undefined ? {} : { etag: object.eTag.replace(/"/g, '') }),
    ...(object.sequencer === undefined ? {} : { sequencer: object.sequencer }),
    ...ids,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Turns whatever the function was invoked with into work items: one per S3 record, or one for a
 * re-run payload. Never throws: a shape it does not know is a skip with a reason, because
 * retrying an event the function cannot read only delays the log line that says so.
 */
export function parseInvocationEvent(event: unknown): Work[] {
  if (!isObject(event)) return [{ kind: 'skip', reason: 'the event is not a JSON object' }];
  if (event['Event'] === 's3:TestEvent') {
    return [
      {
        kind: 'skip',
        reason: 's3:TestEvent (sent when a notification configuration is saved)',
        ...(typeof event['Bucket'] === 'string' ? { bucket: event['Bucket'] } : {}),
        ...(typeof event['RequestId'] === 'string' ? { s3RequestId: event['RequestId'] } : {}),
        ...(typeof event['HostId'] === 'string' ? { s3Id2: event['HostId'] } : {}),
      },
    ];
  }
  if (Array.isArray(event['Records'])) {
    if (event['Records'].length === 0) return [{ kind: 'skip', reason: 'the event has no records' }];
    return event['Records'].map((record, index) => parseS3Record(record, index));
  }
  if ('logId' in event || 'key' in event) {
    const parsed = rerunPayloadSchema.safeParse(event);
    if (!parsed.success) {
      const problems = parsed.error.issues
        .map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`)
        .join('; ');
      return [
        {
          kind: 'skip',
          reason: `invalid re-run payload (${problems})`,
          ...(typeof event['bucket'] === 'string' ? { bucket: event['bucket'] } : {}),
          ...(typeof event['key'] === 'string' ? { key: event['key'] } : {}),
        },
      ];
    }
    const payload = parsed.data;
    return [
      {
        kind: 'archive',
        origin: 'rerun',
        run: payload.run ?? 'reenqueue',
        bucket: payload.bucket,
        key: payload.key,
        logId: payload.logId,
        ...(payload.force === undefined ? {} : { force: payload.force }),
        ...(payload.encoding === undefined ? {} : { encoding: payload.encoding }),
      },
    ];
  }
  return [{ kind: 'skip', reason: 'the event is neither an S3 notification nor a re-run payload' }];
}
