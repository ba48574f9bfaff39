import { isUtf8 } from 'node:buffer';
import { crc32 } from 'node:zlib';
import { LogzipError } from '../errors.js';

type Iconv = typeof import('iconv-lite');

let iconvModule: Iconv | undefined;

/** iconv-lite is loaded only when an archive has a name that is not UTF-8. */
export async function loadIconv(): Promise<Iconv> {
  if (iconvModule === undefined) {
    const mod = (await import('iconv-lite')) as Iconv & { default?: Iconv };
    iconvModule = mod.default ?? mod;
  }
  return iconvModule;
}

/** Throws unless iconv-lite knows the encoding (a configuration mistake, not an archive defect). */
export async function assertEncoding(encoding: string): Promise<void> {
  const iconv = await loadIconv();
  if (!iconv.encodingExists(encoding)) {
    throw new LogzipError('internal', `unknown fallback encoding "${encoding}" (LOGZIP_FALLBACK_ENCODING)`, {
      retryable: false,
    });
  }
}

/**
 * Whether the engine can read entry names in this code page (`reenqueue --encoding`): the names
 * iconv-lite knows (cp437, latin1, cp932, windows-1252, ...).
 */
export async function isSupportedEncoding(encoding: string): Promise<boolean> {
  if (encoding.length === 0 || encoding.length > MAX_ENCODING_NAME) return false;
  return (await loadIconv()).encodingExists(encoding);
}

/** Longer than any code page name iconv-lite knows. */
export const MAX_ENCODING_NAME = 64;

function isAscii(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) if (buf[i]! >= 0x80) return false;
  return true;
}

/**
 * The UTF-8 name from an Info-ZIP Unicode Path extra field (0x7075), if its CRC32 matches the raw
 * name (otherwise the name was changed by a tool that did not update the field) and it is UTF-8.
 */
export function unicodePathName(field: Buffer | undefined, rawName: Buffer): string | undefined {
  if (field === undefined || field.length < 5 || field[0] !== 1) return undefined;
  if (field.readUInt32LE(1) !== crc32(rawName) >>> 0) return undefined;
  const utf8 = field.subarray(5);
  return isUtf8(utf8) ? utf8.toString('utf8') : undefined;
}

/**
 * Decodes an entry name: UTF-8 flag → UTF-8; else a matching 0x7075 field; else valid UTF-8 bytes
 * → UTF-8; else the fallback encoding. Returns undefined when the fallback is needed and no
 * iconv is given (the caller loads it and calls again).
 *
 * @throws LogzipError `undecodable_name` when the fallback encoding cannot decode every byte.
 */
export function decodeName(
  rawName: Buffer,
  utf8Flag: boolean,
  unicodePathField: Buffer | undefined,
  fallbackEncoding: string,
  iconv: Iconv | undefined,
): string | undefined {
  const ascii = isAscii(rawName);
  if (ascii && unicodePathField === undefined) return rawName.toString('latin1');
  if (utf8Flag && isUtf8(rawName)) return rawName.toString('utf8');
  const unicode = unicodePathName(unicodePathField, rawName);
  if (unicode !== undefined) {
    // An ASCII name reads the same in every code page, so a 0x7075 name that differs from it is
    // not a better spelling but a second name: Info-ZIP would use one, Go and Python the other.
    if (ascii && !sameEntryName(unicode, rawName.toString('latin1'))) {
      throw new LogzipError(
        'name_mismatch',
        `the name "${rawName.toString('latin1')}" and its Unicode Path field "${unicode}" name different files`,
        { entry: rawName.toString('latin1') },
      );
    }
    return unicode;
  }
  // A name flagged UTF-8 that is not UTF-8 was written by a buggy tool: decode it like an unflagged one.
  if (isUtf8(rawName)) return rawName.toString('utf8');
  if (iconv === undefined) return undefined;
  const decoded = iconv.decode(rawName, fallbackEncoding);
  // iconv-lite writes U+FFFD for bytes the code page does not map (no code page maps a byte to it):
  // such a key would be a guess, and two different names could collapse into one.
  if (decoded.includes(REPLACEMENT_CHARACTER)) {
    throw new LogzipError(
      'undecodable_name',
      `the name ${describeRawName(rawName)} is neither UTF-8 nor valid ${fallbackEncoding} (LOGZIP_FALLBACK_ENCODING)`,
      { entry: describeRawName(rawName) },
    );
  }
  return decoded;
}

const REPLACEMENT_CHARACTER = '\uFFFD';

/** A name's raw bytes for messages: printable ASCII as is, every other byte as \xNN. */
export function describeRawName(rawName: Buffer): string {
  let out = '';
  for (const byte of rawName) {
    out +=
      byte >= 0x20 && byte < 0x7f && byte !== 0x5c
        ? String.fromCharCode(byte)
        : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/**
 * Whether two decoded names denote one entry: equal once normalised (backslashes, NFC, leading
 * './'), which is as far as encodings and writers legitimately differ.
 */
export function sameEntryName(a: string, b: string): boolean {
  return a === b || normalizeName(a) === normalizeName(b);
}

/**
 * Decoded name → entry path: backslashes become '/' (only after decoding: 0x5C is a trail byte of
 * many CP932 characters), NFC, and leading './' dropped. Not validated (see `checkPath`).
 */
export function normalizeName(decoded: string): string {
  let path = decoded.replaceAll('\\', '/').normalize('NFC');
  while (path.startsWith('./')) path = path.slice(2);
  return path;
}

/** Why a (normalised) path is unsafe to write under a folder, or undefined when it is safe. */
export function unsafePathReason(path: string): string | undefined {
  if (path.length === 0) return 'empty name';
  if (path.includes('\0')) return 'NUL byte in the name';
  if (path.startsWith('//')) return 'UNC path';
  if (path.startsWith('/')) return 'absolute path';
  if (/^[A-Za-z]:/.test(path)) return 'drive letter';
  const segments = path.split('/');
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === '..') return "'..' segment";
    if (segment === '.') return "'.' segment";
    // An empty segment inside the path ('a//b') means 'a/b' to a filesystem but not to S3.
    if (segment === '' && i < segments.length - 1) return 'empty segment';
  }
  return undefined;
}
