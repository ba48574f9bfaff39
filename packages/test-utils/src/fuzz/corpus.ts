import { overlappingBomb, zerosEntry } from '../zip/bombs.js';
import { buildZip } from '../zip/jszip.js';
import { UNIX_MADE_BY, unixAttributes, writeZip } from '../zip/writer.js';
import { CP932_SEGMENTS } from './names.js';

/** One seed of the mutation fuzzer. */
export interface CorpusItem {
  name: string;
  zip: Buffer;
}

/** Log-like text: repetitive, so it deflates well but not absurdly (about 10:1). */
export function logText(lines: number, seed = 1): string {
  const out: string[] = [];
  let x = seed;
  for (let i = 0; i < lines; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const level = ['INFO', 'WARN', 'DEBUG', 'ERROR'][x % 4]!;
    out.push(`2026-11-28T00:${String(i % 60).padStart(2, '0')}:00.${x % 1000}Z ${level} request ${x} ok\n`);
  }
  return out.join('');
}

const cp932 = (...indexes: number[]) => Buffer.concat(indexes.map((i) => CP932_SEGMENTS[i]!.bytes));
const cp932Text = new Map(CP932_SEGMENTS.map((s) => [s.text, s.bytes]));

/**
 * Seeds for mutation fuzzing, built with the fixture builders: jszip archives (DOS and unix hosts,
 * stored and deflated, data descriptors, CP932 names with Unicode Path fields, comments), byte-exact
 * `writeZip` archives (raw CP932 names with backslashes, ZIP64 entries and end records, data
 * descriptors with ZIP64 sizes, empty deflate entries, extra fields, a self-extractor stub, special
 * files) and small bombs. `large` adds an entry over 4 MiB (the engine streams those).
 */
export async function buildSeedCorpus(options: { large?: boolean } = {}): Promise<CorpusItem[]> {
  const text = logText(40);
  const items: CorpusItem[] = [
    {
      name: 'jszip-deflate',
      zip: await buildZip([
        { name: 'logs/app.log', data: text },
        { name: 'logs/', dir: true },
        { name: 'empty.log', data: '' },
        { name: 'bin.dat', data: Buffer.from([0, 1, 2, 3, 255, 254]) },
      ]),
    },
    {
      name: 'jszip-store-unix',
      zip: await buildZip(
        [
          { name: 'a.log', data: 'hello\n', unixPermissions: 0o644 },
          { name: 'sub/b.log', data: text.slice(0, 300), unixPermissions: 0o600 },
        ],
        { compression: 'STORE', platform: 'UNIX' },
      ),
    },
    {
      name: 'jszip-data-descriptors',
      zip: await buildZip(
        [
          { name: 'one.log', data: text },
          { name: 'two.log', data: 'x'.repeat(1000), compression: 'STORE' },
        ],
        { streamFiles: true },
      ),
    },
    {
      name: 'jszip-cp932-unicode-path',
      zip: await buildZip(
        [
          { name: 'ログ/ソ表.log', data: text.slice(0, 500) },
          { name: 'データ.txt', data: 'abc' },
        ],
        {
          encodeFileName: encodeKnown,
          comment: 'made by the fuzz corpus',
        },
      ),
    },
    {
      name: 'writezip-cp932-backslash',
      zip: writeZip([
        { name: Buffer.concat([cp932(3), Buffer.from('\\'), cp932(0, 1), Buffer.from('.log')]), data: text },
        { name: Buffer.concat([cp932(4), Buffer.from('\\'), cp932(6)]), data: '', method: 0 },
        { name: cp932(13, 14, 15), data: 'halfwidth and IBM extensions' },
      ]),
    },
    {
      name: 'writezip-zip64',
      zip: writeZip(
        [
          { name: 'big.log', data: text, zip64: true },
          { name: 'small.log', data: 'z', zip64: true, method: 0 },
        ],
        { zip64: true },
      ),
    },
    {
      name: 'writezip-zip64-descriptors',
      zip: writeZip([
        { name: 'a.log', data: text, zip64: true, dataDescriptor: true },
        { name: 'b.log', data: 'b', dataDescriptor: true, method: 0 },
      ]),
    },
    {
      name: 'writezip-mixed',
      zip: writeZip(
        [
          { name: 'empty-deflate.log', method: 8, compressed: Buffer.alloc(0), data: '' },
          { name: 'stored.log', method: 0, data: text.slice(0, 200) },
          { name: 'données/été.log', data: 'utf-8 flagged' },
          { name: 'raw-utf8.log', data: 'x', utf8Flag: false },
          {
            name: Buffer.from('名前.log', 'utf8'),
            utf8Flag: false,
            unicodePath: 'ユニコード.log',
            data: 'unicode path field whose CRC matches',
          },
          { name: 'extra.log', data: 'y', extra: Buffer.from('fecaa00401020304', 'hex'), comment: 'c' },
        ],
        { comment: 'archive comment' },
      ),
    },
    {
      name: 'writezip-sfx',
      zip: (() => {
        const stub = Buffer.from('MZ\x90\x00 this is a self-extractor stub '.repeat(4));
        return Buffer.concat([
          stub,
          writeZip([{ name: 'in-sfx.log', data: text }], { baseOffset: stub.length }),
        ]);
      })(),
    },
    {
      name: 'writezip-special-files',
      zip: writeZip([
        {
          name: 'ok.log',
          data: 'ok',
          versionMadeBy: UNIX_MADE_BY,
          externalAttributes: unixAttributes(0o100644),
        },
        {
          name: 'link',
          data: '/etc/passwd',
          method: 0,
          versionMadeBy: UNIX_MADE_BY,
          externalAttributes: unixAttributes(0o120777),
        },
        {
          name: 'dir/',
          data: '',
          method: 0,
          versionMadeBy: UNIX_MADE_BY,
          externalAttributes: unixAttributes(0o40755),
        },
      ]),
    },
    {
      name: 'bomb-zeros',
      zip: writeZip([zerosEntry('zeros.log', 3 * 2 ** 20), zerosEntry('small.log', 1000)]),
    },
    { name: 'bomb-overlapping', zip: overlappingBomb(3, 64 * 1024) },
    {
      name: 'bomb-lying-size',
      zip: writeZip([
        zerosEntry('lies.log', 2 ** 20, { uncompressedSize: 100 }),
        { name: 'after.log', data: 'a' },
      ]),
    },
  ];
  if (options.large) {
    items.push({
      name: 'writezip-large-entry',
      zip: writeZip([
        { name: 'large.log', data: logText(80_000, 7) },
        { name: 'next.log', data: 'after the large one' },
      ]),
    });
  }
  return items;
}

function encodeKnown(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const ch of name) {
    const known = cp932Text.get(ch);
    if (known !== undefined) parts.push(known);
    else if (ch === 'ロ') parts.push(Buffer.from('838d', 'hex'));
    else if (ch === 'グ') parts.push(Buffer.from('834f', 'hex'));
    else if (ch === 'デ') parts.push(Buffer.from('8366', 'hex'));
    else if (ch === 'ー') parts.push(Buffer.from('815b', 'hex'));
    else if (ch === 'タ') parts.push(Buffer.from('835e', 'hex'));
    else parts.push(Buffer.from(ch, 'utf8'));
  }
  return Buffer.concat(parts);
}
