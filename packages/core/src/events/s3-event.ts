import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import type { ObjectInfo } from '../ports/object-store.js';

/** Bucket and key of an S3 event record: all a reader that only needs the archive takes. */
const s3ObjectRef = {
  bucket: z.object({ name: z.string().min(1) }),
  object: z.object({ key: z.string().min(1) }),
};

/** The parts of an S3 event record (versions 2.0 to 2.x) logzip reads; unknown fields pass. */
export const s3RecordSchema = z.object({
  eventVersion: z.string(),
  eventSource: z.string(),
  eventName: z.string(),
  eventTime: z.string().optional(),
  responseElements: z
    .object({ 'x-amz-request-id': z.string().optional(), 'x-amz-id-2': z.string().optional() })
    .partial()
    .optional(),
  s3: z.object({
    bucket: s3ObjectRef.bucket,
    object: s3ObjectRef.object.extend({
      size: z.number().int().nonnegative().optional(),
      eTag: z.string().optional(),
      sequencer: z.string().optional(),
    }),
  }),
});

export type S3EventRecord = z.infer<typeof s3RecordSchema>;

/** Only the bucket and the (still encoded) key of a record, as the on-failure destination echoes it. */
export const s3RecordRefSchema = z.object({ s3: z.object(s3ObjectRef) });

/** Whether a record's `eventVersion` is one logzip reads (2.0, 2.1, any later 2.x). */
export function isSupportedEventVersion(version: string): boolean {
  return /^2\.\d+$/.test(version);
}

/**
 * S3 sends keys form-URL-encoded: `+` is a space and everything else non-ASCII is %-escaped
 * (a literal `+` arrives as `%2B`). Returns undefined for a malformed escape.
 */
export function decodeS3Key(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** The inverse of decodeS3Key, as S3 writes keys into event records (slashes stay as they are). */
export function encodeS3Key(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

/** The archive a record names, its key decoded; undefined when it names none or its key is malformed. */
export function archiveOfS3Record(raw: unknown): { bucket: string; key: string } | undefined {
  const record = s3RecordRefSchema.safeParse(raw);
  if (!record.success) return undefined;
  const key = decodeS3Key(record.data.s3.object.key);
  return key === undefined ? undefined : { bucket: record.data.s3.bucket.name, key };
}

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
 * space), the upload's request ids, size, ETag and sequencer. The trigger emulator sends it.
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
