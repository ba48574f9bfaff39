import { crc32, deflateRawSync } from 'node:zlib';

/** One file of the canary archive and what its manifest entry must say. */
export interface CanaryEntry {
  path: string;
  size: number;
  /** 8 lowercase hex digits, as manifests write it. */
  crc32: string;
}

export interface CanaryArchive {
  zip: Buffer;
  entries: CanaryEntry[];
}

const UTF8_NAMES = 0x0800;
const DOS_DATE_2026_01_01 = ((2026 - 1980) << 9) | (1 << 5) | 1;

function hex(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

/**
 * The canary's files: what production uploads look like where it went wrong before — Japanese
 * names (UTF-8 flag set), a zero-byte file (SDKs failed to upload those), a nested folder, one
 * deflated and one stored entry — plus a line naming the run so each archive differs.
 */
function canaryFiles(logId: string): Array<{ path: string; data: Buffer; deflate: boolean }> {
  const log = Buffer.from(
    `logzip canary ${logId}\n${'2026-01-01T00:00:00Z INFO アプリケーションを起動しました\n'.repeat(40)}`,
    'utf8',
  );
  return [
    { path: 'canary/アプリ.log', data: log, deflate: true },
    { path: 'canary/空のファイル.txt', data: Buffer.alloc(0), deflate: false },
    {
      path: 'canary/設定/表示ソフト.json',
      data: Buffer.from('{"言語":"日本語","表示":true}\n', 'utf8'),
      deflate: false,
    },
  ];
}

/**
 * A small ZIP written here (no archive library at run time): local headers, data, central
 * directory, end record; names as UTF-8 with the language-encoding flag.
 *
 * @example
 * const { zip, entries } = buildCanaryArchive('canary_20260101_ab12cd');
 */
export function buildCanaryArchive(logId: string): CanaryArchive {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  const entries: CanaryEntry[] = [];
  let offset = 0;
  for (const file of canaryFiles(logId)) {
    const name = Buffer.from(file.path, 'utf8');
    const crc = crc32(file.data);
    const body = file.deflate ? deflateRawSync(file.data) : file.data;
    const method = file.deflate ? 8 : 0;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(UTF8_NAMES, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10); // time
    local.writeUInt16LE(DOS_DATE_2026_01_01, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(file.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, body);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(UTF8_NAMES, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(DOS_DATE_2026_01_01, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(file.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // a regular file, rw-r--r--
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);

    offset += local.length + name.length + body.length;
    entries.push({ path: file.path, size: file.data.length, crc32: hex(crc) });
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return { zip: Buffer.concat([...locals, directory, end]), entries };
}

/**
 * A fresh canary log ID: `canary_<UTC yyyymmddhhmmss>_<6 hex>`, inside the default log ID
 * pattern (letters, digits, underscores) and easy to tell apart in listings.
 */
export function makeCanaryLogId(now: Date, random: string): string {
  const stamp = now.toISOString().replace(/\D/g, '').slice(0, 14);
  return `canary_${stamp}_${random.slice(0, 6)}`;
}
