/**
 * `@logzip/core/s3`: the S3 ObjectStore and a client factory that honours `AWS_ENDPOINT_URL_S3`.
 * `@aws-sdk/client-s3` and `@aws-sdk/lib-storage` are optional peer dependencies of @logzip/core.
 */
export { isPreconditionFailed, PreconditionFailedError } from '../../ports/object-store.js';
export type { S3ClientEnv, S3ClientOptions } from './client.js';
export { createS3Client } from './client.js';
export type { S3CallContext } from './errors.js';
export { toStorageError } from './errors.js';
export type { S3ObjectStoreOptions } from './s3-object-store.js';
export { crc32ToBase64, createS3ObjectStore } from './s3-object-store.js';
