import { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { LogzipError } from '../../errors.js';
import type {
  ListOptions,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutResult,
} from '../../ports/object-store.js';
import { type S3CallContext, s3ErrorCode, toStorageError } from './errors.js';

const MiB = 1024 * 1024;

export interface S3ObjectStoreOptions {
  client: S3Client;
  /** Stream bodies up to this size are buffered and sent with one PutObject (default 16 MiB). */
  multipartThreshold?: number;
  /** Multipart part size (default 8 MiB; S3's minimum is 5 MiB). */
  partSize?: number;
  /** Parts uploaded in parallel per object (default 4). */
  queueSize?: number;
  /** Keys per ListObjectsV2 page (default and S3 maximum 1,000; smaller values are for tests). */
  listPageSize?: number;
  /** Keys per DeleteObjects call (default and S3 maximum 1,000). */
  deleteBatchSize?: number;
  /** Calls the client serves at once: its socket pool (default 64, as `createS3Client`). */
  maxConcurrency?: number;
}

/**
 * An ObjectStore over S3 (or an S3-compatible server). Errors are mapped by `toStorageError`:
 * missing objects → `source_not_found`; 5xx, throttling, network failures and 403s →
 * `storage_unavailable` (retryable); an `ifNoneMatch` race → PreconditionFailedError.
 *
 * Writes: Buffers go in one PutObject (an empty Buffer as a non-stream with `ContentLength: 0`,
 * aws-sdk-js-v3 #7636/#5652); streams up to `multipartThreshold` are buffered then sent the same way;
 * larger ones go through lib-storage's Upload. The CRC32 the caller knows is sent as
 * `ChecksumCRC32` on single-part writes, so AWS rejects a body that does not match it.
 *
 * @example
 * ```ts
 * const store = createS3ObjectStore({ client: createS3Client(config.env) });
 * for await (const object of store.list('logs', 'incoming/')) console.log(object.key);
 * ```
 */
export function createS3ObjectStore(options: S3ObjectStoreOptions): ObjectStore {
  return new S3ObjectStore(options);
}

class S3ObjectStore implements ObjectStore {
  readonly #client: S3Client;
  readonly #multipartThreshold: number;
  readonly #partSize: number;
  readonly #queueSize: number;
  readonly #listPageSize: number;
  readonly #deleteBatchSize: number;
  readonly maxConcurrency: number;

  constructor(options: S3ObjectStoreOptions) {
    this.#client = options.client;
    this.maxConcurrency = options.maxConcurrency ?? 64;
    this.#multipartThreshold = options.multipartThreshold ?? 16 * MiB;
    this.#partSize = options.partSize ?? 8 * MiB;
    this.#queueSize = options.queueSize ?? 4;
    this.#listPageSize = Math.min(Math.max(options.listPageSize ?? 1000, 1), 1000);
    this.#deleteBatchSize = Math.min(Math.max(options.deleteBatchSize ?? 1000, 1), 1000);
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.#client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return {
        bucket,
        key,
        size: out.ContentLength ?? 0,
        etag: unquote(out.ETag),
        lastModified: out.LastModified ?? new Date(0),
        ...(out.Metadata === undefined || Object.keys(out.Metadata).length === 0
          ? {}
          : { metadata: out.Metadata }),
      };
    } catch (error) {
      const mapped = toStorageError(error, { operation: 'HeadObject', bucket, key });
      if (mapped instanceof LogzipError && mapped.code === 'source_not_found') return undefined;
      throw mapped;
    }
  }

  async get(bucket: string, key: string): Promise<Buffer> {
    const context = { operation: 'GetObject', bucket, key };
    try {
      const out = await this.#client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return await bodyBuffer(out);
    } catch (error) {
      throw toStorageError(error, context);
    }
  }

  async getRange(bucket: string, key: string, start: number, end: number): Promise<Buffer> {
    checkRange(start, end);
    const context = { operation: 'GetObject (range)', bucket, key };
    if (end === start) {
      // S3 cannot express an empty range; still fail like a real read when the object is missing.
      if ((await this.head(bucket, key)) === undefined) throw notFound(context);
      return Buffer.alloc(0);
    }
    try {
      const out = await this.#client.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }),
      );
      const body = await bodyBuffer(out);
      // A server that ignored the Range header sent the whole object.
      return out.ContentRange === undefined && out.$metadata.httpStatusCode === 200
        ? body.subarray(start, end)
        : body;
    } catch (error) {
      if (s3ErrorCode(error) === 'InvalidRange') return Buffer.alloc(0); // range starts past the end
      throw toStorageError(error, context);
    }
  }

  async getStream(bucket: string, key: string, start: number, end: number): Promise<Readable> {
    checkRange(start, end);
    const context = { operation: 'GetObject (stream)', bucket, key };
    if (end === start) {
      if ((await this.head(bucket, key)) === undefined) throw notFound(context);
      return Readable.from([], { objectMode: false });
    }
    let out: GetObjectCommandOutput;
    try {
      out = await this.#client.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }),
      );
    } catch (error) {
      if (s3ErrorCode(error) === 'InvalidRange') return Readable.from([], { objectMode: false });
      throw toStorageError(error, context);
    }
    const body = out.Body as Readable | undefined;
    if (body === undefined) return Readable.from([], { objectMode: false });
    return mapStreamErrors(body, context);
  }

  async put(
    bucket: string,
    key: string,
    body: Buffer | Readable,
    options: PutOptions = {},
  ): Promise<PutResult> {
    const context = { operation: 'PutObject', bucket, key };
    const params = {
      Bucket: bucket,
      Key: key,
      ...(options.contentType === undefined ? {} : { ContentType: options.contentType }),
      ...(options.metadata === undefined ? {} : { Metadata: options.metadata }),
      ...(options.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
    } satisfies Partial<PutObjectCommandInput>;

    if (Buffer.isBuffer(body)) return this.#putSingle(params, body, options.crc32, context);
    const { size } = options;
    if (size !== undefined && size <= this.#multipartThreshold) {
      return this.#putSingle(params, await readExactly(body, size, context), options.crc32, context);
    }
    if (size === undefined) {
      // No declared size: buffer up to the threshold, and only go multipart if there is more.
      const head = await readUpTo(body, this.#multipartThreshold);
      if (head.ended) return this.#putSingle(params, Buffer.concat(head.chunks), options.crc32, context);
      return this.#putMultipart(params, prepend(head.chunks, head.rest), context);
    }
    return this.#putMultipart(params, exactly(body, size, context), context);
  }

  async #putSingle(
    params: Omit<PutObjectCommandInput, 'Body'>,
    body: Buffer,
    crc32: number | undefined,
    context: S3CallContext,
  ): Promise<PutResult> {
    try {
      const out = await this.#client.send(
        new PutObjectCommand({
          ...params,
          // A Buffer (never a stream) with an explicit length, zero included: see aws-sdk-js-v3 #7636.
          Body: body,
          ContentLength: body.length,
          ...(crc32 === undefined ? {} : { ChecksumCRC32: crc32ToBase64(crc32) }),
        }),
      );
      // The SDK retried throttling (SlowDown), 5xx or network failures before this succeeded.
      return { etag: unquote(out.ETag), retried: (out.$metadata.attempts ?? 1) > 1 };
    } catch (error) {
      throw toStorageError(error, context);
    }
  }

  async #putMultipart(
    params: Omit<PutObjectCommandInput, 'Body'>,
    chunks: AsyncIterable<Buffer>,
    context: S3CallContext,
  ): Promise<{ etag: string }> {
    // Failures of the caller's body (an inflate error, a CRC mismatch) surface as they are, not as S3's.
    let bodyError: unknown;
    async function* watched(): AsyncGenerator<Buffer> {
      try {
        yield* chunks;
      } catch (error) {
        bodyError = error;
        throw error;
      }
    }
    try {
      const upload = new Upload({
        client: this.#client,
        params: { ...params, Body: Readable.from(watched(), { objectMode: false }) },
        partSize: this.#partSize,
        queueSize: this.#queueSize,
        leavePartsOnError: false,
      });
      const out = await upload.done();
      return { etag: unquote(out.ETag) };
    } catch (error) {
      if (bodyError !== undefined) throw bodyError;
      throw toStorageError(error, { ...context, operation: 'multipart upload' });
    }
  }

  async deleteMany(bucket: string, keys: readonly string[]): Promise<void> {
    const unique = [...new Set(keys)];
    for (let offset = 0; offset < unique.length; offset += this.#deleteBatchSize) {
      const batch = unique.slice(offset, offset + this.#deleteBatchSize);
      const context = { operation: 'DeleteObjects', bucket, key: batch[0] ?? '' };
      let errors: Array<{ Key?: string; Code?: string; Message?: string }>;
      try {
        const out = await this.#client.send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Quiet: true, Objects: batch.map((Key) => ({ Key })) },
          }),
        );
        errors = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      } catch (error) {
        throw toStorageError(error, context);
      }
      if (errors.length > 0) {
        const first = errors
          .slice(0, 3)
          .map((e) => `${e.Key}: ${e.Code}${e.Message ? ` (${e.Message})` : ''}`)
          .join('; ');
        const denied = errors.some((e) => e.Code === 'AccessDenied');
        throw new LogzipError(
          'storage_unavailable',
          `S3 DeleteObjects on s3://${bucket}: ${errors.length} of ${batch.length} keys not deleted${denied ? ' (access denied: check the IAM policy)' : ''}: ${first}`,
        );
      }
    }
  }

  async *list(bucket: string, prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.#client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            MaxKeys: this.#listPageSize,
            // URL-encoded keys survive characters XML 1.0 cannot carry (control characters).
            EncodingType: 'url',
            ...(token === undefined ? {} : { ContinuationToken: token }),
            ...(token === undefined && options.startAfter !== undefined
              ? { StartAfter: options.startAfter }
              : {}),
            ...(options.delimiter ? { Delimiter: '/' } : {}),
          }),
        );
      } catch (error) {
        throw toStorageError(error, { operation: 'ListObjectsV2', bucket, key: prefix });
      }
      const encoded = page.EncodingType === 'url';
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        yield {
          bucket,
          key: encoded ? decodeKey(object.Key) : object.Key,
          size: object.Size ?? 0,
          etag: unquote(object.ETag),
          lastModified: object.LastModified ?? new Date(0),
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }
}

/** `ChecksumCRC32`: the base64 of the big-endian 4-byte CRC32. */
export function crc32ToBase64(crc32: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(crc32 >>> 0);
  return bytes.toString('base64');
}

/** S3 URL-encodes listed keys with `EncodingType=url` (a space as `+` on AWS, `%20` elsewhere). */
function decodeKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, '%20'));
}

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^W\//, '').replace(/^"|"$/g, '');
}

function checkRange(start: number, end: number): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`invalid byte range [${start}, ${end})`);
  }
}

function notFound(context: S3CallContext): LogzipError {
  return new LogzipError(
    'source_not_found',
    `S3 ${context.operation}: no such object s3://${context.bucket}/${context.key}`,
  );
}

async function bodyBuffer(out: GetObjectCommandOutput): Promise<Buffer> {
  if (out.Body === undefined) return Buffer.alloc(0);
  const bytes = await out.Body.transformToByteArray();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Re-emits a response body, mapping a mid-body failure (a reset, a timeout) to `storage_unavailable`. */
function mapStreamErrors(body: Readable, context: S3CallContext): Readable {
  async function* relay(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of body) yield chunk as Buffer;
    } catch (error) {
      throw toStorageError(error, context);
    }
  }
  return Readable.from(relay(), { objectMode: false });
}

function sizeMismatch(context: S3CallContext, expected: number, actual: number): LogzipError {
  return new LogzipError(
    'internal',
    `body for s3://${context.bucket}/${context.key} has ${actual > expected ? 'more than ' : ''}${actual} bytes, size said ${expected}`,
  );
}

/** Reads a stream that must hold exactly `size` bytes into one Buffer. */
async function readExactly(body: Readable, size: number, context: S3CallContext): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of exactly(body, size, context)) chunks.push(chunk);
  return Buffer.concat(chunks, size);
}

/** Relays a stream, failing as soon as it holds more than `size` bytes or ends short of it. */
async function* exactly(body: Readable, size: number, context: S3CallContext): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of body) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    total += bytes.length;
    if (total > size) {
      body.destroy();
      throw sizeMismatch(context, size, total);
    }
    yield bytes;
  }
  if (total !== size) throw sizeMismatch(context, size, total);
}

/** Reads up to just past `limit` bytes; `rest` continues the same iteration (one iterator per stream). */
async function readUpTo(
  body: Readable,
  limit: number,
): Promise<{ chunks: Buffer[]; ended: boolean; rest: AsyncIterable<unknown> }> {
  const chunks: Buffer[] = [];
  let total = 0;
  const iterator: AsyncIterator<unknown> = body[Symbol.asyncIterator]();
  const rest = { [Symbol.asyncIterator]: () => iterator };
  while (total <= limit) {
    const next = await iterator.next();
    if (next.done) return { chunks, ended: true, rest };
    const bytes = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as Uint8Array);
    chunks.push(bytes);
    total += bytes.length;
  }
  return { chunks, ended: false, rest };
}

async function* prepend(head: readonly Buffer[], rest: AsyncIterable<unknown>): AsyncGenerator<Buffer> {
  yield* head;
  for await (const chunk of rest) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
}
