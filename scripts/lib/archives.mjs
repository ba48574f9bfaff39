// The demo's archives: what desktop apps send (nested folders, Japanese names, an empty file,
// names in CP932 as Japanese Windows writes them) and one archive damaged in transit.
import { crc32 } from 'node:zlib';
import JSZip from 'jszip';

const FIXED_DATE = new Date(Date.UTC(2026, 10, 28, 2, 10, 44));

/** Plausible application log lines, deterministic for a seed. */
function logText(seed, lines) {
  const levels = ['INFO', 'INFO', 'INFO', 'DEBUG', 'WARN', 'ERROR'];
  const modules = ['Sync', 'Ui.MainWindow', 'Http', 'Db', 'Updater', '帳票', '同期'];
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  const out = [];
  for (let i = 0; i < lines; i += 1) {
    const t = new Date(FIXED_DATE.getTime() + i * 173);
    const level = levels[Math.floor(next() * levels.length)];
    const module = modules[Math.floor(next() * modules.length)];
    const id = Math.floor(next() * 1e6);
    out.push(
      `${t.toISOString()} [${level}] ${module}: request ${id} finished in ${Math.floor(next() * 900)} ms`,
    );
  }
  return Buffer.from(`${out.join('\r\n')}\r\n`, 'utf8');
}

/** What the manifest must list for an archive: every path with its size and CRC32. */
function expectation(entries) {
  return entries.map(({ path, data }) => ({
    path,
    size: data.length,
    crc32: crc32(data).toString(16).padStart(8, '0'),
  }));
}

async function jszipArchive(entries, compression = 'DEFLATE') {
  const zip = new JSZip();
  for (const { path, data } of entries) zip.file(path, data, { date: FIXED_DATE, binary: true });
  return zip.generateAsync({
    type: 'nodebuffer',
    compression,
    compressionOptions: { level: 6 },
    platform: 'DOS',
  });
}

let cp932Table;
/** Encodes text to CP932 (Shift_JIS as Windows writes it), by inverting the decoder Node ships. */
function encodeCp932(text) {
  if (cp932Table === undefined) {
    cp932Table = new Map();
    const decoder = new TextDecoder('shift_jis', { fatal: true });
    const leads = [];
    for (let b = 0x81; b <= 0x9f; b += 1) leads.push(b);
    for (let b = 0xe0; b <= 0xfc; b += 1) leads.push(b);
    for (const lead of leads) {
      for (let trail = 0x40; trail <= 0xfc; trail += 1) {
        if (trail === 0x7f) continue;
        try {
          const ch = decoder.decode(Uint8Array.of(lead, trail));
          if (!cp932Table.has(ch)) cp932Table.set(ch, [lead, trail]);
        } catch {
          // not a character
        }
      }
    }
  }
  const bytes = [];
  for (const ch of text) {
    const code = ch.codePointAt(0);
    if (code < 0x80) bytes.push(code);
    else {
      const pair = cp932Table.get(ch);
      if (pair === undefined) throw new Error(`"${ch}" has no CP932 encoding`);
      bytes.push(...pair);
    }
  }
  return Buffer.from(bytes);
}

/**
 * A ZIP as Windows Explorer's "Send to > Compressed folder" writes it on a Japanese system: names
 * in CP932 without the UTF-8 flag and no Unicode path field (stored entries; jszip always adds the
 * Unicode field for non-ASCII names, so this one is written by hand).
 */
function cp932Archive(entries) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  const dosTime = (2 << 11) | (10 << 5) | 22;
  const dosDate = ((2026 - 1980) << 9) | (11 << 5) | 28;
  for (const { rawName, data } of entries) {
    const name = encodeCp932(rawName);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0, 6); // flags: no UTF-8 bit
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // made by MS-DOS
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt16LE(dosTime, 12);
    central.writeUInt16LE(dosDate, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(0x20, 38); // FILE_ATTRIBUTE_ARCHIVE
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/**
 * The demo's archives, in upload order. `phase` 1 goes up while the route is `lambda`, phase 2
 * after the switch to `queue`. `expected` is undefined for the damaged one.
 */
export async function buildDemoArchives() {
  const archives = [];

  const nested = [
    { path: 'logs/2026-11-28/app.log', data: logText(1, 600) },
    { path: 'logs/2026-11-28/error.log', data: logText(2, 40) },
    { path: 'logs/2026-11-27/app.log', data: logText(3, 900) },
    { path: 'logs/2026-11-27/app.log.1', data: logText(4, 300) },
    {
      path: 'system/environment.txt',
      data: Buffer.from('OS=Windows 11 23H2\r\nLocale=ja-JP\r\nApp=5.12.0\r\n'),
    },
    {
      path: 'crash/2026-11-28T02-10-44/stack.txt',
      data: Buffer.from('System.IO.IOException: ディスクがいっぱいです\r\n   at Sync.Run()\r\n'),
    },
  ];
  archives.push({
    label: 'desktop app logs, nested folders',
    phase: 1,
    body: await jszipArchive(nested),
    expected: expectation(nested),
  });

  const japanese = [
    { path: 'ログ/アプリケーション.log', data: logText(5, 400) },
    { path: 'ログ/エラー/詳細ログ_2026年11月28日.txt', data: logText(6, 60) },
    { path: '設定/ユーザー設定.json', data: Buffer.from('{"言語":"日本語","自動同期":true}\n') },
    { path: 'レポート.csv', data: Buffer.from('日付,件数\n2026-11-28,42\n') },
  ];
  archives.push({
    label: 'Japanese file names (UTF-8)',
    phase: 1,
    body: await jszipArchive(japanese),
    expected: expectation(japanese),
  });

  const empty = [
    { path: 'logs/app.log', data: logText(7, 200) },
    { path: 'logs/empty.log', data: Buffer.alloc(0) },
    { path: 'logs/rotated/app.1.log', data: logText(8, 200) },
  ];
  archives.push({
    label: 'with a zero-byte file',
    phase: 1,
    body: await jszipArchive(empty),
    expected: expectation(empty),
  });

  // Damaged in transit: one byte of a stored entry flipped; its CRC32 no longer matches.
  const damagedEntries = [
    { path: 'logs/app.log', data: logText(9, 300) },
    { path: 'logs/error.log', data: logText(10, 30) },
  ];
  const damaged = await jszipArchive(damagedEntries, 'STORE');
  const dataStart = 30 + damaged.readUInt16LE(26) + damaged.readUInt16LE(28);
  damaged[dataStart + 100] ^= 0xff;
  archives.push({
    label: 'damaged in transit (a flipped byte)',
    phase: 1,
    body: damaged,
    expected: undefined,
  });

  // ソ (0x83 0x5C) and 表 (0x95 0x5C) end in the byte of a backslash: decoded first, they stay whole.
  const cp932 = [
    { rawName: 'ログ\\ソフトウェア.log', path: 'ログ/ソフトウェア.log', data: logText(11, 150) },
    { rawName: '表示\\設定.ini', path: '表示/設定.ini', data: Buffer.from('[表示]\r\n倍率=125\r\n') },
    { rawName: '能力診断.txt', path: '能力診断.txt', data: Buffer.from('CPU=4\r\nRAM=16GB\r\n') },
  ];
  archives.push({
    label: 'CP932 names, no UTF-8 flag (Windows)',
    phase: 2,
    body: cp932Archive(cp932),
    expected: expectation(cp932),
  });

  const many = [];
  for (let i = 1; i <= 250; i += 1) {
    many.push({ path: `logs/trace/part-${String(i).padStart(4, '0')}.log`, data: logText(100 + i, 20) });
  }
  archives.push({
    label: 'many small files',
    phase: 2,
    body: await jszipArchive(many),
    expected: expectation(many),
  });

  const large = [
    { path: 'logs/verbose.log', data: logText(12, 60_000) },
    { path: 'logs/summary.txt', data: Buffer.from('60000 lines\n') },
  ];
  archives.push({
    label: 'one large log',
    phase: 2,
    body: await jszipArchive(large),
    expected: expectation(large),
  });

  return archives;
}

/**
 * One archive of the burst demo (`pnpm demo --burst`): a desktop app's small daily bundle, its
 * content different for every index (so a mix-up of two archives shows in the manifest check).
 */
export async function buildBurstArchive(index) {
  const entries = [
    { path: 'logs/app.log', data: logText(1_000 + index, 40 + (index % 7) * 10) },
    { path: 'logs/error.log', data: logText(2_000 + index, 5 + (index % 3)) },
    { path: 'system/environment.txt', data: Buffer.from(`App=5.12.${index}\r\nLocale=ja-JP\r\n`) },
  ];
  return {
    label: `burst archive ${index + 1}`,
    body: await jszipArchive(entries),
    expected: expectation(entries),
  };
}
