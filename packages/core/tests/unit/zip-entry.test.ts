import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { buildZip, type RawZipEntry, unicodePathField, writeZip, zerosEntry } from '@logzip/test-utils';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import type { Limits } from '../../src/config.js';
import { LogzipError } from '../../src/errors.js';
import {
  bufferReader,
  InflateBudget,
  openEntryStream,
  planEntries,
  type RandomAccessReader,
  readEntry,
  readZipDirectory,
  STREAM_CHUNK_BYTES,
  type ZipEntry,
} from '../../src/zip/index.js';

const LIMITS: Limits = { maxEntries: 1000, maxTotalBytes: 2 ** 33, maxEntryBytes: 2 ** 32, maxRatio: 1000 };
const OPTIONS = { fallbackEncoding: 'cp932', maxEntries: 100_000 };

async function open(zip: Buffer): Promise<{ reader: RandomAccessReader; entries: ZipEntry[] }> {
  const reader = bufferReader(zip);
  const dir = await readZipDirectory(reader, OPTIONS);
  return { reader, entries: dir.entries };
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function failure(promise: Promise<unknown>): Promise<LogzipError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LogzipError);
  return error as LogzipError;
}

/** Both read paths of one entry: the buffered one and the streamed one. */
const readers = {
  readEntry: (reader: RandomAccessReader, entry: ZipEntry, budget: InflateBudget) =>
    readEntry(reader, entry, budget),
  openEntryStream: async (reader: RandomAccessReader, entry: ZipEntry, budget: InflateBudget) =>
    collect(await openEntryStream(reader, entry, budget)),
};

/** Log-like text that compresses about 5:1, like real logs. */
function logText(bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = `2026-11-28T12:${String(i % 60).padStart(2, '0')}:00.${i % 1000}Z INFO worker-${i % 7} handled request ${i * 7919} in ${i % 97} ms\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

describe.each(Object.entries(readers))('%s', (_name, read) => {
  it('returns stored, deflated and zero-byte entries byte for byte', async () => {
    // Prepare
    const binary = randomBytes(70_000);
    const zip = writeZip([
      { name: 'stored.bin', method: 0, data: binary },
      { name: 'deflate.log', data: logText(300_000) },
      { name: 'empty-stored.log', method: 0 },
      { name: 'empty-deflate.log', method: 8 },
      { name: 'empty-deflate-no-bytes.log', method: 8, compressed: Buffer.alloc(0) },
    ]);
    const { reader, entries } = await open(zip);
    const budget = new InflateBudget(LIMITS);
    // Act
    const out = [];
    for (const entry of entries) out.push(await read(reader, entry, budget));
    // Assess
    expect(out[0]!.equals(binary)).toBe(true);
    expect(out[1]!.equals(logText(300_000))).toBe(true);
    expect(out[2]!.length).toBe(0);
    expect(out[3]!.length).toBe(0);
    expect(entries[3]!.compressedSize).toBe(2);
    expect(out[4]!.length).toBe(0);
    expect(budget.totalBytes).toBe(370_000);
  });

  it('reads jszip archives, with and without data descriptors, stored and deflated', async () => {
    for (const streamFiles of [false, true]) {
      for (const compression of ['STORE', 'DEFLATE'] as const) {
        // Prepare
        const files = [
          { name: 'a.log', data: 'alpha\n'.repeat(1000) },
          { name: 'b.log', data: '' },
          { name: 'c.bin', data: randomBytes(5000) },
        ];
        const zip = await buildZip(files, { streamFiles, compression });
        const { reader, entries } = await open(zip);
        // Act
        const budget = new InflateBudget(LIMITS);
        const out = await Promise.all(entries.map((e) => read(reader, e, budget)));
        // Assess
        expect(out.map((b) => b.length)).toEqual([6000, 0, 5000]);
        expect(out[2]!.equals(files[2]!.data as Buffer)).toBe(true);
      }
    }
  });

  it('uses the central sizes and CRC for data-descriptor entries (zeros in the local header)', async () => {
    const zip = writeZip([
      { name: 'a.log', data: 'hello\n'.repeat(50), dataDescriptor: true },
      { name: 'b.log', data: 'world', dataDescriptor: true, method: 0 },
    ]);
    const { reader, entries } = await open(zip);
    const budget = new InflateBudget(LIMITS);
    expect((await read(reader, entries[0]!, budget)).toString()).toBe('hello\n'.repeat(50));
    expect((await read(reader, entries[1]!, budget)).toString()).toBe('world');
  });

  it('finds the data from the local header when its name and extra lengths differ from the central ones', async () => {
    const zip = writeZip([
      {
        name: 'a.log',
        data: 'first',
        localExtra: Buffer.alloc(300, 0x20),
        // The same name spelled longer: './' segments are dropped, '\\' is a separator.
        localName: Buffer.from('./././.\\a.log'),
      },
      {
        name: 'b.log',
        data: 'second',
        localExtra: Buffer.alloc(0),
        extra: Buffer.from('cafe0400deadbeef', 'hex'),
      },
    ]);
    const { reader, entries } = await open(zip);
    const budget = new InflateBudget(LIMITS);
    expect((await read(reader, entries[0]!, budget)).toString()).toBe('first');
    expect((await read(reader, entries[1]!, budget)).toString()).toBe('second');
  });

  it('bug: an entry whose local header names another file was extracted under the central name (now name_mismatch)', async () => {
    // Prepare
    const { reader, entries } = await open(
      writeZip([{ name: 'report.log', data: 'x', localName: Buffer.from('../../etc/cron.d/x') }]),
    );
    // Act
    const error = await failure(read(reader, entries[0]!, new InflateBudget(LIMITS)));
    // Assess
    expect(error.code).toBe('name_mismatch');
    expect(error.entry).toBe('report.log');
    expect(error.message).toContain('../../etc/cron.d/x');
  });

  it('accepts a local name that is the central one in another encoding (CP932 bytes vs a UTF-8 flagged name)', async () => {
    // Prepare
    const { reader, entries } = await open(
      writeZip([
        {
          name: 'ログ/表示.log',
          utf8Flag: true,
          data: 'x',
          localName: iconv.encode('ログ\\表示.log', 'cp932'),
        },
      ]),
    );
    // Act
    const data = await read(reader, entries[0]!, new InflateBudget(LIMITS));
    // Assess
    expect(data.toString()).toBe('x');
  });

  it('bug: a local Unicode Path field naming another file than the central name was not compared (now name_mismatch)', async () => {
    // Prepare: same raw bytes in both headers, but the local header's 0x7075 field says otherwise.
    const raw = iconv.encode('旧名.log', 'cp932');
    const { reader, entries } = await open(
      writeZip([{ name: raw, data: 'x', localExtra: unicodePathField('別の名前.log', raw) }]),
    );
    // Act
    const error = await failure(read(reader, entries[0]!, new InflateBudget(LIMITS)));
    // Assess
    expect(error.code).toBe('name_mismatch');
    expect(error.entry).toBe('旧名.log');
  });

  it('bug: a local header declaring another CRC32 or size than the central directory was not compared (now corrupt)', async () => {
    // Prepare: a streaming reader trusts the local values; patch them after writing.
    const zip = Buffer.from(
      writeZip([
        { name: 'a.log', data: 'hello', method: 0 },
        { name: 'b.log', data: 'hello', method: 0 },
      ]),
    );
    zip.writeUInt32LE(0x12345678, 14);
    const second = zip.indexOf(Buffer.from('PK\x03\x04', 'latin1'), 4);
    zip.writeUInt32LE(4, second + 22);
    const { reader, entries } = await open(zip);
    const budget = new InflateBudget(LIMITS);
    // Act
    const crcError = await failure(read(reader, entries[0]!, budget));
    const sizeError = await failure(read(reader, entries[1]!, budget));
    // Assess
    expect([crcError.code, crcError.entry]).toEqual(['corrupt', 'a.log']);
    expect(crcError.message).toContain('CRC32');
    expect([sizeError.code, sizeError.entry]).toEqual(['corrupt', 'b.log']);
    expect(sizeError.message).toContain('uncompressed size');
  });

  it('says corrupt when the local header signature is wrong', async () => {
    const { reader, entries } = await open(
      writeZip([{ name: 'a.log', data: 'x', localSignature: 0x04034b51 }]),
    );
    const error = await failure(read(reader, entries[0]!, new InflateBudget(LIMITS)));
    expect(error).toMatchObject({ code: 'corrupt', entry: 'a.log' });
  });

  it('says corrupt when the local header names another method', async () => {
    const { reader, entries } = await open(
      writeZip([{ name: 'a.log', data: 'x', method: 0, localMethod: 8 }]),
    );
    const error = await failure(read(reader, entries[0]!, new InflateBudget(LIMITS)));
    expect(error).toMatchObject({ code: 'corrupt', entry: 'a.log' });
  });

  it('refuses an entry encrypted according to its local header only', async () => {
    const zip = writeZip([{ name: 'a.log', data: 'x', localExtra: Buffer.alloc(0) }]);
    const patched = Buffer.from(zip);
    patched.writeUInt16LE(patched.readUInt16LE(6) | 1, 6);
    const { reader, entries } = await open(patched);
    const error = await failure(read(reader, entries[0]!, new InflateBudget(LIMITS)));
    expect(error).toMatchObject({ code: 'encrypted', entry: 'a.log' });
  });

  it('refuses encrypted entries and unsupported methods without reading them', async () => {
    const zip = writeZip([
      { name: 'zipcrypto.log', data: 'x', flags: 1 },
      { name: 'aes.log', data: 'x', method: 99 },
      { name: 'bzip2.log', data: 'x', method: 12 },
    ]);
    const { reader, entries } = await open(zip);
    const budget = new InflateBudget(LIMITS);
    expect(await failure(read(reader, entries[0]!, budget))).toMatchObject({
      code: 'encrypted',
      entry: 'zipcrypto.log',
    });
    expect(await failure(read(reader, entries[1]!, budget))).toMatchObject({
      code: 'encrypted',
      entry: 'aes.log',
    });
    expect(await failure(read(reader, entries[2]!, budget))).toMatchObject({
      code: 'unsupported_method',
      entry: 'bzip2.log',
    });
  });

  it.each([
    ['deflated', 8],
    ['stored', 0],
  ])('says crc_mismatch for a %s entry whose data does not match its CRC32', async (_what, method) => {
    const data = logText(50_000);
    const zip = writeZip([{ name: 'a.log', data, method, crc32: (crc32(data) ^ 1) >>> 0 }]);
    const { reader, entries } = await open(zip);
    const error = await failure(read(reader, entries[0]!, new InflateBudget(LIMITS)));
    expect(error).toMatchObject({ code: 'crc_mismatch', entry: 'a.log' });
  });

  it('says crc_mismatch when a data byte was flipped in a stored entry', async () => {
    const zip = Buffer.from(writeZip([{ name: 'a.log', data: 'abcdefgh', method: 0 }]));
    zip[30 + 5 + 3] = zip[30 + 5 + 3]! ^ 0xff;
    const { reader, entries } = await open(zip);
    expect((await failure(read(reader, entries[0]!, new InflateBudget(LIMITS)))).code).toBe('crc_mismatch');
  });

  it('says corrupt for deflate data that is damaged or cut short', async () => {
    const data = logText(100_000);
    const full = writeZip([{ name: 'a.log', data }]);
    const { entries } = await open(full);
    const compressedSize = entries[0]!.compressedSize;
    // Cut: same archive, but the central directory says the data is half as long.
    const cut = writeZip([{ name: 'a.log', data, compressedSize: Math.floor(compressedSize / 2) }]);
    const garbage = writeZip([
      {
        name: 'a.log',
        compressed: Buffer.from('this is not deflate data at all'),
        crc32: 0,
        uncompressedSize: 10,
      },
    ]);
    for (const zip of [cut, garbage]) {
      const opened = await open(zip);
      const error = await failure(read(opened.reader, opened.entries[0]!, new InflateBudget(LIMITS)));
      expect(error).toMatchObject({ code: 'corrupt', entry: 'a.log' });
    }
  });

  it('says corrupt when the data inflates to fewer bytes than declared', async () => {
    const data = logText(10_000);
    const { reader, entries } = await open(writeZip([{ name: 'a.log', data, uncompressedSize: 10_001 }]));
    const error = await failure(read(reader, entries[0]!, new InflateBudget(LIMITS)));
    expect(error).toMatchObject({ code: 'corrupt', entry: 'a.log' });
    expect(error.message).toMatch(/10000.*10001/);
  });

  it('stops a lying header (declares 1,000 bytes, inflates to 64 MiB) early, as corrupt', async () => {
    // Prepare
    const zip = writeZip([zerosEntry('liar.log', 64 * 2 ** 20, { uncompressedSize: 1000 })]);
    const { reader, entries } = await open(zip);
    const budget = new InflateBudget(LIMITS);
    // Act
    const started = performance.now();
    const error = await failure(read(reader, entries[0]!, budget));
    const elapsed = performance.now() - started;
    // Assess
    expect(error).toMatchObject({ code: 'corrupt', entry: 'liar.log' });
    expect(budget.totalBytes).toBeGreaterThan(1000);
    expect(budget.totalBytes).toBeLessThanOrEqual(1000 + STREAM_CHUNK_BYTES);
    expect(elapsed).toBeLessThan(500);
  });

  it('says limits_exceeded when the real bytes cross the total limit before the lie is caught', async () => {
    // Prepare: the first entry uses 9 MiB of a 10 MiB budget; the second declares 2 MiB but inflates to 64 MiB.
    const zip = writeZip([
      zerosEntry('honest.log', 9 * 2 ** 20),
      zerosEntry('liar.log', 64 * 2 ** 20, { uncompressedSize: 2 * 2 ** 20 }),
    ]);
    const { reader, entries } = await open(zip);
    const budget = new InflateBudget({ ...LIMITS, maxTotalBytes: 10 * 2 ** 20, maxRatio: 10_000 });
    // Act
    await read(reader, entries[0]!, budget);
    const error = await failure(read(reader, entries[1]!, budget));
    // Assess
    expect(error).toMatchObject({ code: 'limits_exceeded', entry: 'liar.log' });
  });

  it('counts real bytes across entries and stops at the total limit (plan skipped)', async () => {
    const entries: RawZipEntry[] = [1, 2, 3].map((i) => ({ name: `f${i}.log`, data: 'x'.repeat(400) }));
    const opened = await open(writeZip(entries));
    const budget = new InflateBudget({ ...LIMITS, maxTotalBytes: 1000 });
    await read(opened.reader, opened.entries[0]!, budget);
    await read(opened.reader, opened.entries[1]!, budget);
    const error = await failure(read(opened.reader, opened.entries[2]!, budget));
    expect(error).toMatchObject({ code: 'limits_exceeded', entry: 'f3.log' });
  });

  it('does not count an entry twice when it is read again (a retried upload)', async () => {
    const opened = await open(writeZip([{ name: 'a.log', data: 'x'.repeat(600) }]));
    const budget = new InflateBudget({ ...LIMITS, maxTotalBytes: 1000 });
    await read(opened.reader, opened.entries[0]!, budget);
    await read(opened.reader, opened.entries[0]!, budget);
    expect(budget.totalBytes).toBe(600);
  });

  it('refuses a high-ratio bomb even when the plan was skipped', async () => {
    const opened = await open(writeZip([zerosEntry('bomb.log', 64 * 2 ** 20)]));
    const error = await failure(read(opened.reader, opened.entries[0]!, new InflateBudget(LIMITS)));
    expect(error).toMatchObject({ code: 'limits_exceeded', entry: 'bomb.log' });
  });

  it('says corrupt when the local header makes the data overlap the next entry', async () => {
    // Prepare: a.log's local header has a 200-byte extra field; b.log's central offset is moved to
    // byte 46, inside that extra. From the central directory alone the layout looks possible
    // (30 + 10 bytes fit before 46); the local header shows a.log's data at 235–245.
    const zip = Buffer.from(
      writeZip([
        { name: 'a.log', data: 'a'.repeat(10), method: 0, localExtra: Buffer.alloc(200) },
        { name: 'b.log', data: 'b' },
      ]),
    );
    const cdOffset = zip.readUInt32LE(zip.length - 6);
    zip.writeUInt32LE(46, cdOffset + 46 + 5 + 42);
    const { reader, entries } = await open(zip);
    // Act
    const error = await failure(read(reader, entries[0]!, new InflateBudget(LIMITS)));
    // Assess
    expect(entries[1]!.localHeaderOffset).toBe(46);
    expect(error).toMatchObject({ code: 'corrupt', entry: 'a.log' });
    expect(error.message).toMatch(/overlaps/);
  });
});

describe('openEntryStream', () => {
  it('streams a large entry in 256 KiB chunks, byte for byte', async () => {
    // Prepare
    const data = logText(8 * 2 ** 20);
    const { reader, entries } = await open(writeZip([{ name: 'big.log', data }]));
    // Act
    const stream = await openEntryStream(reader, entries[0]!, new InflateBudget(LIMITS));
    const sizes: number[] = [];
    const chunks: Buffer[] = [];
    for await (const chunk of stream) {
      sizes.push((chunk as Buffer).length);
      chunks.push(chunk as Buffer);
    }
    // Assess
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    expect(Math.max(...sizes)).toBe(STREAM_CHUNK_BYTES);
  });

  it('stops inflating a 1 GiB lying-header bomb within a chunk of its declared size, without reading it all', async () => {
    // Prepare: 1 GiB of zeros (about 1 MB compressed) declaring 2 MiB.
    const zip = writeZip([zerosEntry('liar.log', 2 ** 30, { uncompressedSize: 2 * 2 ** 20 })]);
    const inner = bufferReader(zip);
    let pulled = 0;
    const reader: RandomAccessReader = {
      size: inner.size,
      read: (s, e) => inner.read(s, e),
      stream: async (s, e) => {
        const source = await inner.stream(s, e);
        source.on('data', (chunk: Buffer) => {
          pulled += chunk.length;
        });
        return source;
      },
    };
    const { entries } = await open(zip);
    const budget = new InflateBudget(LIMITS);
    // Act
    const started = performance.now();
    const error = await failure(openEntryStream(reader, entries[0]!, budget).then(collect));
    // Assess
    expect(error).toMatchObject({ code: 'corrupt', entry: 'liar.log' });
    expect(budget.totalBytes).toBeLessThanOrEqual(2 * 2 ** 20 + STREAM_CHUNK_BYTES);
    expect(pulled).toBeLessThan(entries[0]!.compressedSize / 2);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('reports a failing source as storage_unavailable naming the entry, and releases it on destroy', async () => {
    // Prepare
    const data = logText(4 * 2 ** 20);
    const zip = writeZip([{ name: 'big.log', data }]);
    const inner = bufferReader(zip);
    let destroyed = false;
    const failing: RandomAccessReader = {
      size: inner.size,
      read: (s, e) => inner.read(s, e),
      stream: async (s, e) => {
        const bytes = await inner.read(s, e);
        let sent = false;
        const r = new Readable({
          read() {
            if (!sent) {
              sent = true;
              this.push(bytes.subarray(0, 1000));
            } else this.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
          },
        });
        r.on('close', () => {
          destroyed = true;
        });
        return r;
      },
    };
    const { entries } = await open(zip);
    // Act
    const error = await failure(
      openEntryStream(failing, entries[0]!, new InflateBudget(LIMITS)).then(collect),
    );
    // Assess
    expect(error).toMatchObject({ code: 'storage_unavailable', entry: 'big.log', retryable: true });
    expect(destroyed).toBe(true);
  });

  it('releases the source when the consumer destroys the stream early', async () => {
    const { reader, entries } = await open(writeZip([{ name: 'big.log', data: logText(4 * 2 ** 20) }]));
    let closed = false;
    const tracking: RandomAccessReader = {
      size: reader.size,
      read: (s, e) => reader.read(s, e),
      stream: async (s, e) => {
        const r = await reader.stream(s, e);
        r.on('close', () => {
          closed = true;
        });
        return r;
      },
    };
    const stream = await openEntryStream(tracking, entries[0]!, new InflateBudget(LIMITS));
    for await (const _chunk of stream) break;
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(true);
  });
});

describe('malformed input', () => {
  it('never surfaces anything but a LogzipError with an archive code, whatever bytes are damaged', async () => {
    // Prepare: a mixed archive, then 600 copies with a few bytes changed each (deterministic).
    const zip = await buildZip(
      [
        { name: 'logs/a.log', data: logText(3000) },
        { name: 'logs/b.bin', data: randomBytes(500), compression: 'STORE' },
        { name: 'ソフト/表示.log', data: logText(2000) },
        { name: 'empty.log', data: '' },
      ],
      { encodeFileName: (n) => Buffer.from(n, 'utf8') },
    );
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const seen = new Set<string>();
    // Act
    for (let round = 0; round < 600; round++) {
      const damaged = Buffer.from(zip);
      const flips = 1 + Math.floor(random() * 3);
      for (let i = 0; i < flips; i++) {
        // Half the damage lands in the central directory and end record, where parsing decisions are made.
        const tail = random() < 0.5;
        const at = tail
          ? damaged.length - 1 - Math.floor(random() * Math.min(300, damaged.length))
          : Math.floor(random() * damaged.length);
        damaged[at] = Math.floor(random() * 256);
      }
      const cut = random() < 0.1 ? damaged.subarray(0, Math.floor(random() * damaged.length)) : damaged;
      try {
        const reader = bufferReader(cut);
        const dir = await readZipDirectory(reader, OPTIONS);
        const plan = planEntries(dir, { logId: '1', outputPrefix: 'x/', limits: LIMITS });
        const budget = new InflateBudget(LIMITS);
        for (const { entry } of plan) {
          await readEntry(reader, entry, budget);
          await collect(await openEntryStream(reader, entry, budget));
        }
        seen.add('ok');
      } catch (error) {
        // Assess
        expect(error, String(error)).toBeInstanceOf(LogzipError);
        expect((error as LogzipError).code).not.toBe('internal');
        seen.add((error as LogzipError).code);
      }
    }
    expect(seen.size).toBeGreaterThan(3);
  });
});
