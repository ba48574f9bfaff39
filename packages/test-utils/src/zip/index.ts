export { crc32OfZeros, deflateZeros, manyZerosZip, overlappingBomb, zerosEntry } from './bombs.js';
export { buildWithInfoZip, hasInfoZip, INFO_ZIP, type InfoZipOptions } from './infozip.js';
export { type BuildZipOptions, buildZip, type ZipFixtureFile } from './jszip.js';
export {
  DOS_MADE_BY,
  findZip64EndRecord,
  type RawZipEntry,
  UNIX_MADE_BY,
  unicodePathField,
  unixAttributes,
  type WriteZipOptions,
  writeZip,
} from './writer.js';
