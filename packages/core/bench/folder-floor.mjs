// The floor for a folder destination: the least a Node process can do to extract an archive
// (read it, inflate each entry, check its CRC32, open/write/close its file), timed as a whole
// process like the tools it is compared with. No limits, no name checks, no manifest, no
// configuration: what logzip spends above this is its own bookkeeping; what this spends above
// unzip is Node's start and the platform. Handles what the bench's corpora hold (Info-ZIP
// archives, stored or deflated, no ZIP64), nothing more.
// Usage: node folder-floor.mjs <archive> <output folder> [threads]
//   threads > 1: the archive is read once into shared memory and each thread extracts the entries
//   of its own folders (no two threads create files in one folder), to see whether a second core
//   pays on this machine's filesystem.
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { crc32, inflateRawSync } from 'node:zlib';

function extractPart(zip, out, part, parts) {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  const made = new Map();
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
    const path = join(out, name);
    const folder = dirname(path);
    if (!made.has(folder)) {
      const mine = parts === 1 || made.size % parts === part;
      if (mine) mkdirSync(folder, { recursive: true });
      made.set(folder, mine);
    }
    if (!made.get(folder)) continue;
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + compressed);
    const data = method === 8 ? inflateRawSync(raw, { chunkSize: Math.max(64, size + 1) }) : raw;
    if (data.length !== size || crc32(data) !== crc) throw new Error(`${name} does not check`);
    const fd = openSync(path, 'w');
    for (let at = 0; at < data.length; ) at += writeSync(fd, data, at);
    closeSync(fd);
  }
}

if (isMainThread) {
  const [archive, out, threads = '1'] = process.argv.slice(2);
  const parts = Number(threads);
  if (parts === 1) {
    extractPart(readFileSync(archive), out, 0, 1);
  } else {
    const file = readFileSync(archive);
    const shared = new SharedArrayBuffer(file.length);
    file.copy(Buffer.from(shared));
    const workers = [];
    for (let part = 1; part < parts; part++) {
      const worker = new Worker(new URL(import.meta.url), { workerData: { shared, out, part, parts } });
      workers.push(
        new Promise((done, fail) => {
          worker.on('error', fail);
          worker.on('exit', (code) => (code === 0 ? done() : fail(new Error(`worker exited ${code}`))));
        }),
      );
    }
    extractPart(Buffer.from(shared), out, 0, parts);
    await Promise.all(workers);
  }
} else {
  const { shared, out, part, parts } = workerData;
  extractPart(Buffer.from(shared), out, part, parts);
}
