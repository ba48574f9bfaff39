import { LogzipError } from '../../errors.js';
import { PreconditionFailedError } from '../../ports/object-store.js';

/** What a failed S3 call was about, for the message. */
export interface S3CallContext {
  operation: string;
  bucket: string;
  key?: string;
}

const NOT_FOUND = new Set(['NoSuchKey', 'NotFound', 'NoSuchBucket', 'NoSuchVersion']);
const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AllAccessDisabled',
  'AccountProblem',
  'Forbidden',
  'InvalidAccessKeyId',
  'InvalidToken',
  'SignatureDoesNotMatch',
]);
/** Throttling and transient service errors: retrying later can succeed. */
const TRANSIENT = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'ExpiredToken',
  'ExpiredTokenException',
  'InternalError',
  'LimitExceededException',
  'OperationAborted',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestTimeout',
  'RequestTimeoutException',
  'RequestTimeTooSkewed',
  'ServiceUnavailable',
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TokenRefreshRequired',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);
/** Node and undici network failures. */
const NETWORK_CODES = new Set([
  'ECONNABORTED',
  'ECONNREFUSED',
  'ECONNRESET',
  'EAI_AGAIN',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'ENETDOWN',
  'ENETUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'ETIMEDOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const NETWORK_NAMES = new Set(['TimeoutError', 'AbortError', 'NetworkingError']);
const NETWORK_MESSAGES = /socket hang up|aborted|premature close|ECONNRESET|EPIPE|timed? ?out/i;

interface SdkErrorShape {
  name?: unknown;
  Code?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $response?: { statusCode?: number };
}

function shape(error: unknown): SdkErrorShape {
  return typeof error === 'object' && error !== null ? (error as SdkErrorShape) : {};
}

/** The S3 error code (`NoSuchKey`, `SlowDown`...), or the error's name. */
export function s3ErrorCode(error: unknown): string | undefined {
  const e = shape(error);
  if (typeof e.Code === 'string') return e.Code;
  if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
  return undefined;
}

export function httpStatus(error: unknown): number | undefined {
  const e = shape(error);
  return e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
}

/** A network-level failure (reset, refused, DNS, timeout), looking through `cause` chains. */
export function isNetworkError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    const e = shape(current);
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
    if (typeof e.name === 'string' && NETWORK_NAMES.has(e.name)) return true;
    if (
      httpStatus(current) === undefined &&
      typeof e.message === 'string' &&
      NETWORK_MESSAGES.test(e.message)
    ) {
      return true;
    }
    current = e.cause;
  }
  return false;
}

export function isNotFound(error: unknown): boolean {
  const code = s3ErrorCode(error);
  return (code !== undefined && NOT_FOUND.has(code)) || httpStatus(error) === 404;
}

function where(context: S3CallContext): string {
  return `s3://${context.bucket}/${context.key ?? ''}`;
}

/**
 * Turns anything an S3 call threw into the port's errors. LogzipErrors pass through untouched (a
 * body stream that failed with `crc_mismatch` stays `crc_mismatch`).
 *
 * - 404 NoSuchKey / NotFound / NoSuchBucket → `source_not_found`
 * - 412 PreconditionFailed, 409 ConditionalRequestConflict → PreconditionFailedError
 * - 5xx, 429, SlowDown and other throttling, RequestTimeout, expired tokens, network failures
 *   (ECONNRESET, socket hang up, timeouts) → `storage_unavailable` (retryable)
 * - 403 AccessDenied and other credential failures → `storage_unavailable`, with a message that says so
 * - KeyTooLongError → `key_too_long`
 * - anything else → `internal`
 */
export function toStorageError(error: unknown, context: S3CallContext): Error {
  if (error instanceof LogzipError || error instanceof PreconditionFailedError) return error;
  const code = s3ErrorCode(error);
  const status = httpStatus(error);
  const requestId = shape(error).$metadata?.requestId;
  const nodeCode = typeof shape(error).code === 'string' ? (shape(error).code as string) : undefined;
  const detail = `${code ?? nodeCode ?? 'error'}${status === undefined ? '' : ` ${status}`}${requestId ? `, request id ${requestId}` : ''}`;
  const message = typeof shape(error).message === 'string' ? (shape(error).message as string) : String(error);
  const cause = error;

  if (code === 'PreconditionFailed' || code === 'ConditionalRequestConflict' || status === 412) {
    return new PreconditionFailedError(context.bucket, context.key ?? '', { cause });
  }
  if (isNotFound(error)) {
    return new LogzipError(
      'source_not_found',
      `S3 ${context.operation}: no such object ${where(context)} (${detail})`,
      {
        cause,
      },
    );
  }
  if ((code !== undefined && ACCESS_DENIED.has(code)) || status === 403) {
    return new LogzipError(
      'storage_unavailable',
      `S3 denied access: ${context.operation} ${where(context)} returned ${detail}; check this process's credentials and its IAM policy for the bucket`,
      { cause },
    );
  }
  if (code === 'KeyTooLongError') {
    return new LogzipError(
      'key_too_long',
      `S3 ${context.operation}: key too long ${where(context)} (${detail})`,
      {
        cause,
        ...(context.key === undefined ? {} : { entry: context.key }),
      },
    );
  }
  if (
    (code !== undefined && TRANSIENT.has(code)) ||
    (status !== undefined && (status >= 500 || status === 429)) ||
    shape(error).$retryable !== undefined ||
    isNetworkError(error)
  ) {
    return new LogzipError(
      'storage_unavailable',
      `S3 ${context.operation} ${where(context)} failed (${detail}): ${message}`,
      { cause },
    );
  }
  return new LogzipError(
    'internal',
    `S3 ${context.operation} ${where(context)} failed (${detail}): ${message}`,
    {
      cause,
    },
  );
}
