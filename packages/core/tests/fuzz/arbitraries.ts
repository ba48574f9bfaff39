/**
 * fast-check arbitraries for the archive fuzzer.
 *
 * Structured cases start from an honest archive (whose extracted files are known exactly) and add
 * zero or more defects. Each defect names the error codes it may cause, so a run is judged against
 * a precise expectation: an honest archive must extract to exactly its files, a defective one must
 * end with one of its defects' codes. Mutation cases take a seed from the fixture corpus and apply
 * byte- and structure-level mutations; they are only held to the general invariants.
 */

import { crc32, deflateRawSync } from 'node:zlib';
import {
  applyMutation,
  buildFuzzArchive,
  CP932_SEGMENTS,
  type FuzzArchive,
  logText,
  type Mutation,
  NFD_SEGMENTS,
  type RawZipEntry,
  SAFE_SEGMENTS,
  UNIX_MADE_BY,
  UNSAFE_CP932_NAMES,
  UNSAFE_NAMES,
  unixAttributes,
  writeZip,
  zerosEntry,
} from '@logzip/test-utils';
import fc from 'fast-check';
import type { Limits } from '../../src/config.js';
import type { ErrorCode } from '../../src/errors.js';

export type Outcome = 'extracted' | ErrorCode;

/** What a run of one structured case must end with. */
export interface Expectation {
  /** When set, the run must extract exactly these files (path → bytes), nothing else. */
  files?: ReadonlyArray<{ path: string; data: Buffer }>;
  /** When set, the outcome must be one of these; unset means any archive code or `extracted`. */
  outcomes?: ReadonlySet<Outcome>;
}

/** `arb` in one case out of `oneIn`, undefined otherwise (fc.option's `freq` is the other way round). */
export function sometimes<T>(arb: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
}

// ---------------------------------------------------------------------------------------------
// Names

interface GenName {
  raw: string | Buffer;
  /** The entry path an extractor must produce. */
  path: string;
  utf8Flag: boolean;
  unicodePath?: string | { path: string; nameCrc32: number };
}

const asciiSegment = fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,11}$/);

const utf8Segment: fc.Arbitrary<{ raw: string; text: string }> = fc.oneof(
  { weight: 3, arbitrary: asciiSegment.map((s) => ({ raw: s, text: s })) },
  { weight: 2, arbitrary: fc.constantFrom(...SAFE_SEGMENTS).map((s) => ({ raw: s, text: s })) },
  { weight: 1, arbitrary: fc.constantFrom(...NFD_SEGMENTS).map((s) => ({ raw: s.raw, text: s.nfc })) },
);

const cp932Segment: fc.Arbitrary<{ raw: Buffer; text: string }> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...CP932_SEGMENTS).map((s) => ({ raw: s.bytes, text: s.text })) },
  { weight: 1, arbitrary: asciiSegment.map((s) => ({ raw: Buffer.from(s), text: s })) },
);

/** '/' mostly; '\\' (Windows writers) sometimes: both mean a folder. */
const separator = fc.constantFrom('/', '/', '\\');

const utf8Name: fc.Arbitrary<GenName> = fc
  .record({
    segments: fc.array(utf8Segment, { minLength: 1, maxLength: 3 }),
    seps: fc.array(separator, { minLength: 2, maxLength: 2 }),
    dotSlash: fc.constantFrom('', '', '', './', '.\\'),
    utf8Flag: fc.boolean(),
  })
  .map(({ segments, seps, dotSlash, utf8Flag }) => ({
    raw: dotSlash + segments.map((s, i) => (i === 0 ? s.raw : seps[i - 1] + s.raw)).join(''),
    path: segments.map((s) => s.text).join('/'),
    utf8Flag,
  }));

const cp932Name: fc.Arbitrary<GenName> = fc
  .record({
    first: fc.constantFrom(...CP932_SEGMENTS),
    rest: fc.array(cp932Segment, { maxLength: 2 }),
    seps: fc.array(separator, { minLength: 2, maxLength: 2 }),
    suffix: fc.constantFrom('', '.log', '.txt'),
    // 'flag': a buggy writer flagged the CP932 bytes as UTF-8; 'field': a Unicode Path field
    // (correct, or with a stale CRC that must be ignored).
    variant: fc.constantFrom('plain', 'plain', 'flag', 'field', 'stale-field'),
    leadFirst: fc.boolean(),
  })
  .map(({ first, rest, seps, suffix, variant, leadFirst }) => {
    const parts = [{ raw: first.bytes, text: first.text }, ...rest];
    if (!leadFirst) parts.reverse();
    const last = parts.length - 1;
    const raw = Buffer.concat(
      parts.flatMap((p, i) => [
        ...(i === 0 ? [] : [Buffer.from(seps[i - 1]!)]),
        p.raw,
        ...(i === last ? [Buffer.from(suffix)] : []),
      ]),
    );
    const path = parts.map((p, i) => p.text + (i === last ? suffix : '')).join('/');
    return {
      raw,
      path,
      utf8Flag: variant === 'flag',
      ...(variant === 'field' ? { unicodePath: path } : {}),
      ...(variant === 'stale-field' ? { unicodePath: { path: 'stale/name.log', nameCrc32: 0x1234567 } } : {}),
    };
  });

const nameArb: fc.Arbitrary<GenName> = fc.oneof(
  { weight: 3, arbitrary: utf8Name },
  { weight: 2, arbitrary: cp932Name },
);

// ---------------------------------------------------------------------------------------------
// Honest archives

/**
 * One entry over 4 MiB, built once: the engine streams such entries (inflate stream, streamed
 * write) instead of inflating them in one call. Its deflated bytes are precomputed.
 */
let large: { data: Buffer; deflated: Buffer } | undefined;
export function largeData(): { data: Buffer; deflated: Buffer } {
  if (large === undefined) {
    const data = Buffer.from(logText(62_000, 42));
    large = { data: named(data, 'LARGE_DATA'), deflated: named(deflateRawSync(data), 'LARGE_DEFLATED') };
  }
  return large;
}

const LARGE_MARK = Buffer.from('large entry placeholder');

const dataArb: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(LARGE_MARK) },
  { weight: 20, arbitrary: fc.constant(Buffer.alloc(0)) },
  { weight: 30, arbitrary: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)) },
  {
    weight: 30,
    arbitrary: fc
      .tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.nat(4000))
      .map(([s, n]) => Buffer.from(s.repeat(Math.ceil(n / s.length)).slice(0, n))),
  },
  {
    weight: 20,
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 600 }), fc.nat())
      .map(([lines, seed]) => Buffer.from(logText(lines, seed))),
  },
);

/** Extra-field bytes that must not change anything: unknown fields, even ones that are cut short. */
const extraNoise: fc.Arbitrary<Buffer | undefined> = sometimes(
  fc.uint8Array({ maxLength: 24 }).map((a) => {
    const b = Buffer.from(a);
    // Keep the ZIP64 (0x0001) and Unicode Path (0x7075) ids out of the noise: they have meaning.
    if (b.length >= 2 && (b.readUInt16LE(0) === 0x0001 || b.readUInt16LE(0) === 0x7075)) b[0] = 0xfe;
    return b;
  }),
  4,
);

interface GenFile {
  name: GenName;
  data: Buffer;
  method: number;
  emptyDeflate: boolean;
  dataDescriptor: boolean;
  zip64: boolean;
  unix: boolean;
  extra: Buffer | undefined;
  comment: string | undefined;
}

const fileArb: fc.Arbitrary<GenFile> = fc.record({
  name: nameArb,
  data: dataArb,
  method: fc.constantFrom(0, 8, 8),
  emptyDeflate: fc.boolean(),
  dataDescriptor: fc.boolean(),
  zip64: fc.boolean(),
  unix: fc.boolean(),
  extra: extraNoise,
  comment: fc.option(fc.stringMatching(/^[a-z ]{0,12}$/), { nil: undefined }),
});

/** Bytes without 'P' (0x50): no record signature can hide in them. */
const bytesWithoutP = (min: number, max: number) =>
  fc
    .uint8Array({ minLength: min, maxLength: max })
    .map((a) => Buffer.from(a.map((x) => (x === 0x50 ? 0x51 : x))));

/** A self-extractor stub that pushes the archive past the engine's single-read size (16 MiB). */
const HUGE_STUB = named(Buffer.alloc(16 * 2 ** 20 + 1, 0x20), 'HUGE_STUB');

/** Large buffers print as their name in fast-check's reports instead of millions of numbers. */
function named(buf: Buffer, name: string): Buffer {
  Object.defineProperty(buf, fc.toStringMethod, { value: () => name });
  return buf;
}

interface HonestParts {
  files: GenFile[];
  dirs: Array<{ of: number; depth: number; fresh: string; fromFile: boolean }>;
  zip64End: boolean;
  comment: string | undefined;
  sfx: Buffer | undefined;
  trailing: Buffer | undefined;
  swaps: Array<[number, number]>;
}

const honestArb: fc.Arbitrary<HonestParts> = fc.record({
  files: fc.array(fileArb, { maxLength: 8 }),
  dirs: fc.array(fc.record({ of: fc.nat(), depth: fc.nat(), fresh: asciiSegment, fromFile: fc.boolean() }), {
    maxLength: 2,
  }),
  zip64End: fc.boolean(),
  comment: fc.option(fc.stringMatching(/^[ -O]{0,40}$/), { nil: undefined }),
  sfx: sometimes(
    fc.oneof(
      { weight: 30, arbitrary: bytesWithoutP(1, 80) },
      // Past 16 MiB the engine reads with ranged GETs through the block cache instead of one GET.
      { weight: 1, arbitrary: fc.constant(HUGE_STUB) },
    ),
    6,
  ),
  trailing: sometimes(bytesWithoutP(1, 40), 6),
  swaps: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 2 }),
});

interface GenEntry {
  entry: RawZipEntry;
  path: string;
  kind: 'file' | 'dir';
  data: Buffer;
}

function toEntry(f: GenFile): GenEntry {
  const isLarge = f.data === LARGE_MARK;
  const data = isLarge ? largeData().data : f.data;
  const entry: RawZipEntry = {
    name: f.name.raw,
    data,
    ...(isLarge && f.method === 8 ? { compressed: largeData().deflated } : {}),
    method: f.method,
    utf8Flag: f.name.utf8Flag,
    dataDescriptor: f.dataDescriptor,
    zip64: f.zip64,
    ...(f.method === 8 && f.emptyDeflate && f.data.length === 0 ? { compressed: Buffer.alloc(0) } : {}),
    ...(f.name.unicodePath === undefined ? {} : { unicodePath: f.name.unicodePath }),
    ...(f.unix ? { versionMadeBy: UNIX_MADE_BY, externalAttributes: unixAttributes(0o100644) } : {}),
    ...(f.extra === undefined ? {} : { extra: f.extra }),
    ...(f.comment === undefined ? {} : { comment: f.comment }),
  };
  return { entry, path: f.name.path, kind: 'file', data };
}

/** Drops files whose key another file already has, or that are another file's folder (or the reverse). */
function keepDistinct(entries: GenEntry[]): GenEntry[] {
  const files: GenEntry[] = [];
  for (const e of entries) {
    const clash = files.some(
      (f) => f.path === e.path || f.path.startsWith(`${e.path}/`) || e.path.startsWith(`${f.path}/`),
    );
    if (!clash) files.push(e);
  }
  return files;
}

// ---------------------------------------------------------------------------------------------
// Defects

const sizeLie = fc.oneof(
  fc.integer({ min: -2000, max: 2000 }).map((d) => ({ kind: 'delta' as const, d: d === 0 ? 1 : d })),
  fc
    .constantFrom(0, 1, 0xffff, 0x7fffffff, 0xfffffffe, 0xffffffff, 5 * 2 ** 20, 16 * 2 ** 20 + 1, 2 ** 31)
    .map((v) => ({ kind: 'value' as const, v })),
);

export type Defect =
  | { kind: 'crc'; at: number; xor: number }
  | { kind: 'usize'; at: number; lie: { kind: 'delta'; d: number } | { kind: 'value'; v: number } }
  | { kind: 'csize'; at: number; lie: { kind: 'delta'; d: number } | { kind: 'value'; v: number } }
  | { kind: 'method'; at: number; method: number }
  | { kind: 'encrypted'; at: number; flag: number }
  | { kind: 'unsafeName'; at: number; name: number }
  | { kind: 'special'; at: number; mode: number }
  | { kind: 'duplicate'; at: number; variant: number }
  | { kind: 'fileFolder'; at: number }
  | { kind: 'share'; at: number }
  | { kind: 'localMethod'; at: number; method: number }
  | { kind: 'localSignature'; at: number; signature: number }
  | { kind: 'localName'; at: number; bytes: Buffer }
  | { kind: 'localExtra'; at: number; bytes: Buffer }
  | { kind: 'endRecord'; field: EndField; delta: number }
  | { kind: 'prefixUnshifted'; bytes: Buffer }
  | { kind: 'truncate'; at: number }
  | { kind: 'fakeEnd'; bytes: Buffer }
  | { kind: 'bomb'; at: number; bytes: number; declare: number | undefined }
  | { kind: 'longName'; segmentBytes: number }
  | { kind: 'dirWithData' }
  | { kind: 'unicodeUnsafe'; at: number; name: number }
  | { kind: 'unicodeDuplicate'; at: number }
  | { kind: 'randomName'; at: number; bytes: Buffer; utf8Flag: boolean }
  | { kind: 'streamedLie'; at: number; bytes: number; declare: number; garbage: boolean; seed: number };

/**
 * Bytes that make names interesting: dots, slashes, backslashes, NUL, colons, CP932 lead bytes
 * (0x81–0x9F, 0xE0–0xFC) and trail bytes that are ASCII ('\\', '@'), and the UTF-8 of fullwidth
 * and ideographic full stops and solidi (U+FF0E, U+3002, U+FF0F, U+2215).
 */
const NAME_BYTES = [
  0x2e, 0x2f, 0x5c, 0x00, 0x3a, 0x41, 0x20, 0x83, 0x81, 0x9f, 0xe0, 0xfc, 0x40, 0xef, 0xbc, 0x8e, 0x8f, 0xe3,
  0x80, 0x82, 0xe2, 0x88, 0x95,
];

const defectArb: fc.Arbitrary<Defect> = fc.oneof(
  fc.record({
    kind: fc.constant('crc' as const),
    at: fc.nat(),
    xor: fc.integer({ min: 1, max: 0xffffffff }),
  }),
  fc.record({ kind: fc.constant('usize' as const), at: fc.nat(), lie: sizeLie }),
  fc.record({ kind: fc.constant('csize' as const), at: fc.nat(), lie: sizeLie }),
  fc.record({
    kind: fc.constant('method' as const),
    at: fc.nat(),
    method: fc.constantFrom(1, 6, 9, 12, 14, 18, 19, 93, 95, 97, 98, 99, 0xffff),
  }),
  fc.record({
    kind: fc.constant('encrypted' as const),
    at: fc.nat(),
    flag: fc.constantFrom(0x1, 0x40, 0x41),
  }),
  fc.record({ kind: fc.constant('unsafeName' as const), at: fc.nat(), name: fc.nat() }),
  fc.record({
    kind: fc.constant('special' as const),
    at: fc.nat(),
    mode: fc.constantFrom(0o120777, 0o010644, 0o020644, 0o060644, 0o140644),
  }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), variant: fc.nat(4) }),
  fc.record({ kind: fc.constant('fileFolder' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('share' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('localMethod' as const),
    at: fc.nat(),
    method: fc.constantFrom(0, 8, 12, 99),
  }),
  fc.record({
    kind: fc.constant('localSignature' as const),
    at: fc.nat(),
    signature: fc.constantFrom(0, 0x02014b50, 0x04034b51, 0x08074b50),
  }),
  fc.record({
    kind: fc.constant('localName' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  }),
  fc.record({
    kind: fc.constant('localExtra' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }).map((a) => Buffer.from(a)),
  }),
  fc.record({
    kind: fc.constant('endRecord' as const),
    field: fc.constantFrom('entryCount' as const, 'cdOffset' as const, 'cdSize' as const),
    // No multiple of 65,536: a 16-bit count would wrap back to the truth.
    delta: fc.oneof(fc.integer({ min: -50, max: 50 }), fc.constantFrom(1000, 0x7fffffff)),
  }),
  fc.record({ kind: fc.constant('prefixUnshifted' as const), bytes: bytesWithoutP(1, 64) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('fakeEnd' as const),
    bytes: fc
      .uint8Array({ minLength: 18, maxLength: 40 })
      .map((a) => Buffer.concat([Buffer.from('504b0506', 'hex'), Buffer.from(a)])),
  }),
  fc.record({
    kind: fc.constant('bomb' as const),
    at: fc.nat(),
    bytes: fc.constantFrom(2 ** 20 + 1, 3 * 2 ** 20, 17 * 2 ** 20),
    declare: fc.option(fc.constantFrom(0, 100, 5 * 2 ** 20), { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('longName' as const), segmentBytes: fc.constantFrom(256, 300, 1100) }),
  fc.record({ kind: fc.constant('dirWithData' as const) }),
  fc.record({ kind: fc.constant('unicodeUnsafe' as const), at: fc.nat(), name: fc.nat() }),
  fc.record({ kind: fc.constant('unicodeDuplicate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('randomName' as const),
    at: fc.nat(),
    bytes: fc
      .array(fc.oneof(fc.constantFrom(...NAME_BYTES), fc.nat(255)), { maxLength: 24 })
      .map((a) => Buffer.from(a)),
    utf8Flag: fc.boolean(),
  }),
);

/** Unicode Path field contents (UTF-8) that must be refused, whatever the raw name says. */
const UNSAFE_UNICODE_PATHS = [
  '../escape.log',
  'a/../../escape.log',
  '/abs.log',
  'C:\\x.log',
  '..\\x.log',
  'a\0b',
  '',
];

/**
 * A case being built: its entries and archive options, the codes its defects may cause, and `any`
 * when a defect's effect cannot be told in advance.
 */
interface Defected {
  entries: GenEntry[];
  archive: Omit<FuzzArchive, 'entries'>;
  outcomes: Set<Outcome>;
  any: boolean;
  truncateAt: number | undefined;
  endLies: Array<{ field: EndField; delta: number }>;
  labels: string[];
}

type EndField = 'entryCount' | 'cdOffset' | 'cdSize';

function pickFile(state: Defected, at: number): number | undefined {
  const files = state.entries.flatMap((e, i) =>
    e.kind === 'file' && e.entry.sharesDataOf === undefined ? [i] : [],
  );
  return files.length === 0 ? undefined : files[at % files.length];
}

function lieValue(
  real: number,
  lie: { kind: 'delta'; d: number } | { kind: 'value'; v: number },
  zip64: boolean,
) {
  let v = lie.kind === 'delta' ? real + lie.d : lie.v;
  v = Math.max(0, Math.min(v, zip64 ? 2 ** 40 : 0xffffffff));
  return v === real ? real + 1 : v;
}

function compressedLength(e: GenEntry): number {
  const method = e.entry.method ?? 8;
  if (e.entry.compressed) return e.entry.compressed.length;
  return method === 8 ? deflateLength(e.data) : e.data.length;
}

function deflateLength(data: Buffer): number {
  return deflateRawSync(data).length;
}

const UNSAFE = [...UNSAFE_NAMES, ...UNSAFE_CP932_NAMES];

function applyDefect(state: Defected, d: Defect): void {
  const add = (...codes: Outcome[]) => {
    for (const c of codes) state.outcomes.add(c);
    state.labels.push(d.kind);
  };
  const target = 'at' in d ? pickFile(state, d.at) : undefined;
  const needsFile = 'at' in d && d.kind !== 'truncate';
  if (needsFile && target === undefined) return;
  const t = target === undefined ? undefined : state.entries[target]!;
  switch (d.kind) {
    case 'crc': {
      const real = t!.entry.crc32 ?? crc32Of(t!.data);
      t!.entry = { ...t!.entry, crc32: (real ^ d.xor) >>> 0 };
      add('crc_mismatch');
      return;
    }
    case 'usize':
      t!.entry = { ...t!.entry, uncompressedSize: lieValue(t!.data.length, d.lie, t!.entry.zip64 === true) };
      // With a compressed-size lie too, the two sizes can agree again (stored: equal; deflate: both
      // zero, an empty entry): then the bytes read are the wrong ones and only the CRC tells.
      add('corrupt', 'limits_exceeded', 'crc_mismatch');
      return;
    case 'csize': {
      const real = compressedLength(t!);
      const lie = lieValue(real, d.lie, t!.entry.zip64 === true);
      t!.entry = { ...t!.entry, compressedSize: lie };
      // Bytes after the end of a deflate stream are not inflated: the entry's content stays exact.
      // An empty entry declared with no compressed bytes at all is how some writers store it.
      const harmless = (t!.entry.method ?? 8) === 8 && (lie > real || (lie === 0 && t!.data.length === 0));
      add('corrupt', 'limits_exceeded', 'crc_mismatch', ...(harmless ? (['extracted'] as const) : []));
      return;
    }
    case 'method':
      t!.entry = { ...t!.entry, method: d.method, compressed: t!.data };
      add(d.method === 99 ? 'encrypted' : 'unsupported_method');
      return;
    case 'encrypted':
      t!.entry = { ...t!.entry, flags: d.flag };
      add('encrypted');
      return;
    case 'unsafeName':
      t!.entry = { ...t!.entry, name: UNSAFE[d.name % UNSAFE.length]!, utf8Flag: false };
      delete t!.entry.unicodePath;
      add('unsafe_path');
      return;
    case 'special':
      t!.entry = { ...t!.entry, versionMadeBy: UNIX_MADE_BY, externalAttributes: unixAttributes(d.mode) };
      add('unsafe_path');
      return;
    case 'duplicate': {
      const variants = [
        t!.path,
        t!.path.replaceAll('/', '\\'),
        `./${t!.path}`,
        t!.path.normalize('NFD'),
        `.\\${t!.path}`,
      ];
      const name = variants[d.variant % variants.length]!;
      state.entries.push({
        entry: { name, data: 'duplicate', utf8Flag: true },
        path: t!.path,
        kind: 'file',
        data: Buffer.from('duplicate'),
      });
      add('duplicate_entry');
      return;
    }
    case 'fileFolder': {
      const path = `${t!.path}/child.log`;
      state.entries.push({
        entry: { name: path, utf8Flag: true, data: 'c' },
        path,
        kind: 'file',
        data: Buffer.from('c'),
      });
      add('duplicate_entry');
      return;
    }
    case 'share': {
      const name = `shared-${state.entries.length}.log`;
      state.entries.push({ entry: { name, sharesDataOf: target! }, path: name, kind: 'file', data: t!.data });
      add('corrupt');
      return;
    }
    case 'localMethod':
      if ((t!.entry.method ?? 8) === d.method) return;
      t!.entry = { ...t!.entry, localMethod: d.method };
      add('corrupt', ...(d.method === 99 ? (['encrypted'] as const) : []));
      return;
    case 'localSignature':
      t!.entry = { ...t!.entry, localSignature: d.signature };
      add('corrupt');
      return;
    case 'localName': {
      // A local header naming another file than the central one: readers disagree about which
      // name wins, so the archive is refused. Random bytes equal to the central name are no defect.
      const central = typeof t!.entry.name === 'string' ? Buffer.from(t!.entry.name) : t!.entry.name;
      t!.entry = { ...t!.entry, localName: d.bytes };
      if (!d.bytes.equals(central)) add('name_mismatch');
      return;
    }
    case 'localExtra':
      // The local header stays self-consistent (its own extra length): the data is found after it.
      // Not a defect (random bytes do not make a Unicode Path field whose CRC matches the name).
      t!.entry = { ...t!.entry, localExtra: d.bytes };
      return;
    case 'endRecord':
      state.endLies.push({ field: d.field, delta: d.delta });
      return;
    case 'prefixUnshifted':
      state.archive.prefix = d.bytes;
      state.archive.shiftOffsets = false;
      add('corrupt');
      return;
    case 'truncate':
      state.truncateAt = d.at;
      return;
    case 'fakeEnd':
      state.archive.options = { ...state.archive.options, trailing: d.bytes };
      state.any = true;
      state.labels.push('fakeEnd');
      return;
    case 'bomb': {
      const bomb = zerosEntry('x', d.bytes, d.declare === undefined ? {} : { uncompressedSize: d.declare });
      t!.entry = { ...bomb, name: t!.entry.name, utf8Flag: t!.entry.utf8Flag ?? false };
      add('limits_exceeded', 'corrupt');
      return;
    }
    case 'longName': {
      const segment = `${state.entries.length}`.padEnd(d.segmentBytes, 'n');
      const path = d.segmentBytes > 1000 ? segment : `long/${segment}`;
      state.entries.push({ entry: { name: path, data: 'l' }, path, kind: 'file', data: Buffer.from('l') });
      add('key_too_long');
      return;
    }
    case 'unicodeUnsafe':
      // A Unicode Path field whose CRC matches the raw name is what the reader uses for the name;
      // under an ASCII raw name it is a second, different name.
      t!.entry = {
        ...t!.entry,
        unicodePath: UNSAFE_UNICODE_PATHS[d.name % UNSAFE_UNICODE_PATHS.length]!,
        utf8Flag: false,
      };
      add('unsafe_path', 'name_mismatch');
      return;
    case 'unicodeDuplicate': {
      // A non-ASCII raw name, so the Unicode Path field is a spelling of it, not a second name.
      const name = Buffer.from(`別名-${state.entries.length}.log`, 'utf8');
      state.entries.push({
        entry: { name, unicodePath: t!.path, data: 'alias', utf8Flag: false },
        path: t!.path,
        kind: 'file',
        data: Buffer.from('alias'),
      });
      add('duplicate_entry');
      return;
    }
    case 'randomName':
      // Anything may come of it (a safe name, an unsafe one, a duplicate); the harness still checks
      // that nothing lands outside the folder.
      t!.entry = { ...t!.entry, name: d.bytes, utf8Flag: d.utf8Flag };
      delete t!.entry.unicodePath;
      state.any = true;
      state.labels.push('randomName');
      return;
    case 'streamedLie': {
      const data = pseudoRandom(d.bytes, d.seed);
      t!.entry = d.garbage
        ? { ...t!.entry, method: 8, data, compressed: data, uncompressedSize: d.declare }
        : { ...t!.entry, method: 8, data, uncompressedSize: d.declare };
      delete t!.entry.compressedSize;
      add('corrupt', 'crc_mismatch', 'limits_exceeded');
      return;
    }
    case 'dirWithData': {
      state.entries.push({
        entry: { name: 'dir-with-data/', data: 'x', method: 0 },
        path: 'dir-with-data/',
        kind: 'dir',
        data: Buffer.from('x'),
      });
      add('corrupt');
      return;
    }
  }
}

/** Incompressible bytes from a seed (xorshift32), without a megabyte of fast-check values. */
function pseudoRandom(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function crc32Of(data: Buffer): number {
  return crc32(data) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Structured cases

export interface StructuredCase {
  archive: FuzzArchive;
  swaps: Array<[number, number]>;
  /** Defects applied to the entries or the archive's surroundings (labels). */
  defects: string[];
  /** The codes those defects may cause. */
  codes: Outcome[];
  /** A defect whose effect cannot be told in advance is present. */
  any: boolean;
  /** Lies written into the end record(s) once the archive is built. */
  endLies: Array<{ field: EndField; delta: number }>;
  /** Cut the archive here (modulo its length + 1). */
  truncateAt: number | undefined;
  /** Files of the honest archive. */
  files: Array<{ path: string; data: Buffer }>;
}

function assemble(h: HonestParts, defects: Defect[]): StructuredCase {
  const files = keepDistinct(h.files.map(toEntry));
  const dirs: GenEntry[] = [];
  for (const d of h.dirs) {
    let path: string;
    if (d.fromFile && files.length > 0) {
      const segments = files[d.of % files.length]!.path.split('/');
      if (segments.length < 2) continue;
      path = `${segments.slice(0, 1 + (d.depth % (segments.length - 1))).join('/')}/`;
    } else {
      path = `${d.fresh}/`;
    }
    const trimmed = path.slice(0, -1);
    if (files.some((f) => f.path === trimmed) || dirs.some((x) => x.path === path)) continue;
    dirs.push({ entry: { name: path, method: 0, utf8Flag: true }, path, kind: 'dir', data: Buffer.alloc(0) });
  }
  const state: Defected = {
    entries: [...files, ...dirs],
    archive: {
      options: {
        ...(h.zip64End ? { zip64: true } : {}),
        ...(h.comment === undefined ? {} : { comment: h.comment }),
        ...(h.trailing === undefined ? {} : { trailing: h.trailing }),
      },
      ...(h.sfx === undefined ? {} : { prefix: h.sfx, shiftOffsets: true }),
    },
    outcomes: new Set(),
    any: false,
    truncateAt: undefined,
    endLies: [],
    labels: [],
  };
  for (const d of defects) applyDefect(state, d);
  return {
    archive: { ...state.archive, entries: state.entries.map((e) => e.entry) },
    swaps: h.swaps,
    defects: state.labels,
    codes: [...state.outcomes],
    any: state.any,
    endLies: state.endLies,
    truncateAt: state.truncateAt,
    files: files.map((f) => ({ path: f.path, data: f.data })),
  };
}

/**
 * A defect aimed at a fixed bug (streamed entries failing before the store read from them crashed
 * the process): an entry declared over 4 MiB (so the engine streams it) whose data is 10–40 KiB,
 * inflating short of the declared size, or not deflate at all.
 */
const streamedLieArb: fc.Arbitrary<Defect> = fc.record({
  kind: fc.constant('streamedLie' as const),
  at: fc.nat(),
  bytes: fc.integer({ min: 10 * 1024, max: 40 * 1024 }),
  declare: fc.constantFrom(4 * 2 ** 20 + 1, 5 * 2 ** 20, 6 * 2 ** 20),
  garbage: fc.boolean(),
  seed: fc.nat(),
});

export interface StructuredOptions {
  /** Also generate the defects aimed at fixed bugs (regressions); on in every run. */
  knownBugs?: boolean;
}

/** Honest archives with 0–3 defects. */
export function structuredCases(options: StructuredOptions = {}): fc.Arbitrary<StructuredCase> {
  const defect = options.knownBugs
    ? fc.oneof({ weight: 6, arbitrary: defectArb }, { weight: 1, arbitrary: streamedLieArb })
    : defectArb;
  return fc
    .tuple(
      honestArb,
      fc.oneof(
        { weight: 2, arbitrary: fc.constant([] as Defect[]) },
        { weight: 3, arbitrary: fc.array(defect, { minLength: 1, maxLength: 3 }) },
      ),
    )
    .map(([h, defects]) => assemble(h, defects));
}

/** Honest archives with 0–3 defects (without the known-bug defects). */
export const structuredCaseArb: fc.Arbitrary<StructuredCase> = structuredCases();

const END_FIELDS: Record<EndField, { end: [number, 2 | 4][]; zip64: number[] }> = {
  entryCount: {
    end: [
      [8, 2],
      [10, 2],
    ],
    zip64: [24, 32],
  },
  cdSize: { end: [[12, 4]], zip64: [40] },
  cdOffset: { end: [[16, 4]], zip64: [48] },
};

/** Writes an end-record lie into the built archive; false when it changed nothing. */
function lieInEndRecord(zip: Buffer, field: EndField, delta: number): boolean {
  const end = zip.lastIndexOf(Buffer.from('504b0506', 'hex'));
  if (end < 0) return false;
  const where = END_FIELDS[field];
  let changed = false;
  // With a ZIP64 locator in front of the end record, the ZIP64 end record's values are the ones read.
  if (end >= 20 && zip.readUInt32LE(end - 20) === 0x07064b50) {
    const record = Number(zip.readBigUInt64LE(end - 20 + 8));
    if (record + 56 > end - 20 || zip.readUInt32LE(record) !== 0x06064b50) return false;
    for (const at of where.zip64) {
      const old = zip.readBigUInt64LE(record + at);
      const value = BigInt(Math.max(0, Number(old) + delta));
      zip.writeBigUInt64LE(value, record + at);
      changed ||= value !== old;
    }
    return changed;
  }
  for (const [at, width] of where.end) {
    const max = width === 2 ? 0xffff : 0xffffffff;
    const old = width === 2 ? zip.readUInt16LE(end + at) : zip.readUInt32LE(end + at);
    const value = Math.max(0, old + delta) % (max + 1);
    if (width === 2) zip.writeUInt16LE(value, end + at);
    else zip.writeUInt32LE(value, end + at);
    changed ||= value !== old;
  }
  return changed;
}

/** The bytes of a structured case and what its run must end with. */
export function materialize(c: StructuredCase): { zip: Buffer; expect: Expectation } {
  let zip = buildFuzzArchive(c.archive);
  // Swapping central headers changes no meaning: the reader orders entries by offset itself.
  for (const [a, b] of c.swaps) zip = applyMutation(zip, { kind: 'swapCentral', a, b });
  let lied = false;
  for (const lie of c.endLies) lied = lieInEndRecord(zip, lie.field, lie.delta) || lied;
  let truncated = false;
  if (c.truncateAt !== undefined) {
    const cut = c.truncateAt % (zip.length + 1);
    // Cutting only the garbage after the end record takes nothing the archive needs.
    truncated = cut < zip.length - (c.archive.options.trailing?.length ?? 0);
    zip = zip.subarray(0, cut);
  }
  if (c.any) return { zip, expect: {} };
  if (truncated) return { zip, expect: { outcomes: new Set<Outcome>(['corrupt', 'not_zip']) } };
  const codes = new Set<Outcome>(c.codes);
  if (lied) codes.add('corrupt').add('limits_exceeded');
  if (codes.size > 0) return { zip, expect: { outcomes: codes } };
  return { zip, expect: { outcomes: new Set<Outcome>(['extracted']), files: c.files } };
}

/** A one-line description of a structured case (for failure reports). */
export function describeCase(c: StructuredCase): string {
  const entries = c.archive.entries.map((e) => ({
    name: typeof e.name === 'string' ? e.name : `hex:${e.name.toString('hex')}`,
    method: e.method,
    dd: e.dataDescriptor,
    zip64: e.zip64,
  }));
  return JSON.stringify({
    defects: c.defects,
    endLies: c.endLies,
    truncateAt: c.truncateAt,
    codes: c.any ? 'any' : c.codes,
    entries,
  });
}

// ---------------------------------------------------------------------------------------------
// Mutations

const fieldValue = fc.oneof(
  fc.record({ kind: fc.constant('interesting' as const), index: fc.nat() }),
  fc.record({ kind: fc.constant('delta' as const), delta: fc.integer({ min: -64, max: 64 }) }),
  fc.record({ kind: fc.constant('raw' as const), value: fc.nat() }),
);

const smallBytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('field' as const),
      record: fc.nat(),
      field: fc.nat(),
      value: fieldValue,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('flipBit' as const), at: fc.nat(), bit: fc.nat(7) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('setByte' as const), at: fc.nat(), value: fc.nat(255) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('splice' as const),
      at: fc.nat(),
      remove: fc.nat(64),
      insert: smallBytes(64),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('copyRange' as const),
      from: fc.nat(),
      to: fc.nat(),
      length: fc.nat(200),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('append' as const), bytes: smallBytes(64) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('duplicateCentral' as const),
      index: fc.nat(),
      fixEnd: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('removeCentral' as const),
      index: fc.nat(),
      fixEnd: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('swapCentral' as const), a: fc.nat(), b: fc.nat() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('extraField' as const),
      record: fc.nat(),
      id: fc.constantFrom(0x0001, 0x7075, 0x5455, 0x000a, 0xcafe),
      length: fc.oneof(fc.nat(64), fc.constantFrom(0xffff, 0x8000)),
      body: smallBytes(40),
      resize: fc.boolean(),
    }),
  },
);

export interface MutationCase {
  seed: number;
  mutations: Mutation[];
}

export function mutationCaseArb(corpusSize: number): fc.Arbitrary<MutationCase> {
  return fc.record({
    seed: fc.nat(corpusSize - 1),
    mutations: fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
  });
}

// ---------------------------------------------------------------------------------------------
// Replacement

/**
 * An honest archive extracted to the log ID before a replacing case. With `collide`, its file `a`
 * and folder `logs/` collide with names the generator uses (`a/…` as a folder, `logs` as a file);
 * without, its names use '~', which the generator never does.
 */
export function previousArchive(options: { collide?: boolean } = {}): Buffer {
  if (options.collide) {
    return writeZip([
      { name: 'a', data: 'a file named a\n' },
      { name: 'logs/app.log', data: logText(20) },
      { name: 'old.log', data: 'only in the previous archive\n' },
    ]);
  }
  return writeZip([
    { name: '~previous~', data: 'a file\n' },
    { name: '~previous~dir/app.log', data: logText(20) },
  ]);
}

// ---------------------------------------------------------------------------------------------
// Limits at their boundaries

/** Offsets (−1, 0, +1) from a case's own entry count, largest file and total: limits right at the edge. */
export interface LimitShift {
  entries: number;
  entryBytes: number;
  totalBytes: number;
}

export const limitShiftArb: fc.Arbitrary<LimitShift | undefined> = sometimes(
  fc.record({
    entries: fc.integer({ min: -1, max: 1 }),
    entryBytes: fc.integer({ min: -1, max: 1 }),
    totalBytes: fc.integer({ min: -1, max: 1 }),
  }),
  6,
);

/**
 * Limits placed at a case's own figures (its entry count, its largest file, its total size), and
 * the expectation under them: an honest archive over any of them must be `limits_exceeded` (one
 * byte or one entry over is over; exactly at the limit is not); a defective one may also be.
 */
export function atLimits(
  c: StructuredCase,
  expect: Expectation,
  shift: LimitShift,
  base: Limits,
): { limits: Limits; expect: Expectation } {
  const count = c.archive.entries.length;
  const sizes = c.files.map((f) => f.data.length);
  const largest = Math.max(0, ...sizes);
  const total = sizes.reduce((a, b) => a + b, 0);
  const limits: Limits = {
    ...base,
    maxEntries: Math.max(1, count + shift.entries),
    maxEntryBytes: Math.max(1, largest + shift.entryBytes),
    maxTotalBytes: Math.max(1, total + shift.totalBytes),
  };
  if (expect.outcomes === undefined) return { limits, expect };
  if (expect.files !== undefined) {
    const over = count > limits.maxEntries || largest > limits.maxEntryBytes || total > limits.maxTotalBytes;
    return { limits, expect: over ? { outcomes: new Set<Outcome>(['limits_exceeded']) } : expect };
  }
  // A truncated archive fails before any limit is looked at.
  if (expect.outcomes.has('not_zip')) return { limits, expect };
  return { limits, expect: { outcomes: new Set<Outcome>([...expect.outcomes, 'limits_exceeded']) } };
}
