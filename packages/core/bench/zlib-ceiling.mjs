// The ceiling: zlib.inflateRawSync over every entry's compressed bytes, already in memory,
// no CRC, no writes. Entry positions come from the central directory via the engine's own reader
// (only for locating data; the timing covers inflate alone).
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { bufferReader, readZipDirectory } from '@logzip/core/zip';

const archive = readFileSync(process.argv[2]);
const dir = await readZipDirectory(bufferReader(archive), { fallbackEncoding: 'cp932', maxEntries: 1e7 });
const slices = [];
for (const e of dir.entries) {
  if (e.isDirectory) continue;
  const o = e.localHeaderOffset;
  const start = o + 30 + archive.readUInt16LE(o + 26) + archive.readUInt16LE(o + 28);
  slices.push({
    data: archive.subarray(start, start + e.compressedSize),
    method: e.method,
    size: e.uncompressedSize,
  });
}
const started = process.hrtime.bigint();
let total = 0;
for (const s of slices) {
  total += s.method === 8 ? inflateRawSync(s.data, { chunkSize: 256 * 1024 }).length : s.data.length;
}
console.log(JSON.stringify({ seconds: Number(process.hrtime.bigint() - started) / 1e9, bytes: total }));
