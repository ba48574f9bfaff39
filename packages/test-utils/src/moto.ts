import { randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { describe } from 'vitest';
import { provided } from './provided.js';
import { isCI } from './services.js';

/** moto accepts any credentials; these are the ones the tests use. */
export const MOTO_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;
export const MOTO_REGION = 'us-east-1';

const MOTO_MISSING =
  'moto_server is not available: the integration global setup found none (pip install "moto[server]")';

/** The run's moto_server URL (from the global setup), or undefined when there is none. */
export function motoUrl(): string | undefined {
  return provided('motoUrl') ?? (process.env['LOGZIP_TEST_MOTO_URL'] || undefined);
}

/** The moto URL, or an error saying how to get one (use inside tests and hooks). */
export function requireMoto(): string {
  const url = motoUrl();
  if (url === undefined) throw new Error(MOTO_MISSING);
  return url;
}

/** Whether tests that need moto should run: when it is there, and always under CI (where it must be). */
export function motoEnabled(): boolean {
  return motoUrl() !== undefined || isCI();
}

/**
 * `describe` for suites that need moto: skipped (not failed) when moto is missing outside CI; under
 * CI it runs, and a missing moto fails (the global setup already refuses to start without it).
 * The body is still collected when skipped: call requireMoto() in hooks and tests, not at its top.
 *
 * @example
 * ```ts
 * describeWithMoto('S3 store', () => {
 *   let client: S3Client;
 *   beforeAll(() => { client = createMotoS3Client(); });
 *   it('puts', async () => { ... });
 * });
 * ```
 */
export function describeWithMoto(name: string, body: () => void): void {
  describe.runIf(motoEnabled())(name, body);
}

export interface MotoS3ClientOptions {
  /** Defaults to the run's moto; give the fault proxy's URL to go through it. */
  endpoint?: string;
  /** SDK attempts (default 3, the SDK's). 1 makes injected faults surface at once. */
  maxAttempts?: number;
}

/**
 * A raw S3Client for moto: path-style, test credentials, `us-east-1`, checksums only where required
 * (like logzip's createS3Client with AWS_ENDPOINT_URL_S3). For arranging and inspecting state, not
 * for testing logzip's own client factory.
 */
export function createMotoS3Client(options: MotoS3ClientOptions = {}): S3Client {
  return new S3Client({
    endpoint: options.endpoint ?? requireMoto(),
    region: MOTO_REGION,
    credentials: MOTO_CREDENTIALS,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
  });
}

/** A new bucket with a unique, valid name (`logzip-<label>-<random>`); returns its name. */
export async function createTestBucket(client: S3Client, label = 'test'): Promise<string> {
  const safeLabel = label
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 20);
  const bucket = `logzip-${safeLabel}-${randomUUID().slice(0, 18)}`.replace(/-+/g, '-');
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/** Deletes every object of a bucket, then the bucket (a missing bucket is fine). */
export async function deleteTestBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          ...(token === undefined ? {} : { ContinuationToken: token }),
        }),
      );
      const objects = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
      if (objects.length > 0) {
        await client.send(
          new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }),
        );
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  } catch (error) {
    if ((error as { name?: string }).name !== 'NoSuchBucket') throw error;
  }
}
