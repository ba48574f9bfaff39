import { Readable } from 'node:stream';
import {
  buildWithInfoZip,
  buildZip,
  findZip64EndRecord,
  hasInfoZip,
  overlappingBomb,
  writeZip,
  zerosEntry,
} from '@logzip/test-utils';
import { describe, expect, it } from 'vitest';
import { LogzipError } from '../../src/errors.js';
import {
  bufferReader,
  InflateBudget,
  planEntries,
  type RandomAccessReader,
  readEntry,
  readZipDirectory,
} from '../../src/zip/index.js';

const OPTIONS = { fallbackEncoding: 'cp932', maxEntries: 100_000 };
const LIMITS = { maxEntries: 100_000, maxTotalBytes: 2 ** 33, maxEntryBytes: 2 ** 32, maxRatio: 1000 };

async function rejection(promise: Promise<unknown>): Promise<LogzipError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LogzipError);
  return error as LogzipError;
}

/** An archive that starts `base` bytes into a sparse file of zeros (offsets past 4 GiB without 4 GiB of memory). */
function sparseReader(base: number, zip: Buffer): RandomAccessReader {
  const size = base + zip.length;
  const read = async (start: number, end: number) => {
    const out = Buffer.alloc(end - start);
    if (end > base) zip.copy(out, Math.max(0, base - start), Math.max(0, start - base), end - base);
    return out;
  };
  return { size, read, stream: async (s, e) => Readable.from([await read(s, e)]) };
}

describe('readZipDirectory: end record', () => {
  it('lists a jszip archive with its declared sizes and CRCs', async () => {
    // Prepare
    const zip = await buildZip([
      { name: 'logs/app.log', data: 'hello\n'.repeat(100) },
      { name: 'logs/', dir: true },
      { name: 'empty.log', data: '' },
    ]);
    // Act
    const dir = await readZipDirectory(bufferReader(zip), OPTIONS);
    // Assess
    expect(dir.zip64).toBe(false);
    expect(dir.size).toBe(zip.length);
    expect(dir.entries.map((e) => [e.path, e.isDirectory, e.uncompressedSize])).toEqual([
      ['logs/app.log', false, 600],
      ['logs/', true, 0],
      ['empty.log', false, 0],
    ]);
    expect(dir.entries[0]!.method).toBe(8);
    expect(dir.entries[0]!.compressedSize).toBeLessThan(600);
    expect(dir.entries.map((e) => e.index)).toEqual([0, 1, 2]);
  });

  it('finds the end record behind a 65,535-byte comment, even one that contains an end-record signature', async () => {
    // Prepare
    const fake = Buffer.alloc(22);
    fake.writeUInt32LE(0x06054b50, 0);
    const comment = Buffer.concat([fake, Buffer.alloc(0xffff - 22, 0x41)]);
    const zip = writeZip([{ name: 'a.log', data: 'a' }], { comment });
    // Act
    const dir = await readZipDirectory(bufferReader(zip), OPTIONS);
    // Assess
    expect(dir.entries.map((e) => e.path)).toEqual(['a.log']);
  });

  it('reads an empty archive', async () => {
    const dir = await readZipDirectory(bufferReader(writeZip([])), OPTIONS);
    expect(dir.entries).toEqual([]);
  });

  it.each([
    ['an empty file', Buffer.alloc(0)],
    ['a short text', Buffer.from('hello')],
    ['a text file', Buffer.from('not a zip at all\n'.repeat(5000))],
    ['a gzip file', Buffer.from('1f8b0800000000000003030000000000000000', 'hex')],
    ['random bytes', Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 251))],
  ])('refuses %s as not_zip', async (_name, input) => {
    const error = await rejection(readZipDirectory(bufferReader(input), OPTIONS));
    expect(error.code).toBe('not_zip');
  });

  it('says corrupt, not not_zip, for a ZIP cut short anywhere', async () => {
    // Prepare
    const zip = await buildZip(
      Array.from({ length: 20 }, (_, i) => ({ name: `f${i}.log`, data: `line ${i}\n`.repeat(50) })),
    );
    for (const keep of [10, 100, Math.floor(zip.length / 2), zip.length - 30, zip.length - 1]) {
      // Act
      const error = await rejection(readZipDirectory(bufferReader(zip.subarray(0, keep)), OPTIONS));
      // Assess
      expect(error.code, `cut at ${keep}`).toBe('corrupt');
    }
  });

  it('says corrupt when the front of the archive is missing (offsets point outside)', async () => {
    const zip = await buildZip([{ name: 'a.log', data: 'x'.repeat(1000) }], { compression: 'STORE' });
    const error = await rejection(readZipDirectory(bufferReader(zip.subarray(200)), OPTIONS));
    expect(error.code).toBe('corrupt');
  });

  it('says corrupt when the end record points at something that is not a central header', async () => {
    const zip = writeZip([
      { name: 'a.log', data: 'aaaa' },
      { name: 'b.log', data: 'bbbb' },
    ]);
    const broken = Buffer.from(zip);
    const cdOffset = broken.readUInt32LE(broken.length - 6);
    broken.writeUInt32LE(0x12345678, cdOffset);
    const error = await rejection(readZipDirectory(bufferReader(broken), OPTIONS));
    expect(error.code).toBe('corrupt');
  });

  it('says corrupt when the end record lies about the entry count', async () => {
    const zip = writeZip([{ name: 'a.log' }, { name: 'b.log' }], { endRecord: { entryCount: 3 } });
    const error = await rejection(readZipDirectory(bufferReader(zip), OPTIONS));
    expect(error.code).toBe('corrupt');
  });

  it('refuses more entries than maxEntries before reading the central directory', async () => {
    // Prepare
    const zip = writeZip(Array.from({ length: 11 }, (_, i) => ({ name: `f${i}.log`, data: 'x' })));
    let reads = 0;
    const inner = bufferReader(zip);
    const reader: RandomAccessReader = {
      ...inner,
      size: inner.size,
      read: (s, e) => {
        reads++;
        return inner.read(s, e);
      },
    };
    // Act
    const error = await rejection(readZipDirectory(reader, { ...OPTIONS, maxEntries: 10 }));
    // Assess
    expect(error.code).toBe('limits_exceeded');
    expect(reads).toBe(1);
  });

  it('counts real headers when a 16-bit count wrapped (65,537 entries without ZIP64, as jszip writes)', async () => {
    // Prepare
    const zip = writeZip(
      Array.from({ length: 65_537 }, (_, i) => ({ name: `f${i}`, method: 0 })),
      { zip64: false },
    );
    expect(zip.readUInt16LE(zip.length - 12)).toBe(1);
    // Act
    const dir = await readZipDirectory(bufferReader(zip), OPTIONS);
    // Assess
    expect(dir.entries).toHaveLength(65_537);
    expect(dir.entries.at(-1)!.path).toBe('f65536');
  });

  it('refuses split (multi-disk) archives as corrupt', async () => {
    const zip = Buffer.from(writeZip([{ name: 'a.log', data: 'a' }]));
    zip.writeUInt16LE(1, zip.length - 22 + 4);
    const error = await rejection(readZipDirectory(bufferReader(zip), OPTIONS));
    expect(error.code).toBe('corrupt');
  });
});

describe('readZipDirectory: ZIP64', () => {
  it('reads the ZIP64 end record, locator and extra fields (own writer)', async () => {
    // Prepare
    const zip = writeZip(
      [
        { name: 'a.log', data: 'hello', zip64: true },
        { name: 'b.log', data: 'world' },
      ],
      {
        zip64: true,
      },
    );
    expect(findZip64EndRecord(zip)).toBeGreaterThan(0);
    // Act
    const dir = await readZipDirectory(bufferReader(zip), OPTIONS);
    const data = await readEntry(
      bufferReader(zip),
      dir.entries[0]!,
      new InflateBudget({ ...LIMITS, maxRatio: 2 ** 40 }),
    );
    // Assess
    expect(dir.zip64).toBe(true);
    expect(dir.entries.map((e) => [e.path, e.uncompressedSize])).toEqual([
      ['a.log', 5],
      ['b.log', 5],
    ]);
    expect(data.toString()).toBe('hello');
  });

  it('reads 64-bit local header offsets past 4 GiB', async () => {
    // Prepare
    const base = 5 * 2 ** 30;
    const zip = writeZip(
      [
        { name: 'far.log', data: 'far away\n' },
        { name: 'farther.log', data: 'farther\n', dataDescriptor: true },
      ],
      { baseOffset: base },
    );
    const reader = sparseReader(base, zip);
    // Act
    const dir = await readZipDirectory(reader, OPTIONS);
    const budget = new InflateBudget(LIMITS);
    const texts = await Promise.all(
      dir.entries.map(async (e) => (await readEntry(reader, e, budget)).toString()),
    );
    // Assess
    expect(dir.zip64).toBe(true);
    expect(dir.centralDirectoryOffset).toBeGreaterThan(2 ** 32);
    expect(dir.entries[0]!.localHeaderOffset).toBe(base);
    expect(texts).toEqual(['far away\n', 'farther\n']);
  });

  it('bug: a 32-bit size of 0xFFFFFFFF without a ZIP64 extra field was refused; it is the literal size (4 GiB − 1)', async () => {
    // Prepare: what writers without ZIP64 store for an entry of exactly 4 GiB − 1 bytes (~4 MB of deflate).
    const zip = writeZip([zerosEntry('huge.log', 0xffffffff)], { zip64: false });
    // Act
    const dir = await readZipDirectory(bufferReader(zip), OPTIONS);
    // Assess
    expect(dir.entries[0]!.uncompressedSize).toBe(0xffffffff);
    expect(dir.entries[0]!.compressedSize).toBeLessThan(0xffffffff);
    const limits = { maxEntries: 10, maxTotalBytes: 2 ** 33, maxEntryBytes: 2 ** 32 - 2, maxRatio: 10_000 };
    const error = (() => {
      try {
        planEntries(dir, { logId: '1', outputPrefix: 'extracted/', limits });
        return undefined;
      } catch (e) {
        return e as LogzipError;
      }
    })();
    expect(error?.code).toBe('limits_exceeded');
    expect(
      planEntries(dir, { logId: '1', outputPrefix: '', limits: { ...limits, maxEntryBytes: 2 ** 32 } }),
    ).toHaveLength(1);
  });

  it('checks a literal 0xFFFFFFFF size against the real bytes like any size', async () => {
    // Prepare
    const zip = Buffer.from(writeZip([{ name: 'a.log', data: 'a' }]));
    const cdOffset = zip.readUInt32LE(zip.length - 6);
    zip.writeUInt32LE(0xffffffff, cdOffset + 24);
    zip.writeUInt32LE(0xffffffff, 22); // the local header agrees
    // Act
    const dir = await readZipDirectory(bufferReader(zip), OPTIONS);
    const error = await rejection(
      readEntry(bufferReader(zip), dir.entries[0]!, new InflateBudget({ ...LIMITS, maxRatio: 2 ** 40 })),
    );
    // Assess
    expect(dir.entries[0]!.uncompressedSize).toBe(0xffffffff);
    expect(error.code).toBe('corrupt');
    expect(error.entry).toBe('a.log');
  });

  it('says corrupt when a ZIP64 extra field is there but too short for a 0xFFFFFFFF field', async () => {
    const zip = Buffer.from(writeZip([{ name: 'a.log', data: 'a', extra: Buffer.from('01000000', 'hex') }]));
    const cdOffset = zip.readUInt32LE(zip.length - 6);
    zip.writeUInt32LE(0xffffffff, cdOffset + 24);
    const error = await rejection(readZipDirectory(bufferReader(zip), OPTIONS));
    expect(error.code).toBe('corrupt');
    expect(error.entry).toBe('a.log');
  });

  it('says corrupt when the locator points at no ZIP64 end record', async () => {
    const zip = Buffer.from(writeZip([{ name: 'a.log', data: 'a' }], { zip64: true }));
    zip.writeUInt32LE(0, findZip64EndRecord(zip));
    const error = await rejection(readZipDirectory(bufferReader(zip), OPTIONS));
    expect(error.code).toBe('corrupt');
  });

  it('lists 65,537 entries written by our writer with ZIP64', async () => {
    const zip = writeZip(
      Array.from({ length: 65_537 }, (_, i) => ({ name: `d/${i}.log`, method: 0, data: 'x' })),
    );
    expect(findZip64EndRecord(zip)).toBeGreaterThan(0);
    const dir = await readZipDirectory(bufferReader(zip), OPTIONS);
    expect(dir.zip64).toBe(true);
    expect(dir.entries).toHaveLength(65_537);
  });

  it('reads an Info-ZIP archive of 65,536 entries (ZIP64 end record present) and inflates every entry', async () => {
    if (!hasInfoZip() && process.env['CI'] !== 'true') {
      console.warn(
        'Info-ZIP zip is not installed (apt-get install zip): the Info-ZIP ZIP64 case is not checked',
      );
      return;
    }
    // Prepare
    const files = Array.from({ length: 65_536 }, (_, i) => ({ name: `f${i}.log`, data: `entry ${i}\n` }));
    const zip = await buildWithInfoZip(files);
    expect(findZip64EndRecord(zip)).toBeGreaterThan(0);
    const reader = bufferReader(zip);
    // Act
    const dir = await readZipDirectory(reader, OPTIONS);
    const budget = new InflateBudget(LIMITS);
    let bad = 0;
    for (const entry of dir.entries) {
      const text = (await readEntry(reader, entry, budget)).toString();
      if (text !== `entry ${entry.path.slice(1, -4)}\n`) bad++;
    }
    // Assess
    expect(dir.zip64).toBe(true);
    expect(dir.entries).toHaveLength(65_536);
    expect(new Set(dir.entries.map((e) => e.path)).size).toBe(65_536);
    expect(bad).toBe(0);
  });
});

describe('readZipDirectory: overlapping entries', () => {
  it('says corrupt for two central headers sharing one local header', async () => {
    const zip = writeZip([
      { name: 'a.log', data: 'a'.repeat(100) },
      { name: 'b.log', sharesDataOf: 0 },
    ]);
    const error = await rejection(readZipDirectory(bufferReader(zip), OPTIONS));
    expect(error.code).toBe('corrupt');
    expect(error.entry).toBe('b.log');
  });

  it('says corrupt for an entry whose data runs into the next local header', async () => {
    const zip = writeZip([
      { name: 'a.log', data: 'aaaa', method: 0, compressedSize: 60, uncompressedSize: 60 },
      { name: 'b.log', data: 'bbbb' },
    ]);
    const error = await rejection(readZipDirectory(bufferReader(zip), OPTIONS));
    expect(error.code).toBe('corrupt');
    expect(error.entry).toBe('a.log');
  });

  it('says corrupt for an entry whose data runs into the central directory', async () => {
    const zip = writeZip([
      { name: 'a.log', data: 'aaaa', method: 0, compressedSize: 500, uncompressedSize: 500 },
    ]);
    const error = await rejection(readZipDirectory(bufferReader(zip), OPTIONS));
    expect(error.code).toBe('corrupt');
  });

  it("stops Fifield's overlapping-files bomb at the central directory, before inflating anything", async () => {
    // Prepare: 20 entries that each inflate to (at least) 64 MiB by sharing one kernel.
    const zip = overlappingBomb(20, 64 * 2 ** 20);
    expect(zip.length).toBeLessThan(200_000);
    // Act
    const error = await rejection(readZipDirectory(bufferReader(zip), OPTIONS));
    // Assess
    expect(error.code).toBe('corrupt');
    expect(error.message).toMatch(/overlaps/);
  });

  it('still reads entries listed out of offset order', async () => {
    const zip = writeZip([
      { name: 'a.log', data: 'a' },
      { name: 'b.log', data: 'b' },
    ]);
    // Swap the two central headers (same length) so the directory is not in offset order.
    const copy = Buffer.from(zip);
    const cdOffset = copy.readUInt32LE(copy.length - 6);
    const headerLength = 46 + 5;
    const first = Buffer.from(copy.subarray(cdOffset, cdOffset + headerLength));
    copy.copy(copy, cdOffset, cdOffset + headerLength, cdOffset + 2 * headerLength);
    first.copy(copy, cdOffset + headerLength);
    const dir = await readZipDirectory(bufferReader(copy), OPTIONS);
    const budget = new InflateBudget(LIMITS);
    expect(dir.entries.map((e) => e.path)).toEqual(['b.log', 'a.log']);
    expect((await readEntry(bufferReader(copy), dir.entries[1]!, budget)).toString()).toBe('a');
  });
});
