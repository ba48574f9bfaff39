/**
 * Mutations of ZIP archives for fuzzing, as plain data (so a property-based tester can generate,
 * print and shrink them) and one function that applies them. Positions are taken modulo the
 * archive's length, so any non-negative integer is a valid position in any archive.
 */

export type ZipRecordKind = 'local' | 'central' | 'end' | 'zip64End' | 'zip64Locator' | 'dataDescriptor';

export interface ZipRecordField {
  name: string;
  at: number;
  width: 2 | 4 | 8;
}

const SIGNATURES: ReadonlyArray<[number, ZipRecordKind]> = [
  [0x04034b50, 'local'],
  [0x02014b50, 'central'],
  [0x06054b50, 'end'],
  [0x06064b50, 'zip64End'],
  [0x07064b50, 'zip64Locator'],
  [0x08074b50, 'dataDescriptor'],
];

/** The fixed-size fields of each record (APPNOTE.TXT 4.3), signature excluded. */
export const RECORD_FIELDS: Readonly<Record<ZipRecordKind, readonly ZipRecordField[]>> = {
  local: [
    { name: 'version needed', at: 4, width: 2 },
    { name: 'flags', at: 6, width: 2 },
    { name: 'method', at: 8, width: 2 },
    { name: 'time', at: 10, width: 2 },
    { name: 'crc32', at: 14, width: 4 },
    { name: 'compressed size', at: 18, width: 4 },
    { name: 'uncompressed size', at: 22, width: 4 },
    { name: 'name length', at: 26, width: 2 },
    { name: 'extra length', at: 28, width: 2 },
  ],
  central: [
    { name: 'version made by', at: 4, width: 2 },
    { name: 'version needed', at: 6, width: 2 },
    { name: 'flags', at: 8, width: 2 },
    { name: 'method', at: 10, width: 2 },
    { name: 'crc32', at: 16, width: 4 },
    { name: 'compressed size', at: 20, width: 4 },
    { name: 'uncompressed size', at: 24, width: 4 },
    { name: 'name length', at: 28, width: 2 },
    { name: 'extra length', at: 30, width: 2 },
    { name: 'comment length', at: 32, width: 2 },
    { name: 'disk start', at: 34, width: 2 },
    { name: 'internal attributes', at: 36, width: 2 },
    { name: 'external attributes', at: 38, width: 4 },
    { name: 'local header offset', at: 42, width: 4 },
  ],
  end: [
    { name: 'disk', at: 4, width: 2 },
    { name: 'central directory disk', at: 6, width: 2 },
    { name: 'entries on disk', at: 8, width: 2 },
    { name: 'entries', at: 10, width: 2 },
    { name: 'central directory size', at: 12, width: 4 },
    { name: 'central directory offset', at: 16, width: 4 },
    { name: 'comment length', at: 20, width: 2 },
  ],
  zip64End: [
    { name: 'record size', at: 4, width: 8 },
    { name: 'disk', at: 16, width: 4 },
    { name: 'central directory disk', at: 20, width: 4 },
    { name: 'entries on disk', at: 24, width: 8 },
    { name: 'entries', at: 32, width: 8 },
    { name: 'central directory size', at: 40, width: 8 },
    { name: 'central directory offset', at: 48, width: 8 },
  ],
  zip64Locator: [
    { name: 'disk', at: 4, width: 4 },
    { name: 'zip64 end record offset', at: 8, width: 8 },
    { name: 'disks', at: 16, width: 4 },
  ],
  dataDescriptor: [
    { name: 'crc32', at: 4, width: 4 },
    { name: 'compressed size', at: 8, width: 4 },
    { name: 'uncompressed size', at: 12, width: 4 },
  ],
};

/** Values that sit on the boundaries readers get wrong (signed/unsigned, 16/32/53/64 bits, ZIP64 markers). */
export const INTERESTING_VALUES: readonly bigint[] = [
  0n,
  1n,
  2n,
  4n,
  8n,
  0x1en,
  0x2en,
  0x7fn,
  0x80n,
  0xffn,
  0x100n,
  0x7fffn,
  0x8000n,
  0xfffen,
  0xffffn,
  0x10000n,
  0x7fffffffn,
  0x80000000n,
  0xfffffffen,
  0xffffffffn,
  0x100000000n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 63n,
  2n ** 64n - 1n,
];

export interface ZipRecord {
  kind: ZipRecordKind;
  offset: number;
}

/** Every ZIP record signature in the buffer, in offset order (signatures inside data count too). */
export function findRecords(zip: Buffer): ZipRecord[] {
  const found: ZipRecord[] = [];
  for (let i = 0; i + 4 <= zip.length; i++) {
    if (zip[i] !== 0x50 || zip[i + 1] !== 0x4b) continue;
    const sig = zip.readUInt32LE(i);
    for (const [value, kind] of SIGNATURES) {
      if (sig === value) found.push({ kind, offset: i });
    }
  }
  return found;
}

export type FieldValue =
  | { kind: 'interesting'; index: number }
  | { kind: 'delta'; delta: number }
  | { kind: 'raw'; value: number };

export type Mutation =
  /** Flip one bit. */
  | { kind: 'flipBit'; at: number; bit: number }
  /** Overwrite one byte. */
  | { kind: 'setByte'; at: number; value: number }
  /** Remove `remove` bytes at `at` and insert `insert` there (the archive's length changes). */
  | { kind: 'splice'; at: number; remove: number; insert: Buffer }
  /** Cut the archive at `at`. */
  | { kind: 'truncate'; at: number }
  /** Overwrite `length` bytes at `to` with the bytes at `from` (data shared between places). */
  | { kind: 'copyRange'; from: number; to: number; length: number }
  /** Add bytes at the end. */
  | { kind: 'append'; bytes: Buffer }
  /** Overwrite a fixed field of a record found by `findRecords` (record and field modulo their counts). */
  | { kind: 'field'; record: number; field: number; value: FieldValue }
  /** Insert a copy of a central header after it; `fixEnd` updates the end record(s) to match. */
  | { kind: 'duplicateCentral'; index: number; fixEnd: boolean }
  /** Remove a central header; `fixEnd` updates the end record(s) to match. */
  | { kind: 'removeCentral'; index: number; fixEnd: boolean }
  /** Swap two central headers (the directory order no longer follows the data). */
  | { kind: 'swapCentral'; a: number; b: number }
  /**
   * Replace the extra field of a local or central header with one field whose declared length is
   * `length` (it may lie) and whose body is `body`. With `resize` false the old extra field keeps its
   * size and only its first field header is overwritten.
   */
  | { kind: 'extraField'; record: number; id: number; length: number; body: Buffer; resize: boolean };

function u(buf: Buffer, at: number, width: 2 | 4 | 8): bigint {
  if (width === 2) return BigInt(buf.readUInt16LE(at));
  if (width === 4) return BigInt(buf.readUInt32LE(at));
  return buf.readBigUInt64LE(at);
}

function put(buf: Buffer, at: number, width: 2 | 4 | 8, value: bigint): void {
  const masked = BigInt.asUintN(width * 8, value);
  if (width === 2) buf.writeUInt16LE(Number(masked), at);
  else if (width === 4) buf.writeUInt32LE(Number(masked), at);
  else buf.writeBigUInt64LE(masked, at);
}

interface CentralLayout {
  end: number;
  zip64End: number | undefined;
  locator: number | undefined;
  cdOffset: number;
  /** [start, end) of each central header. */
  headers: Array<[number, number]>;
}

/** Finds the central directory through the last end record (leniently); undefined when it cannot. */
export function centralLayout(zip: Buffer): CentralLayout | undefined {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0 || end + 22 > zip.length) return undefined;
  let cdOffset = zip.readUInt32LE(end + 16);
  let zip64End: number | undefined;
  let locator: number | undefined;
  if (end >= 20 && zip.readUInt32LE(end - 20) === 0x07064b50) {
    locator = end - 20;
    const at = zip.readBigUInt64LE(locator + 8);
    if (at + 56n <= BigInt(locator) && zip.readUInt32LE(Number(at)) === 0x06064b50) {
      zip64End = Number(at);
      cdOffset = Number(zip.readBigUInt64LE(zip64End + 48));
    }
  }
  const stop = zip64End ?? end;
  const headers: Array<[number, number]> = [];
  let pos = cdOffset;
  while (pos + 46 <= stop && zip.readUInt32LE(pos) === 0x02014b50) {
    const next =
      pos + 46 + zip.readUInt16LE(pos + 28) + zip.readUInt16LE(pos + 30) + zip.readUInt16LE(pos + 32);
    if (next > stop) break;
    headers.push([pos, next]);
    pos = next;
  }
  if (headers.length === 0) return undefined;
  return { end, zip64End, locator, cdOffset, headers };
}

/** Adds `countDelta` entries and `sizeDelta` bytes to the end record(s); moves the ZIP64 record by `sizeDelta`. */
function fixEndRecords(zip: Buffer, layout: CentralLayout, countDelta: number, sizeDelta: number): void {
  const add = (at: number, width: 2 | 4 | 8, delta: number) => {
    const max = width === 2 ? 0xffffn : width === 4 ? 0xffffffffn : -1n;
    const value = u(zip, at, width);
    if (value !== max) put(zip, at, width, value + BigInt(delta));
  };
  // Offsets are those of the mutated buffer: the end record(s) moved by sizeDelta.
  const end = layout.end + sizeDelta;
  add(end + 8, 2, countDelta);
  add(end + 10, 2, countDelta);
  add(end + 12, 4, sizeDelta);
  if (layout.zip64End !== undefined && layout.locator !== undefined) {
    const record = layout.zip64End + sizeDelta;
    add(record + 24, 8, countDelta);
    add(record + 32, 8, countDelta);
    add(record + 40, 8, sizeDelta);
    add(layout.locator + sizeDelta + 8, 8, sizeDelta);
  }
}

function fieldValue(original: bigint, value: FieldValue): bigint {
  switch (value.kind) {
    case 'interesting':
      return INTERESTING_VALUES[Math.abs(value.index) % INTERESTING_VALUES.length]!;
    case 'delta':
      return original + BigInt(value.delta);
    case 'raw':
      return BigInt(value.value >>> 0);
  }
}

/** Applies one mutation; returns a new buffer (the input is never changed). */
export function applyMutation(input: Buffer, mutation: Mutation): Buffer {
  const zip = Buffer.from(input);
  const n = zip.length;
  switch (mutation.kind) {
    case 'flipBit': {
      if (n === 0) return zip;
      zip[mutation.at % n]! ^= 1 << (mutation.bit & 7);
      return zip;
    }
    case 'setByte': {
      if (n === 0) return zip;
      zip[mutation.at % n] = mutation.value & 0xff;
      return zip;
    }
    case 'splice': {
      const at = mutation.at % (n + 1);
      return Buffer.concat([
        zip.subarray(0, at),
        mutation.insert,
        zip.subarray(Math.min(n, at + mutation.remove)),
      ]);
    }
    case 'truncate':
      return zip.subarray(0, mutation.at % (n + 1));
    case 'copyRange': {
      if (n === 0) return zip;
      const from = mutation.from % n;
      const to = mutation.to % n;
      const length = Math.min(mutation.length, n - from, n - to);
      input.copy(zip, to, from, from + length);
      return zip;
    }
    case 'append':
      return Buffer.concat([zip, mutation.bytes]);
    case 'field': {
      const records = findRecords(zip);
      if (records.length === 0) return zip;
      const record = records[mutation.record % records.length]!;
      const fields = RECORD_FIELDS[record.kind];
      const field = fields[mutation.field % fields.length]!;
      const at = record.offset + field.at;
      if (at + field.width > n) return zip;
      put(zip, at, field.width, fieldValue(u(zip, at, field.width), mutation.value));
      return zip;
    }
    case 'duplicateCentral': {
      const layout = centralLayout(zip);
      if (layout === undefined) return zip;
      const [start, stop] = layout.headers[mutation.index % layout.headers.length]!;
      const copy = zip.subarray(start, stop);
      const out = Buffer.concat([zip.subarray(0, stop), copy, zip.subarray(stop)]);
      if (mutation.fixEnd) fixEndRecords(out, layout, 1, copy.length);
      return out;
    }
    case 'removeCentral': {
      const layout = centralLayout(zip);
      if (layout === undefined) return zip;
      const [start, stop] = layout.headers[mutation.index % layout.headers.length]!;
      const out = Buffer.concat([zip.subarray(0, start), zip.subarray(stop)]);
      if (mutation.fixEnd) fixEndRecords(out, layout, -1, start - stop);
      return out;
    }
    case 'swapCentral': {
      const layout = centralLayout(zip);
      if (layout === undefined) return zip;
      const count = layout.headers.length;
      const a = mutation.a % count;
      const b = mutation.b % count;
      if (a === b) return zip;
      const parts = layout.headers.map(([s, e]) => zip.subarray(s, e));
      [parts[a], parts[b]] = [parts[b]!, parts[a]!];
      const first = layout.headers[0]![0];
      const last = layout.headers[count - 1]![1];
      return Buffer.concat([zip.subarray(0, first), ...parts, zip.subarray(last)]);
    }
    case 'extraField': {
      const headers = findRecords(zip).filter((r) => r.kind === 'local' || r.kind === 'central');
      if (headers.length === 0) return zip;
      const record = headers[mutation.record % headers.length]!;
      const fixed = record.kind === 'local' ? 30 : 46;
      const lengthAt = record.offset + (record.kind === 'local' ? 28 : 30);
      const nameAt = record.offset + (record.kind === 'local' ? 26 : 28);
      if (record.offset + fixed > n) return zip;
      const extraStart = record.offset + fixed + zip.readUInt16LE(nameAt);
      const extraLength = zip.readUInt16LE(lengthAt);
      if (extraStart + extraLength > n) return zip;
      const head = Buffer.alloc(4);
      head.writeUInt16LE(mutation.id & 0xffff, 0);
      head.writeUInt16LE(mutation.length & 0xffff, 2);
      if (!mutation.resize) {
        if (extraLength < 4) return zip;
        head.copy(zip, extraStart);
        mutation.body.copy(zip, extraStart + 4, 0, Math.min(mutation.body.length, extraLength - 4));
        return zip;
      }
      const field = Buffer.concat([head, mutation.body]).subarray(0, 0xffff);
      const out = Buffer.concat([zip.subarray(0, extraStart), field, zip.subarray(extraStart + extraLength)]);
      out.writeUInt16LE(field.length, lengthAt);
      return out;
    }
  }
}

/** Applies the mutations in order. */
export function applyMutations(zip: Buffer, mutations: readonly Mutation[]): Buffer {
  let out = zip;
  for (const mutation of mutations) out = applyMutation(out, mutation);
  return out;
}

/** A mutation as one short line (for failure reports); buffers as hex. */
export function describeMutation(mutation: Mutation): string {
  return JSON.stringify(mutation, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer') {
      return `hex:${Buffer.from((value as { data: number[] }).data).toString('hex')}`;
    }
    return value;
  });
}
