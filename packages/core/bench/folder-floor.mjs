// The floor for a folder destination: the least a Node process can do to extract an archive
// (read it, inflate each entry, check its CRC32, open/write/close its file), timed as a whole
// process like the tools it is compared with. No limits, no name checks, no manifest, no
// configuration: what logzip spends above this is its own bookkeeping; what this spends above
// unzip is Node's start and the platform. Handles what the bench's corpora hold (Info-ZIP
// archives, stored or deflated, no ZIP64), nothing more.
// Usage: node folder-floor.mjs <archive> <output folder>
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';

const [archive, out] = process.argv.slice(2);
const zip = readFileSync(archive);
const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
if (eocd < 0) throw new Error('no end of central directory');
const count = zip.readUInt16LE(eocd + 10);
let p = zip.readUInt32LE(eocd + 16);
const made = new Set();
for (let i = 0; i < count; i++) {
  const method = zip.readUInt16LE(p + 10);
  const crc = zip.readUInt32LE(p + 16);
  const compressed = zip.readUInt32LE(p + 20);
  const size = zip.readUInt32LE(p + 24);
  const nameLength = zip.readUInt16LE(p + 28);
  const local = zip.readUInt32LE(p + 42);
  const name = zip.toString('utf8', p + 46, p + 46 + nameLength);
  p += 46 + nameLength + zip.readUInt16LE(p + 30) + zip.readUInt16LE(p + 32);
  if (name.endsWith('/')) continue;
  const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
  const raw = zip.subarray(start, start + compressed);
  const data = method === 8 ? inflateRawSync(raw, { chunkSize: Math.max(64, size + 1) }) : raw;
  if (data.length !== size || crc32(data) !== crc) throw new Error(`${name} does not check`);
  const path = join(out, name);
  const folder = dirname(path);
  if (!made.has(folder)) {
    mkdirSync(folder, { recursive: true });
    made.add(folder);
  }
  const fd = openSync(path, 'w');
  for (let at = 0; at < data.length; ) at += writeSync(fd, data, at);
  closeSync(fd);
}
