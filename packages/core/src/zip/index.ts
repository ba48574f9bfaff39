export type { ReadZipDirectoryOptions, ZipDirectory, ZipEntry } from './directory.js';
export { MAX_CENTRAL_DIRECTORY_BYTES, readZipDirectory, TAIL_BYTES } from './directory.js';
export {
  InflateBudget,
  isSmallEntry,
  locateData,
  openEntryStream,
  readEntry,
  SMALL_ENTRY_BYTES,
  SMALL_ENTRY_MAX_INFLATED_BYTES,
  STREAM_CHUNK_BYTES,
} from './entry.js';
export {
  assertEncoding,
  decodeName,
  isSupportedEncoding,
  normalizeName,
  unsafePathReason,
} from './names.js';
export type { PlannedEntry, PlanOptions } from './plan.js';
export { MAX_KEY_BYTES, planEntries, RATIO_MIN_BYTES } from './plan.js';
export type { BlockReaderOptions, RandomAccessReader } from './reader.js';
export { blockReader, bufferReader, DEFAULT_BLOCK_SIZE, DEFAULT_MAX_BLOCKS } from './reader.js';
