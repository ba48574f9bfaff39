import {
  buildZip,
  type RawZipEntry,
  UNIX_MADE_BY,
  unixAttributes,
  writeZip,
  zerosEntry,
} from '@logzip/test-utils';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import type { Limits } from '../../src/config.js';
import { LogzipError } from '../../src/errors.js';
import { bufferReader, type PlannedEntry, planEntries, readZipDirectory } from '../../src/zip/index.js';

const LIMITS: Limits = { maxEntries: 1000, maxTotalBytes: 2 ** 33, maxEntryBytes: 2 ** 32, maxRatio: 1000 };

async function plan(
  zip: Buffer,
  options: { limits?: Partial<Limits>; logId?: string; outputPrefix?: string } = {},
): Promise<PlannedEntry[]> {
  const dir = await readZipDirectory(bufferReader(zip), { fallbackEncoding: 'cp932', maxEntries: 100_000 });
  return planEntries(dir, {
    logId: options.logId ?? '54321',
    outputPrefix: options.outputPrefix ?? 'extracted/',
    limits: { ...LIMITS, ...options.limits },
  });
}

async function planError(
  entries: RawZipEntry[],
  options: Parameters<typeof plan>[1] = {},
): Promise<LogzipError> {
  const error = await plan(writeZip(entries), options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LogzipError);
  return error as LogzipError;
}

describe('planEntries', () => {
  it('maps files to keys under the log ID folder and drops directory entries', async () => {
    // Prepare
    const zip = await buildZip([
      { name: 'logs/', dir: true },
      { name: 'logs/app.log', data: 'hello' },
      { name: 'empty.txt', data: '' },
    ]);
    // Act
    const planned = await plan(zip);
    // Assess
    expect(planned.map((p) => [p.path, p.key])).toEqual([
      ['logs/app.log', 'extracted/54321/logs/app.log'],
      ['empty.txt', 'extracted/54321/empty.txt'],
    ]);
    expect(planned[1]!.entry.uncompressedSize).toBe(0);
  });

  it('works with an empty output prefix', async () => {
    const planned = await plan(writeZip([{ name: 'a.log' }]), { outputPrefix: '' });
    expect(planned[0]!.key).toBe('54321/a.log');
  });

  it('reads data-descriptor archives (jszip streamFiles) with the central sizes', async () => {
    const zip = await buildZip([{ name: 'a.log', data: 'abc'.repeat(1000) }], { streamFiles: true });
    const [planned] = await plan(zip);
    expect(planned!.entry.flags & 0x8).toBe(8);
    expect(planned!.entry.uncompressedSize).toBe(3000);
  });

  describe('unsafe_path', () => {
    it.each([
      ['an absolute path', '/etc/passwd'],
      ['an absolute Windows path', '\\Windows\\system.ini'],
      ['a drive letter', 'C:\\Windows\\win.ini'],
      ['a drive-relative path', 'c:evil.log'],
      ['a UNC path', '//server/share/x.log'],
      ['a backslash UNC path', '\\\\server\\share\\x.log'],
      ['a device path', '\\\\?\\C:\\x.log'],
      ['a leading ..', '../evil.log'],
      ['a backslash ..', '..\\evil.log'],
      ['a .. in the middle', 'logs/../../evil.log'],
      ['a trailing ..', 'logs/..'],
      ['a bare ..', '..'],
      ['a . segment', 'logs/./app.log'],
      ['a NUL byte', 'app.log\0.txt'],
      ['an empty segment', 'logs//app.log'],
      ['an empty name', ''],
    ])('refuses %s', async (_what, name) => {
      const error = await planError([{ name: Buffer.from(name, 'utf8'), data: 'x' }]);
      expect(error.code).toBe('unsafe_path');
      expect(error.entry).toBe(name.replaceAll('\\', '/').replace(/^(\.\/)+/, ''));
    });

    it('refuses a CP932 name with a .. segment', async () => {
      const error = await planError([{ name: iconv.encode('ソフト\\..\\..\\表示.log', 'cp932'), data: 'x' }]);
      expect(error.code).toBe('unsafe_path');
      expect(error.entry).toBe('ソフト/../../表示.log');
    });

    it('refuses a directory entry that escapes, although nothing is written for it', async () => {
      const error = await planError([{ name: '../up/' }, { name: 'a.log' }]);
      expect(error.code).toBe('unsafe_path');
    });

    it('refuses a 0x7075 name that escapes while the raw name looks harmless', async () => {
      const error = await planError([
        { name: Buffer.from('無害.log', 'utf8'), utf8Flag: false, unicodePath: '../escape.log', data: 'x' },
      ]);
      expect(error.code).toBe('unsafe_path');
      expect(error.entry).toBe('../escape.log');
    });

    it.each([
      ['a symbolic link', 0o120777],
      ['a FIFO', 0o010644],
      ['a character device', 0o020644],
      ['a block device', 0o060644],
      ['a socket', 0o140644],
    ])('refuses %s made on unix', async (what, mode) => {
      const error = await planError([
        {
          name: 'link.log',
          data: '/etc/passwd',
          versionMadeBy: UNIX_MADE_BY,
          externalAttributes: unixAttributes(mode),
        },
      ]);
      expect(error.code).toBe('unsafe_path');
      expect(error.message).toContain(what);
      expect(error.entry).toBe('link.log');
    });

    it('accepts regular unix files, and ignores mode bits on archives made on Windows', async () => {
      const planned = await plan(
        writeZip([
          { name: 'a.log', versionMadeBy: UNIX_MADE_BY, externalAttributes: unixAttributes(0o100644) },
          { name: 'b.log', versionMadeBy: UNIX_MADE_BY, externalAttributes: 0 },
          {
            name: 'c.log',
            versionMadeBy: 0x0a3f,
            externalAttributes: (unixAttributes(0o120777) | 0x20) >>> 0,
          },
        ]),
      );
      expect(planned.map((p) => p.path)).toEqual(['a.log', 'b.log', 'c.log']);
    });

    it('refuses a jszip UNIX-platform symlink', async () => {
      const zip = await buildZip([{ name: 'link', data: '../../etc', unixPermissions: 0o120755 }], {
        platform: 'UNIX',
      });
      const error = await plan(zip).catch((e: unknown) => e as LogzipError);
      expect(error).toMatchObject({ code: 'unsafe_path', entry: 'link' });
    });
  });

  describe('duplicate_entry', () => {
    it('refuses two entries with the same name', async () => {
      const error = await planError([
        { name: 'a.log', data: '1' },
        { name: 'a.log', data: '2' },
      ]);
      expect(error).toMatchObject({ code: 'duplicate_entry', entry: 'a.log' });
    });

    it('refuses names that become one key after backslashes turn into "/"', async () => {
      const error = await planError([{ name: 'a\\b.log' }, { name: 'a/b.log' }]);
      expect(error).toMatchObject({ code: 'duplicate_entry', entry: 'a/b.log' });
    });

    it('refuses NFC and NFD spellings of one name', async () => {
      const error = await planError([
        { name: 'が.log'.normalize('NFC') },
        { name: 'が.log'.normalize('NFD') },
      ]);
      expect(error.code).toBe('duplicate_entry');
    });

    it("refuses './a' next to 'a', and CP932 next to UTF-8 spellings", async () => {
      expect((await planError([{ name: './a.log' }, { name: 'a.log' }])).code).toBe('duplicate_entry');
      const both = await planError([{ name: iconv.encode('表示.log', 'cp932') }, { name: '表示.log' }]);
      expect(both.code).toBe('duplicate_entry');
    });

    it('refuses a file that is also the folder of another file', async () => {
      const error = await planError([{ name: 'logs' }, { name: 'logs/app.log' }]);
      expect(error).toMatchObject({ code: 'duplicate_entry', entry: 'logs/app.log' });
    });

    it('accepts names that differ only in case (S3 keys are case-sensitive)', async () => {
      const planned = await plan(writeZip([{ name: 'A.log' }, { name: 'a.log' }]));
      expect(planned).toHaveLength(2);
    });
  });

  describe('key_too_long', () => {
    it('accepts a key of exactly 1,024 UTF-8 bytes and refuses 1,025', async () => {
      // Prepare: 'extracted/54321/' is 16 bytes; 'あ' is 3 bytes.
      const japanese = `${'あ'.repeat(336)}.log`; // 1,008 + 4 + 16 = 1,028
      const exact = `${'あ'.repeat(334)}.log${'x'.repeat(2)}`; // 1,002 + 6 + 16 = 1,024
      expect(Buffer.byteLength(`extracted/54321/${exact}`)).toBe(1024);
      // Act
      const planned = await plan(writeZip([{ name: exact }]));
      const error = await planError([{ name: `${exact}y` }]);
      const tooLong = await planError([{ name: japanese }]);
      // Assess
      expect(planned[0]!.key).toBe(`extracted/54321/${exact}`);
      expect(error).toMatchObject({ code: 'key_too_long', entry: `${exact}y` });
      expect(tooLong.code).toBe('key_too_long');
    });

    it('counts the log ID and the output prefix', async () => {
      const name = 'x'.repeat(1000);
      expect(await plan(writeZip([{ name }]), { outputPrefix: '' })).toHaveLength(1);
      const error = await planError([{ name }], { outputPrefix: 'a-long-output-prefix/', logId: '12345' });
      expect(error.code).toBe('key_too_long');
    });
  });

  describe('methods and encryption', () => {
    it('refuses ZipCrypto entries (flag bit 0) as encrypted', async () => {
      const error = await planError([{ name: 'secret.log', data: 'x', flags: 0x1 }]);
      expect(error).toMatchObject({ code: 'encrypted', entry: 'secret.log' });
    });

    it('refuses AES entries (method 99) as encrypted', async () => {
      const error = await planError([
        { name: 'aes.log', method: 99, data: 'x', extra: Buffer.from('0199070001004145030800', 'hex') },
      ]);
      expect(error).toMatchObject({ code: 'encrypted', entry: 'aes.log' });
    });

    it('refuses strong encryption (flag bit 6)', async () => {
      const error = await planError([{ name: 's.log', data: 'x', flags: 0x41 }]);
      expect(error.code).toBe('encrypted');
    });

    it.each([
      [12, 'bzip2'],
      [14, 'LZMA'],
      [93, 'zstd'],
      [9, 'deflate64'],
    ])('refuses method %i (%s) as unsupported_method', async (method) => {
      const error = await planError([{ name: 'a.log', method, data: 'x' }]);
      expect(error).toMatchObject({ code: 'unsupported_method', entry: 'a.log' });
    });
  });

  describe('declared limits', () => {
    it('refuses more entries than maxEntries', async () => {
      const zip = writeZip(Array.from({ length: 6 }, (_, i) => ({ name: `f${i}.log` })));
      const error = await plan(zip, { limits: { maxEntries: 5 } }).catch((e: unknown) => e as LogzipError);
      expect(error).toMatchObject({ code: 'limits_exceeded' });
    });

    it('refuses an entry declared larger than maxEntryBytes', async () => {
      const error = await planError([zerosEntry('big.log', 2 ** 20)], {
        limits: { maxEntryBytes: 2 ** 20 - 1 },
      });
      expect(error).toMatchObject({ code: 'limits_exceeded', entry: 'big.log' });
    });

    it('refuses a declared total over maxTotalBytes, naming the entry that crosses it', async () => {
      const entries = [1, 2, 3].map((i) => ({ name: `f${i}.log`, data: 'x'.repeat(400) }));
      const error = await planError(entries, { limits: { maxTotalBytes: 1000 } });
      expect(error).toMatchObject({ code: 'limits_exceeded', entry: 'f3.log' });
    });

    it('refuses a high-ratio bomb (real deflate of zeros, honest header) over maxRatio', async () => {
      // Prepare: 64 MiB of zeros deflate to about 64 KB (1,030:1).
      const entry = zerosEntry('bomb.log', 64 * 2 ** 20);
      // Act
      const error = await planError([entry]);
      // Assess
      expect(error).toMatchObject({ code: 'limits_exceeded', entry: 'bomb.log' });
      expect(error.message).toMatch(/ratio/);
    });

    it('applies the ratio only to entries over 1 MiB', async () => {
      const planned = await plan(writeZip([zerosEntry('small.log', 2 ** 20)]), { limits: { maxRatio: 10 } });
      expect(planned).toHaveLength(1);
      const error = await planError([zerosEntry('big.log', 2 ** 20 + 1)], { limits: { maxRatio: 10 } });
      expect(error.code).toBe('limits_exceeded');
    });

    it('says corrupt for a stored entry whose two sizes differ', async () => {
      const error = await planError([{ name: 'a.log', method: 0, data: 'abc', uncompressedSize: 4 }]);
      expect(error).toMatchObject({ code: 'corrupt', entry: 'a.log' });
    });

    it('says corrupt for a directory entry that declares data', async () => {
      const error = await planError([{ name: 'dir/', data: 'x' }]);
      expect(error).toMatchObject({ code: 'corrupt', entry: 'dir/' });
    });
  });
});
