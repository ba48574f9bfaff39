import JSZip from 'jszip';

/** One file (or folder) for `buildZip`. */
export interface ZipFixtureFile {
  name: string;
  /** Content (default empty). */
  data?: string | Buffer;
  dir?: boolean;
  date?: Date;
  /** Unix mode bits (with `platform: 'UNIX'`), e.g. 0o644. */
  unixPermissions?: number;
  compression?: 'STORE' | 'DEFLATE';
}

export interface BuildZipOptions {
  /** Default DEFLATE. */
  compression?: 'STORE' | 'DEFLATE';
  /** 'DOS' (default) or 'UNIX': the "version made by" host and attribute format. */
  platform?: 'DOS' | 'UNIX';
  /** true: data descriptors (flag bit 3) after every entry's data. */
  streamFiles?: boolean;
  /**
   * Encodes names without the UTF-8 flag (e.g. to CP932). Note: jszip then adds an Info-ZIP Unicode
   * Path field (0x7075) to every non-ASCII name; use `writeZip` for names with no such field.
   */
  encodeFileName?: (name: string) => Buffer;
  comment?: string;
  /** Let jszip add an entry for every parent folder (default false: exactly the files given). */
  createFolders?: boolean;
}

/**
 * An ordinary archive built with jszip (the design's zip library for fixtures).
 *
 * @example
 * const zip = await buildZip([{ name: 'logs/app.log', data: 'hello\n' }]);
 */
export async function buildZip(
  files: readonly ZipFixtureFile[],
  options: BuildZipOptions = {},
): Promise<Buffer> {
  const zip = new JSZip();
  for (const f of files) {
    if (f.dir) {
      zip.file(f.name, null, { dir: true, createFolders: options.createFolders ?? false });
      continue;
    }
    zip.file(f.name, f.data ?? '', {
      createFolders: options.createFolders ?? false,
      binary: typeof f.data !== 'string',
      ...(f.date ? { date: f.date } : {}),
      ...(f.unixPermissions === undefined ? {} : { unixPermissions: f.unixPermissions }),
      ...(f.compression ? { compression: f.compression } : {}),
    });
  }
  const encode = options.encodeFileName;
  return zip.generateAsync({
    type: 'nodebuffer',
    compression: options.compression ?? 'DEFLATE',
    platform: options.platform ?? 'DOS',
    streamFiles: options.streamFiles ?? false,
    ...(options.comment === undefined ? {} : { comment: options.comment }),
    ...(encode ? { encodeFileName: (name: string) => encode(name) as unknown as string } : {}),
  });
}
