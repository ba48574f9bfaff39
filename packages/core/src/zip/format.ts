/** ZIP record signatures and sizes (APPNOTE.TXT 6.3.x). */
export const SIG_LOCAL = 0x04034b50;
export const SIG_CENTRAL = 0x02014b50;
export const SIG_EOCD = 0x06054b50;
export const SIG_ZIP64_EOCD = 0x06064b50;
export const SIG_ZIP64_LOCATOR = 0x07064b50;
export const SIG_DIGITAL_SIGNATURE = 0x05054b50;

export const LOCAL_HEADER_BYTES = 30;
export const CENTRAL_HEADER_BYTES = 46;
export const EOCD_BYTES = 22;
export const ZIP64_EOCD_BYTES = 56;
export const ZIP64_LOCATOR_BYTES = 20;
export const MAX_COMMENT_BYTES = 0xffff;

export const EXTRA_ZIP64 = 0x0001;
export const EXTRA_UNICODE_PATH = 0x7075;

export const FLAG_ENCRYPTED = 0x0001;
export const FLAG_DATA_DESCRIPTOR = 0x0008;
export const FLAG_STRONG_ENCRYPTION = 0x0040;
export const FLAG_UTF8 = 0x0800;

export const METHOD_STORED = 0;
export const METHOD_DEFLATE = 8;
export const METHOD_AES = 99;

/** "Version made by" hosts whose external attributes carry a unix mode in the high 16 bits. */
export const HOST_UNIX = 3;
export const HOST_DARWIN = 19;

export const S_IFMT = 0o170000;
export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFDIR = 0o040000;
export const S_IFBLK = 0o060000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFSOCK = 0o140000;

/** The unix file type bits of an entry, or undefined when it was not made on a unix-like host. */
export function unixFileType(versionMadeBy: number, externalAttributes: number): number | undefined {
  const host = versionMadeBy >>> 8;
  if (host !== HOST_UNIX && host !== HOST_DARWIN) return undefined;
  return (externalAttributes >>> 16) & S_IFMT;
}
