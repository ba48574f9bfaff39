import type { S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';

/** A browser-style form upload straight to S3: POST `url` with `fields` first, then the file. */
export interface PresignedUpload {
  url: string;
  fields: Record<string, string>;
}

export interface PresignRequest {
  bucket: string;
  key: string;
  /** The `content-length-range` condition: 1..maxBytes bytes, so the size limit holds without logzip. */
  maxBytes: number;
  expiresInSeconds: number;
}

/** Signs direct uploads to the incoming bucket (S3 storage only). */
export interface UploadPresigner {
  presignPost(request: PresignRequest): Promise<PresignedUpload>;
}

/**
 * Presigned POST policies for the fixed key, with `content-length-range` (S3 refuses a body
 * outside it with EntityTooLarge/EntityTooSmall) and a short expiry. The signing credentials are
 * the admin's: its IAM policy must allow s3:PutObject on the incoming prefix.
 *
 * @example
 * const presigner = createS3UploadPresigner(createS3Client(config.env));
 * const { url, fields } = await presigner.presignPost({ bucket, key, maxBytes: 2 ** 31, expiresInSeconds: 900 });
 */
export function createS3UploadPresigner(client: S3Client): UploadPresigner {
  return {
    async presignPost(request) {
      const { url, fields } = await createPresignedPost(client, {
        Bucket: request.bucket,
        Key: request.key,
        // createPresignedPost adds the bucket and key conditions itself.
        Conditions: [['content-length-range', 1, request.maxBytes]],
        Expires: request.expiresInSeconds,
      });
      return { url, fields };
    },
  };
}
