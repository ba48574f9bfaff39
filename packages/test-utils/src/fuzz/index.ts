export { buildFuzzArchive, type FuzzArchive } from './archive.js';
export { buildSeedCorpus, type CorpusItem, logText } from './corpus.js';
export {
  applyMutation,
  applyMutations,
  centralLayout,
  describeMutation,
  type FieldValue,
  findRecords,
  INTERESTING_VALUES,
  type Mutation,
  RECORD_FIELDS,
  type ZipRecord,
  type ZipRecordField,
  type ZipRecordKind,
} from './mutate.js';
export {
  CP932_SEGMENTS,
  type Cp932Segment,
  NFD_SEGMENTS,
  SAFE_SEGMENTS,
  UNSAFE_CP932_NAMES,
  UNSAFE_NAMES,
} from './names.js';
