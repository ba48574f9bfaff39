import type { Readable } from 'node:stream';

export interface ObjectInfo {
  bucket: string;
  key: string;
  size: number;
  /** S3 ETag without quotes; the filesystem adapter uses the content's MD5 hex, like S3 for single-part objects. */
  etag: string;
  lastModified: Date;
  /** User metadata (S3 `x-amz-meta-*`, names lower-case) from `head()`; folders keep none. */
  metadata?: Record<string, string>;
}

export interface PutOptions {
  /** Exact body length; required for streams so adapters can pick single-part or multipart. */
  size?: number;
  contentType?: string;
  metadata?: Record<string, string>;
  /** CRC32 of the body, sent as the object's checksum where the store verifies it. */
  crc32?: number;
  /** Only create: throw PreconditionFailedError (`code: 'conflict'`) if the key exists (leases, idempotency records). */
  ifNoneMatch?: boolean;
  /**
   * The caller proves completeness itself (the engine's manifest, written last): the object may be
   * seen while it is written, and a failed put may leave part of it (the caller removes it). Folders
   * then write the file in place (no temp file, no rename, no MD5) and return an empty `etag`; S3
   * PUTs are atomic anyway and ignore it. Not with `ifNoneMatch`.
   */
  inPlace?: boolean;
}

export interface PutResult {
  etag: string;
  /** The store had to retry the call (throttling such as S3's 503 SlowDown, a 5xx): a sign to slow down. */
  retried?: boolean;
}

export interface ListOptions {
  /** Return keys after this one (exclusive), for resuming. */
  startAfter?: string;
  /** List one level only, like S3's Delimiter "/". */
  delimiter?: boolean;
  /**
   * The caller needs keys only: an adapter that has to compute the rest itself (folders stat and
   * hash every file) may leave `size` 0, `etag` empty and `lastModified` at 0. The index rebuild
   * lists millions of state objects this way.
   */
  keysOnly?: boolean;
  /**
   * The caller needs no order (it counts): an adapter that sorts itself (folders) may yield in its
   * natural order and hold nothing. Keys after `startAfter` are still the only ones yielded.
   */
  unordered?: boolean;
}

/**
 * Thrown by `put()` with `ifNoneMatch` when the key already exists (S3: 412 PreconditionFailed or
 * 409 ConditionalRequestConflict). Not a LogzipError: `conflict` is an API code, and the caller
 * (a lease, an idempotency record) decides what losing the race means.
 */
export class PreconditionFailedError extends Error {
  readonly code = 'conflict' as const;
  readonly retryable = false;
  readonly bucket: string;
  readonly key: string;

  constructor(bucket: string, key: string, options?: ErrorOptions) {
    super(`object already exists: ${bucket}/${key}`, options);
    this.name = 'PreconditionFailedError';
    this.bucket = bucket;
    this.key = key;
  }
}

export function isPreconditionFailed(error: unknown): error is PreconditionFailedError {
  return error instanceof PreconditionFailedError;
}

/**
 * The object storage calls core needs. Errors are LogzipErrors: `source_not_found` for a missing
 * object on get, `storage_unavailable` (retryable) for 5xx, throttling and network failures.
 */
export interface ObjectStore {
  /** Metadata, or undefined when the object does not exist. */
  head(bucket: string, key: string): Promise<ObjectInfo | undefined>;
  /** The whole object in memory: only for small objects (manifests, small archives). */
  get(bucket: string, key: string): Promise<Buffer>;
  /** Bytes [start, end) of the object. */
  getRange(bucket: string, key: string, start: number, end: number): Promise<Buffer>;
  /** A stream of bytes [start, end) of the object. */
  getStream(bucket: string, key: string, start: number, end: number): Promise<Readable>;
  /** Writes an object; an empty Buffer writes a zero-byte object. */
  put(bucket: string, key: string, body: Buffer | Readable, options?: PutOptions): Promise<PutResult>;
  /**
   * How many calls the store serves at once (S3: the client's socket pool). When set, the engine's
   * writes adapt up to it and back off when puts come back `retried`; when not, they stay at a
   * fixed concurrency.
   */
  readonly maxConcurrency?: number;
  /** Deletes keys; missing keys are not an error. */
  deleteMany(bucket: string, keys: readonly string[]): Promise<void>;
  /** Every object under a prefix, in key order, paging as needed. */
  list(bucket: string, prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo>;
}
