/**
 * Name material for fuzzed archives: path segments whose raw bytes and decoded form are known, and
 * names that a safe extractor must refuse.
 */

/** A path segment in Shift_JIS (CP932) bytes and the text those bytes decode to. */
export interface Cp932Segment {
  text: string;
  bytes: Buffer;
}

const hex = (text: string, bytes: string): Cp932Segment => ({ text, bytes: Buffer.from(bytes, 'hex') });

/**
 * CP932 segments, checked against iconv-lite. Many end in 0x5C, the byte of a backslash: a reader
 * that turns backslashes into '/' before decoding splits these names in two. None of them is valid
 * UTF-8, so a reader must fall back to the configured encoding for every name made of them.
 */
export const CP932_SEGMENTS: readonly Cp932Segment[] = [
  hex('ソ', '835c'),
  hex('表', '955c'),
  hex('能', '945c'),
  hex('ログ', '838d834f'),
  hex('日本語', '93fa967b8cea'),
  hex('ファイル', '837483408343838b'),
  hex('予定', '975c92e8'),
  hex('十', '8f5c'),
  hex('申', '905c'),
  hex('構', '8d5c'),
  hex('噂', '895c'),
  hex('フォルダ', '83748348838b835f'),
  hex('データ', '8366815b835e'),
  hex('ｱｲｳ', 'b1b2b3'),
  hex('①', '8740'),
  hex('髙', 'fbfc'),
  hex('表示', '955c8ea6'),
];

/** Segments that are safe everywhere: ASCII, and UTF-8 that is already NFC. */
export const SAFE_SEGMENTS: readonly string[] = [
  'app.log',
  'logs',
  'a',
  'b',
  'data',
  '2026-11-28',
  'crash dump.txt',
  'x.y.z',
  '-',
  '_',
  '...',
  '.hidden',
  'ログ',
  'données',
  'Ωmega',
  '日本語.log',
  '😀',
  'CON',
  'nul.txt',
  'a b',
  '%2e%2e',
  'file;1',
];

/** Segments whose NFC form differs from their bytes: an extractor must key them by the NFC form. */
export const NFD_SEGMENTS: ReadonlyArray<{ raw: string; nfc: string }> = [
  { raw: 'e\u0301', nfc: '\u00e9' },
  { raw: '\u30ab\u3099', nfc: '\u30ac' },
];

/**
 * Names (raw bytes) that must be refused with `unsafe_path`: traversal, absolute, drive letters,
 * UNC, NUL, `.` segments, empty segments, in both slash styles and in CP932 (where 0x5C is a
 * backslash only when it is not the trail byte of a character).
 */
export const UNSAFE_NAMES: readonly Buffer[] = [
  '../x.log',
  '..',
  'a/../../x.log',
  'a/..',
  '..\\x.log',
  'a\\..\\..\\x.log',
  '/etc/passwd',
  '\\windows\\x.log',
  'C:/x.log',
  'c:x.log',
  'C:\\x.log',
  '//server/share/x.log',
  '\\\\server\\share\\x.log',
  'a\0b.log',
  '\0',
  'a/./b.log',
  '.',
  'a//b.log',
  './../x.log',
  '',
].map((s) => Buffer.from(s, 'utf8'));

/** CP932 names that decode to a traversal: `..\` then a character whose trail byte is 0x5C. */
export const UNSAFE_CP932_NAMES: readonly Buffer[] = [
  Buffer.concat([Buffer.from('..\\'), Buffer.from('835c', 'hex')]),
  Buffer.concat([Buffer.from('835c', 'hex'), Buffer.from('\\..\\..\\x')]),
];
