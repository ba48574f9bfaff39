import { randomBytes } from 'node:crypto';
import type { ObjectInfo } from '@logzip/core';
import { encodeS3Key } from '../event.js';

export interface S3EventOptions {
  region?: string;
  eventName?: string;
  /** The notification entry's Id, `configurationId` in the record. */
  configurationId?: string;
  eventVersion?: '2.0' | '2.1';
  requestId?: string;
  id2?: string;
  sequencer?: string;
}

let sequence = 0;

/** Increasing hex like S3's sequencer (which only orders events for one key). */
export function nextSequencer(): string {
  sequence = (sequence + 1) % 4096;
  return (BigInt(Date.now()) * 4096n + BigInt(sequence)).toString(16).toUpperCase().padStart(16, '0');
}

/** A 16-character upper-case hex id like S3's `x-amz-request-id`. */
export function fakeRequestId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

/** A base64 id like S3's `x-amz-id-2`. */
export function fakeId2(): string {
  return randomBytes(57).toString('base64');
}

/**
 * The notification S3 sends for one new object, byte for byte in shape: URL-encoded key (`+` for a
 * space), the upload's request ids, size, ETag and sequencer.
 */
export function buildS3Event(object: ObjectInfo, options: S3EventOptions = {}) {
  const region = options.region ?? 'us-east-1';
  return {
    Records: [
      {
        eventVersion: options.eventVersion ?? '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: object.lastModified.toISOString(),
        eventName: options.eventName ?? 'ObjectCreated:Put',
        userIdentity: { principalId: 'AWS:AIDAEMULATOR' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: {
          'x-amz-request-id': options.requestId ?? fakeRequestId(),
          'x-amz-id-2': options.id2 ?? fakeId2(),
        },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: options.configurationId ?? 'logzip',
          bucket: {
            name: object.bucket,
            ownerIdentity: { principalId: 'A3EMULATOR' },
            arn: `arn:aws:s3:::${object.bucket}`,
          },
          object: {
            key: encodeS3Key(object.key),
            size: object.size,
            eTag: object.etag,
            sequencer: options.sequencer ?? nextSequencer(),
          },
        },
      },
    ],
  };
}

export type S3Event = ReturnType<typeof buildS3Event>;
