import type { RawZipEntry, WriteZipOptions } from '../zip/writer.js';
import { writeZip } from '../zip/writer.js';

/** One generated archive: `writeZip` input plus what happens to the bytes around it. */
export interface FuzzArchive {
  entries: RawZipEntry[];
  options: WriteZipOptions;
  /** Bytes put in front of the archive (a self-extractor's stub, or garbage). */
  prefix?: Buffer;
  /** With a prefix: write offsets relative to the file's start (a consistent self-extractor). */
  shiftOffsets?: boolean;
  /** Cut the result to this many bytes (modulo its length + 1). */
  truncateTo?: number;
}

/** The bytes of a FuzzArchive. */
export function buildFuzzArchive(archive: FuzzArchive): Buffer {
  const prefix = archive.prefix ?? Buffer.alloc(0);
  const zip = writeZip(archive.entries, {
    ...archive.options,
    ...(archive.shiftOffsets ? { baseOffset: prefix.length } : {}),
  });
  const whole = prefix.length === 0 ? zip : Buffer.concat([prefix, zip]);
  if (archive.truncateTo === undefined) return whole;
  return whole.subarray(0, archive.truncateTo % (whole.length + 1));
}
