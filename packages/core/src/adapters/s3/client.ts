import { S3Client } from '@aws-sdk/client-s3';

/** The environment variables createS3Client reads (a validated config's `env` fits). */
export interface S3ClientEnv {
  AWS_REGION?: string | undefined;
  AWS_DEFAULT_REGION?: string | undefined;
  /** A custom S3 endpoint (moto, MinIO, R2...): implies path-style addressing and `WHEN_REQUIRED` checksums. */
  AWS_ENDPOINT_URL_S3?: string | undefined;
  AWS_ENDPOINT_URL?: string | undefined;
}

/** Explicit settings; each wins over the environment. */
export interface S3ClientOptions {
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Defaults to true with a custom endpoint, else false (virtual-hosted style, as AWS prefers). */
  forcePathStyle?: boolean;
  /** SDK attempts per request, retries included (SDK default 3). */
  maxAttempts?: number;
  /** Give up connecting after this long (default 10 s). */
  connectionTimeoutMs?: number;
  /** Give up on a socket idle this long, mid-response included (default 60 s); 0 disables. */
  socketTimeoutMs?: number;
  /** Concurrent connections (default 64). */
  maxSockets?: number;
}

/**
 * An S3 client configured the way logzip needs it. Precedence: `options` > `env` > SDK defaults
 * (which read the usual AWS variables and files for credentials and region).
 *
 * With a custom endpoint (`AWS_ENDPOINT_URL_S3`), addressing is path-style and the SDK computes and
 * validates checksums only where an operation requires them (`WHEN_REQUIRED`): SDK ≥ 3.729 otherwise
 * sends aws-chunked bodies with CRC32 trailers that many S3-compatible servers mishandle. logzip still
 * sends the CRC32 it knows explicitly on single-part puts.
 *
 * @example
 * ```ts
 * const client = createS3Client(config.env); // AWS_REGION, AWS_ENDPOINT_URL_S3
 * const store = createS3ObjectStore({ client });
 * ```
 */
export function createS3Client(env: S3ClientEnv = {}, options: S3ClientOptions = {}): S3Client {
  const endpoint = options.endpoint ?? nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  const custom = endpoint !== undefined;
  const region =
    options.region ??
    nonEmpty(env.AWS_REGION) ??
    nonEmpty(env.AWS_DEFAULT_REGION) ??
    (custom ? 'us-east-1' : undefined);
  const agent = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
  return new S3Client({
    ...(region === undefined ? {} : { region }),
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    forcePathStyle: options.forcePathStyle ?? custom,
    ...(custom
      ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
      : {}),
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? 10_000,
      socketTimeout: options.socketTimeoutMs ?? 60_000,
      httpAgent: agent,
      httpsAgent: agent,
    },
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
