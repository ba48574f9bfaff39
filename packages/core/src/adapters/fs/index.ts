/**
 * `@logzip/core/fs`: the filesystem ObjectStore (`LOGZIP_STORAGE_DIR`, `logzip extract --to ./dir`)
 * and a single local file as a read-only source (`logzip extract ./a.zip`).
 */
export { isPreconditionFailed, PreconditionFailedError } from '../../ports/object-store.js';
export type { FsObjectStoreOptions } from './fs-object-store.js';
export { createFsObjectStore } from './fs-object-store.js';
export type { LocalFileSource } from './local-file-source.js';
export { createLocalFileSource } from './local-file-source.js';
