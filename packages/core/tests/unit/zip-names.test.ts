import { buildZip, writeZip } from '@logzip/test-utils';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { LogzipError } from '../../src/errors.js';
import { bufferReader, readZipDirectory } from '../../src/zip/index.js';

const OPTIONS = { fallbackEncoding: 'cp932', maxEntries: 1000 };
const cp932 = (name: string) => iconv.encode(name, 'cp932');

async function paths(zip: Buffer, options = OPTIONS): Promise<string[]> {
  const dir = await readZipDirectory(bufferReader(zip), options);
  return dir.entries.map((e) => e.path);
}

describe('entry names', () => {
  it('decodes CP932 names without the UTF-8 flag, keeping 0x5C trail bytes (ソ, 表, 能) inside characters', async () => {
    // Prepare
    const raw = cp932('ソフト/表示/能力.log');
    expect(raw.includes(0x5c)).toBe(true);
    const zip = writeZip([{ name: raw, data: 'x' }]);
    // Act
    const dir = await readZipDirectory(bufferReader(zip), OPTIONS);
    // Assess
    expect(dir.entries[0]!.path).toBe('ソフト/表示/能力.log');
    expect(dir.entries[0]!.flags & 0x800).toBe(0);
    expect(dir.entries[0]!.rawName.equals(raw)).toBe(true);
  });

  it('turns CP932 backslash separators into "/" only after decoding', async () => {
    const zip = writeZip([{ name: cp932('ソフト\\表示.log'), data: 'x' }]);
    expect(await paths(zip)).toEqual(['ソフト/表示.log']);
  });

  it('decodes flagged names as UTF-8', async () => {
    const zip = writeZip([{ name: 'ログ/表示.log', utf8Flag: true, data: 'x' }]);
    expect(await paths(zip)).toEqual(['ログ/表示.log']);
  });

  it('prefers a 0x7075 Unicode Path field whose CRC matches the raw name', async () => {
    const raw = cp932('旧名.log');
    const zip = writeZip([{ name: raw, unicodePath: 'ユニコード名.log', data: 'x' }]);
    expect(await paths(zip)).toEqual(['ユニコード名.log']);
  });

  it('ignores a 0x7075 field whose CRC does not match (the name was changed after it was written)', async () => {
    const raw = cp932('本当の名前.log');
    const zip = writeZip([{ name: raw, unicodePath: { path: '古い名前.log', nameCrc32: 12345 }, data: 'x' }]);
    expect(await paths(zip)).toEqual(['本当の名前.log']);
  });

  it('reads jszip archives whose CP932 names carry a 0x7075 field', async () => {
    const zip = await buildZip([{ name: 'ソフト/表示.log', data: 'x' }], { encodeFileName: cp932 });
    expect(await paths(zip)).toEqual(['ソフト/表示.log']);
  });

  it('bug: a name the fallback code page cannot decode was written with U+FFFD in its key (now undecodable_name)', async () => {
    // Prepare: 0x82 0x20 is a CP932 lead byte followed by a space (no such character); 0xA0 maps to nothing.
    const raw = Buffer.concat([Buffer.from('logs/'), Buffer.from([0x82, 0x20, 0xa0]), Buffer.from('.log')]);
    const zip = writeZip([
      { name: 'ok.log', data: 'x' },
      { name: raw, utf8Flag: false, data: 'x' },
    ]);
    // Act
    const error = await readZipDirectory(bufferReader(zip), OPTIONS).then(
      () => undefined,
      (e: unknown) => e as LogzipError,
    );
    // Assess
    expect(error).toBeInstanceOf(LogzipError);
    expect(error!.code).toBe('undecodable_name');
    expect(error!.retryable).toBe(false);
    expect(error!.entry).toBe('logs/\\x82 \\xa0.log');
    expect(error!.message).toContain('cp932');
    expect(error!.message).toContain('#1');
    expect(error!.message).not.toContain('\uFFFD');
  });

  it('refuses a name flagged UTF-8 that is neither UTF-8 nor valid in the fallback encoding', async () => {
    const zip = writeZip([{ name: Buffer.from([0x61, 0xff, 0x62]), utf8Flag: true, data: 'x' }]);
    const error = await readZipDirectory(bufferReader(zip), OPTIONS).catch((e: unknown) => e as LogzipError);
    expect((error as LogzipError).code).toBe('undecodable_name');
  });

  it('bug: an ASCII name whose 0x7075 field names another file was extracted under the 0x7075 name (now name_mismatch)', async () => {
    // Prepare: Info-ZIP uses the field, Go and Python the header name: the archive has two names.
    const zip = writeZip([{ name: 'invoice.log', unicodePath: 'payload.sh', data: 'x' }]);
    // Act
    const error = await readZipDirectory(bufferReader(zip), OPTIONS).catch((e: unknown) => e as LogzipError);
    // Assess
    expect((error as LogzipError).code).toBe('name_mismatch');
    expect((error as LogzipError).entry).toBe('invoice.log');
  });

  it('accepts an ASCII name whose 0x7075 field spells it with backslashes', async () => {
    const zip = writeZip([{ name: 'logs/app.log', unicodePath: 'logs\\app.log', data: 'x' }]);
    expect(await paths(zip)).toEqual(['logs/app.log']);
  });

  it('decodes valid UTF-8 bytes without the flag as UTF-8 (macOS, Python, 7-Zip on Linux)', async () => {
    const zip = writeZip([{ name: Buffer.from('ログ/ソフト.log', 'utf8'), utf8Flag: false, data: 'x' }]);
    expect(await paths(zip)).toEqual(['ログ/ソフト.log']);
  });

  it('falls back to the configured encoding for a name flagged UTF-8 that is not UTF-8', async () => {
    const zip = writeZip([{ name: cp932('表示.log'), utf8Flag: true, data: 'x' }]);
    expect(await paths(zip)).toEqual(['表示.log']);
  });

  it('uses the configured fallback encoding', async () => {
    const zip = writeZip([{ name: Buffer.from([0x81, 0x62, 0x2e, 0x6c, 0x6f, 0x67]), data: 'x' }]);
    expect(await paths(zip, { ...OPTIONS, fallbackEncoding: 'cp437' })).toEqual(['üb.log']);
  });

  it('refuses an unknown fallback encoding only when a name needs it', async () => {
    // Prepare
    const ascii = writeZip([{ name: 'a.log', data: 'x' }]);
    const shiftJis = writeZip([{ name: cp932('表示.log'), data: 'x' }]);
    const options = { ...OPTIONS, fallbackEncoding: 'no-such-encoding' };
    // Act
    const listed = await paths(ascii, options);
    const error = await readZipDirectory(bufferReader(shiftJis), options).catch((e: unknown) => e);
    // Assess
    expect(listed).toEqual(['a.log']);
    expect(error).toBeInstanceOf(LogzipError);
    expect((error as LogzipError).message).toMatch(/no-such-encoding/);
  });

  it('turns ASCII backslashes into "/" (Windows tools)', async () => {
    const zip = await buildZip([{ name: 'logs\\2026\\app.log', data: 'x' }]);
    expect(await paths(zip)).toEqual(['logs/2026/app.log']);
  });

  it('normalises names to NFC', async () => {
    const nfd = 'ガイド/が.log'.normalize('NFD');
    const zip = writeZip([{ name: nfd, data: 'x' }]);
    const [path] = await paths(zip);
    expect(path).toBe('ガイド/が.log'.normalize('NFC'));
    expect(path).not.toBe(nfd);
  });

  it("drops leading './' segments", async () => {
    const zip = writeZip([
      { name: './a.log', data: 'x' },
      { name: '././b/c.log', data: 'x' },
      { name: '.\\d.log', data: 'x' },
      { name: '.hidden', data: 'x' },
    ]);
    expect(await paths(zip)).toEqual(['a.log', 'b/c.log', 'd.log', '.hidden']);
  });

  it('marks names ending in "/" or "\\" as directories', async () => {
    const zip = writeZip([{ name: 'logs/' }, { name: cp932('表示\\') }, { name: 'x.log' }]);
    const dir = await readZipDirectory(bufferReader(zip), OPTIONS);
    expect(dir.entries.map((e) => [e.path, e.isDirectory])).toEqual([
      ['logs/', true],
      ['表示/', true],
      ['x.log', false],
    ]);
  });
});
