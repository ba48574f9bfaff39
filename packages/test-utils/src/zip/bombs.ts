import { constants, crc32, deflateRawSync } from 'node:zlib';
import type { RawZipEntry } from './writer.js';
import { writeZip } from './writer.js';

const UNIT = 2 ** 20;
let unitBlock: Buffer | undefined;

/**
 * A real raw-deflate stream of `bytes` zero bytes (about 1,000:1), built without allocating the
 * inflated size: 1 MiB of zeros compressed once with a sync flush (byte-aligned, non-final),
 * repeated, then a final block. A 1 GiB bomb is about 1 MB.
 */
export function deflateZeros(bytes: number): Buffer {
  unitBlock ??= deflateRawSync(Buffer.alloc(UNIT), { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
  const whole = Math.floor(bytes / UNIT);
  const rest = bytes - whole * UNIT;
  const tail = deflateRawSync(Buffer.alloc(rest), { level: 9 });
  const parts: Buffer[] = new Array(whole).fill(unitBlock);
  parts.push(tail);
  return Buffer.concat(parts);
}

/** CRC32 of `bytes` zero bytes (continuing from `initial`), computed 1 MiB at a time. */
export function crc32OfZeros(bytes: number, initial = 0): number {
  const zeros = Buffer.alloc(UNIT);
  let crc = initial;
  let left = bytes;
  while (left > 0) {
    const n = Math.min(left, UNIT);
    crc = crc32(n === UNIT ? zeros : zeros.subarray(0, n), crc);
    left -= n;
  }
  return crc >>> 0;
}

/**
 * A deflate entry of `bytes` zeros (a high-ratio bomb). `declare` makes its header lie, e.g.
 * `{ uncompressedSize: 1000 }` for a header that declares far less than the data inflates to.
 */
export function zerosEntry(
  name: string,
  bytes: number,
  declare: Partial<Pick<RawZipEntry, 'uncompressedSize' | 'crc32' | 'compressedSize'>> = {},
): RawZipEntry {
  return {
    name,
    method: 8,
    compressed: deflateZeros(bytes),
    crc32: declare.crc32 ?? crc32OfZeros(bytes),
    uncompressedSize: declare.uncompressedSize ?? bytes,
    ...(declare.compressedSize === undefined ? {} : { compressedSize: declare.compressedSize }),
  };
}

/**
 * David Fifield's "overlapping files" bomb (full overlap): every entry's deflate data quotes the
 * next entry's local header in a stored block and then runs into that entry's data, so all entries
 * share one kernel of `kernelBytes` zeros. Each central header is honest about its own sizes and
 * CRC; only the overlap is wrong.
 */
export function overlappingBomb(files: number, kernelBytes: number): Buffer {
  const kernel = deflateZeros(kernelBytes);
  const names = Array.from({ length: files }, (_, i) => `bomb-${String(i).padStart(4, '0')}.log`);
  // Layout: [LFH_0][Q_0][LFH_1][Q_1]…[LFH_n-1][kernel]; Q_i is a stored-block header quoting LFH_i+1.
  const localLength = (i: number) => 30 + Buffer.byteLength(names[i]!);
  const offsets: number[] = [];
  let pos = 0;
  for (let i = 0; i < files; i++) {
    offsets.push(pos);
    pos += localLength(i) + (i < files - 1 ? 5 : 0);
  }
  const end = pos + kernel.length;
  // Build from the last entry back: entry i's data is Q_i + LFH_i+1 + data_i+1.
  const locals: Buffer[] = new Array(files);
  const infos: Array<{ crc: number; csize: number; usize: number }> = new Array(files);
  let data = kernel;
  // What entry i inflates to: the quoted local headers of entries i+1… then the kernel's zeros.
  let quotedHeaders = Buffer.alloc(0);
  for (let i = files - 1; i >= 0; i--) {
    if (i < files - 1) {
      const quoted = locals[i + 1]!;
      const q = Buffer.alloc(5);
      q[0] = 0x00; // BFINAL=0, BTYPE=00 (stored)
      q.writeUInt16LE(quoted.length, 1);
      q.writeUInt16LE(~quoted.length & 0xffff, 3);
      data = Buffer.concat([q, quoted, data]);
      quotedHeaders = Buffer.concat([quoted, quotedHeaders]);
    }
    infos[i] = {
      crc: crc32OfZeros(kernelBytes, crc32(quotedHeaders)),
      csize: end - (offsets[i]! + localLength(i)),
      usize: quotedHeaders.length + kernelBytes,
    };
    const name = Buffer.from(names[i]!);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(8, 8);
    lh.writeUInt32LE(infos[i]!.crc, 14);
    lh.writeUInt32LE(infos[i]!.csize, 18);
    lh.writeUInt32LE(infos[i]!.usize, 22);
    lh.writeUInt16LE(name.length, 26);
    locals[i] = Buffer.concat([lh, name]);
  }
  const body = Buffer.concat([locals[0]!, data]);
  // Central directory and end record: reuse writeZip's layout by writing only the tail by hand.
  const central: Buffer[] = [];
  for (let i = 0; i < files; i++) {
    const name = Buffer.from(names[i]!);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(8, 10);
    ch.writeUInt32LE(infos[i]!.crc, 16);
    ch.writeUInt32LE(infos[i]!.csize, 20);
    ch.writeUInt32LE(infos[i]!.usize, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(offsets[i]!, 42);
    central.push(ch, name);
  }
  const cd = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(files, 8);
  eocd.writeUInt16LE(files, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(body.length, 16);
  return Buffer.concat([body, cd, eocd]);
}

/** Many honest entries of zeros whose sizes add up past a total limit. */
export function manyZerosZip(count: number, bytesEach: number): Buffer {
  return writeZip(Array.from({ length: count }, (_, i) => zerosEntry(`part-${i}.log`, bytesEach)));
}
