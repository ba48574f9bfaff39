import { crc32, deflateRawSync } from 'node:zlib';

/**
 * One entry for `writeZip`, the byte-exact ZIP writer for fixtures jszip cannot make: raw name
 * bytes, any flags, extra fields, data descriptors, lying sizes and CRCs, unix attributes,
 * entries sharing data, ZIP64. Everything not given is computed honestly.
 */
export interface RawZipEntry {
  /** A string is written as UTF-8; a Buffer is written as is (e.g. CP932 bytes). */
  name: string | Buffer;
  /** Uncompressed content (default empty). */
  data?: string | Buffer;
  /** 0 stored, 8 deflate (default), or any other number (then `data`/`compressed` is written as is). */
  method?: number;
  /** Exact bytes to write as the entry's data (skips compression); give crc32/sizes to match. */
  compressed?: Buffer;
  /** Set the UTF-8 flag (bit 11). Default: the name is a string with non-ASCII characters. */
  utf8Flag?: boolean;
  /** Extra general purpose flags OR'ed in (0x1 encrypted, 0x40 strong encryption…). */
  flags?: number;
  /** Flag bit 3: zeros for CRC and sizes in the local header, a data descriptor after the data. */
  dataDescriptor?: boolean;
  /** Declared CRC32 (default: the real one). */
  crc32?: number;
  /** Declared compressed size (default: the real one). */
  compressedSize?: number;
  /** Declared uncompressed size (default: the real one). */
  uncompressedSize?: number;
  /** Name bytes of the local header, when they should differ from the central ones. */
  localName?: Buffer;
  /** Extra field bytes of the local header (default: the same fields as the central header). */
  localExtra?: Buffer;
  /** Raw extra field bytes appended to the central (and by default local) extra fields. */
  extra?: Buffer;
  /** Adds an Info-ZIP Unicode Path field (0x7075) holding this UTF-8 name; nameCrc32 defaults to the right one. */
  unicodePath?: string | { path: string; nameCrc32: number };
  /** Default 0x0014 (MS-DOS, 2.0); UNIX_MADE_BY for unix attributes. */
  versionMadeBy?: number;
  externalAttributes?: number;
  /** Write sizes and offset as 0xFFFFFFFF with a ZIP64 extra field (0x0001). */
  zip64?: boolean;
  /** Method written in the local header (default: `method`). */
  localMethod?: number;
  /** Signature written at the local header (default 0x04034b50). */
  localSignature?: number;
  /** Writes no local header or data: the central header points at entry #n's local header and data. */
  sharesDataOf?: number;
  /** Central header comment. */
  comment?: string;
}

export interface WriteZipOptions {
  /**
   * Write a ZIP64 end record and locator, with 0xFFFF / 0xFFFFFFFF in the end record. Default:
   * only when needed; `false` never (the 16-bit entry count then wraps, like jszip's).
   */
  zip64?: boolean;
  /** Archive comment (up to 65,535 bytes). */
  comment?: string | Buffer;
  /** Offsets are written as if the archive started at this position (for sparse test readers). */
  baseOffset?: number;
  /** Lies in the end record (and the ZIP64 end record). */
  endRecord?: { entryCount?: number; cdOffset?: number; cdSize?: number };
  /** Bytes put after the end record. */
  trailing?: Buffer;
}

/** Version made by: unix host, spec 3.0 (what Info-ZIP writes on Linux). */
export const UNIX_MADE_BY = 0x031e;
/** Version made by: MS-DOS host, spec 2.0. */
export const DOS_MADE_BY = 0x0014;

/** External attributes holding a unix mode (e.g. 0o120777 for a symlink, 0o100644 for a file). */
export function unixAttributes(mode: number): number {
  return (mode * 0x10000) >>> 0;
}

function extraField(id: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16LE(id, 0);
  head.writeUInt16LE(body.length, 2);
  return Buffer.concat([head, body]);
}

/** An Info-ZIP Unicode Path extra field (0x7075): version 1, CRC32 of the raw name, UTF-8 name. */
export function unicodePathField(path: string, rawName: Buffer, nameCrc32?: number): Buffer {
  const body = Buffer.alloc(5);
  body[0] = 1;
  body.writeUInt32LE((nameCrc32 ?? crc32(rawName)) >>> 0, 1);
  return extraField(0x7075, Buffer.concat([body, Buffer.from(path, 'utf8')]));
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

const U32 = 0xffffffff;

interface Written {
  offset: number;
  crc: number;
  csize: number;
  usize: number;
  method: number;
  flags: number;
}

const DOS_DATE = 0x5a21; // 2025-01-01

function writeLocal(
  e: RawZipEntry,
  rawName: Buffer,
  extras: Buffer[],
  offset: number,
  push: (b: Buffer) => void,
): Written {
  const data = typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : (e.data ?? Buffer.alloc(0));
  const method = e.method ?? 8;
  const compressed = e.compressed ?? (method === 8 ? deflateRawSync(data) : data);
  const nonAscii = typeof e.name === 'string' && Buffer.byteLength(e.name) !== e.name.length;
  const flags = ((e.utf8Flag ?? nonAscii) ? 0x0800 : 0) | (e.dataDescriptor ? 0x0008 : 0) | (e.flags ?? 0);
  const info: Written = {
    offset,
    crc: (e.crc32 ?? crc32(data)) >>> 0,
    csize: e.compressedSize ?? compressed.length,
    usize: e.uncompressedSize ?? data.length,
    method,
    flags,
  };
  const localZip64 = e.zip64
    ? extraField(0x0001, Buffer.concat([u64(info.usize), u64(info.csize)]))
    : undefined;
  const localExtra = e.localExtra ?? Buffer.concat([...(localZip64 ? [localZip64] : []), ...extras]);
  const localName = e.localName ?? rawName;
  const lh = Buffer.alloc(30);
  lh.writeUInt32LE(e.localSignature ?? 0x04034b50, 0);
  lh.writeUInt16LE(e.zip64 ? 45 : 20, 4);
  lh.writeUInt16LE(flags, 6);
  lh.writeUInt16LE(e.localMethod ?? method, 8);
  lh.writeUInt16LE(0, 10);
  lh.writeUInt16LE(DOS_DATE, 12);
  if (!e.dataDescriptor) {
    lh.writeUInt32LE(info.crc, 14);
    lh.writeUInt32LE(e.zip64 ? U32 : info.csize, 18);
    lh.writeUInt32LE(e.zip64 ? U32 : info.usize, 22);
  }
  lh.writeUInt16LE(localName.length, 26);
  lh.writeUInt16LE(localExtra.length, 28);
  push(Buffer.concat([lh, localName, localExtra]));
  push(compressed);
  if (e.dataDescriptor) {
    const dd = Buffer.alloc(e.zip64 ? 24 : 16);
    dd.writeUInt32LE(0x08074b50, 0);
    dd.writeUInt32LE(info.crc, 4);
    if (e.zip64) {
      dd.writeBigUInt64LE(BigInt(info.csize), 8);
      dd.writeBigUInt64LE(BigInt(info.usize), 16);
    } else {
      dd.writeUInt32LE(info.csize, 8);
      dd.writeUInt32LE(info.usize, 12);
    }
    push(dd);
  }
  return info;
}

/** Builds a ZIP archive byte by byte (see RawZipEntry). */
export function writeZip(entries: readonly RawZipEntry[], options: WriteZipOptions = {}): Buffer {
  const base = options.baseOffset ?? 0;
  const parts: Buffer[] = [];
  let pos = base;
  const push = (b: Buffer) => {
    parts.push(b);
    pos += b.length;
  };
  const central: Buffer[] = [];
  const written: Written[] = [];

  for (const e of entries) {
    const rawName = typeof e.name === 'string' ? Buffer.from(e.name, 'utf8') : e.name;
    const extras: Buffer[] = [];
    if (e.unicodePath !== undefined) {
      const up =
        typeof e.unicodePath === 'string' ? { path: e.unicodePath, nameCrc32: undefined } : e.unicodePath;
      extras.push(unicodePathField(up.path, rawName, up.nameCrc32));
    }
    if (e.extra) extras.push(e.extra);
    let info: Written;
    if (e.sharesDataOf !== undefined) {
      const shared = written[e.sharesDataOf]!;
      info = {
        ...shared,
        crc: (e.crc32 ?? shared.crc) >>> 0,
        csize: e.compressedSize ?? shared.csize,
        usize: e.uncompressedSize ?? shared.usize,
      };
    } else {
      info = writeLocal(e, rawName, extras, pos, push);
    }
    written.push(info);

    const needs64 = e.zip64 === true || info.offset > U32 - 1;
    const z64 = needs64
      ? extraField(0x0001, Buffer.concat([u64(info.usize), u64(info.csize), u64(info.offset)]))
      : undefined;
    const centralExtra = Buffer.concat([...(z64 ? [z64] : []), ...extras]);
    const comment = Buffer.from(e.comment ?? '', 'utf8');
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(e.versionMadeBy ?? DOS_MADE_BY, 4);
    ch.writeUInt16LE(needs64 ? 45 : 20, 6);
    ch.writeUInt16LE(info.flags, 8);
    ch.writeUInt16LE(info.method, 10);
    ch.writeUInt16LE(0, 12);
    ch.writeUInt16LE(DOS_DATE, 14);
    ch.writeUInt32LE(info.crc, 16);
    ch.writeUInt32LE(needs64 ? U32 : info.csize, 20);
    ch.writeUInt32LE(needs64 ? U32 : info.usize, 24);
    ch.writeUInt16LE(rawName.length, 28);
    ch.writeUInt16LE(centralExtra.length, 30);
    ch.writeUInt16LE(comment.length, 32);
    ch.writeUInt16LE(0, 34);
    ch.writeUInt16LE(0, 36);
    ch.writeUInt32LE(e.externalAttributes ?? 0, 38);
    ch.writeUInt32LE(needs64 ? U32 : info.offset, 42);
    central.push(Buffer.concat([ch, rawName, centralExtra, comment]));
  }

  const cdOffset = options.endRecord?.cdOffset ?? pos;
  const cd = Buffer.concat(central);
  push(cd);
  const cdSize = options.endRecord?.cdSize ?? cd.length;
  const count = options.endRecord?.entryCount ?? entries.length;
  // zip64: false writes a 16-bit count that wraps past 65,535 entries, as jszip does.
  const zip64 = options.zip64 ?? (count > 0xffff || cdOffset > U32 - 1 || cdSize > U32 - 1);

  if (zip64) {
    const recordOffset = pos;
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(UNIX_MADE_BY, 12);
    record.writeUInt16LE(45, 14);
    record.writeBigUInt64LE(BigInt(count), 24);
    record.writeBigUInt64LE(BigInt(count), 32);
    record.writeBigUInt64LE(BigInt(cdSize), 40);
    record.writeBigUInt64LE(BigInt(cdOffset), 48);
    push(record);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(recordOffset), 8);
    locator.writeUInt32LE(1, 16);
    push(locator);
  }
  const comment =
    typeof options.comment === 'string' ? Buffer.from(options.comment) : (options.comment ?? Buffer.alloc(0));
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(zip64 ? 0xffff : count & 0xffff, 8);
  eocd.writeUInt16LE(zip64 ? 0xffff : count & 0xffff, 10);
  eocd.writeUInt32LE(zip64 ? U32 : cdSize, 12);
  eocd.writeUInt32LE(zip64 ? U32 : cdOffset, 16);
  eocd.writeUInt16LE(comment.length, 20);
  push(Buffer.concat([eocd, comment, options.trailing ?? Buffer.alloc(0)]));
  return Buffer.concat(parts);
}

/** Offset of the ZIP64 end of central directory record (0x06064b50) in an archive, or -1. */
export function findZip64EndRecord(zip: Buffer): number {
  const sig = Buffer.from([0x50, 0x4b, 0x06, 0x06]);
  return zip.lastIndexOf(sig);
}
