/**
 * Differential check of the reader's two paths on one archive: the directory read from memory
 * (`bufferReader`) and through the ranged block cache (`blockReader` with tiny blocks, as over S3),
 * and every entry read by `readEntry` (one synchronous inflate) and by `openEntryStream` (streamed
 * inflate over a source that arrives in small pieces). Both must agree: the same entries and bytes,
 * or the same error code. The engine picks one path or the other by size, so a disagreement means
 * an archive extracts or fails depending on how large it is or where it is stored.
 */
import { Readable } from 'node:stream';
import { LogzipError } from '../../src/errors.js';
import {
  blockReader,
  bufferReader,
  InflateBudget,
  openEntryStream,
  type RandomAccessReader,
  readEntry,
  readZipDirectory,
  type ZipEntry,
} from '../../src/zip/index.js';
import { FUZZ_LIMITS, FuzzFailure } from './harness.js';

export interface ReaderShape {
  /** Block size of the block reader (bytes). */
  blockSize: number;
  maxBlocks: number;
  /** Size of the pieces the source stream delivers. */
  piece: number;
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

const HANG_MS = 5000;

async function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no result within ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    return { ok: true, value: await Promise.race([promise, hang]) };
  } catch (error) {
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

function pieces(buf: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts, { objectMode: false });
}

/**
 * A block reader over the archive. Blocks and stream pieces grow with the archive (at most about
 * 8,192 blocks and 4,096 pieces): one-byte pieces of a megabyte are slow, not interesting.
 */
function rangedReader(zip: Buffer, shape: ReaderShape): RandomAccessReader {
  const blockSize = Math.max(shape.blockSize, Math.ceil(zip.length / 8192));
  return blockReader(
    zip.length,
    async (start, end) => Buffer.from(zip.subarray(start, end)),
    async (start, end) =>
      pieces(zip.subarray(start, end), Math.max(shape.piece, Math.ceil((end - start) / 4096))),
    { blockSize, maxBlocks: shape.maxBlocks },
  );
}

async function collect(stream: Promise<Readable>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function codeOf(result: Settled<unknown>): string {
  if (result.ok) return 'ok';
  return result.error instanceof LogzipError ? result.error.code : 'non-LogzipError';
}

function describeError(result: Settled<unknown>): string {
  if (result.ok) return 'ok';
  const e = result.error as Error;
  return e instanceof LogzipError ? `${e.code}: ${e.message}` : String(e?.stack ?? e);
}

/** Both say "too much": one counted the bytes past the limit, the other past the declared size first. */
function sameVerdict(a: string, b: string): boolean {
  if (a === b) return true;
  const over = new Set(['corrupt', 'limits_exceeded']);
  return over.has(a) && over.has(b);
}

function entryJson(entries: ZipEntry[]): string {
  return JSON.stringify(entries.map((e) => ({ ...e, rawName: e.rawName.toString('hex') })));
}

/**
 * Reads `zip` both ways; throws FuzzFailure on any disagreement, a non-LogzipError, `internal`,
 * or a read that does not settle. Returns the directory outcome ('ok' or a code) and the entries read.
 */
export async function compareReaders(
  zip: Buffer,
  shape: ReaderShape,
  context: string,
): Promise<{ directory: string; entries: number }> {
  const fail = (reason: string): never => {
    throw new FuzzFailure(reason, zip, `${context}; reader ${JSON.stringify(shape)}`);
  };
  const check = (what: string, result: Settled<unknown>) => {
    const code = codeOf(result);
    if (code === 'non-LogzipError' || code === 'internal') fail(`${what}: ${describeError(result)}`);
  };
  const options = { fallbackEncoding: 'cp932', maxEntries: FUZZ_LIMITS.maxEntries };
  const memory = await settle(readZipDirectory(bufferReader(zip), options));
  const ranged = rangedReader(zip, shape);
  const viaBlocks = await settle(readZipDirectory(ranged, options));
  check('directory (memory)', memory);
  check('directory (blocks)', viaBlocks);
  if (codeOf(memory) !== codeOf(viaBlocks)) {
    fail(`directory: memory says ${describeError(memory)}, blocks say ${describeError(viaBlocks)}`);
  }
  if (!memory.ok || !viaBlocks.ok) return { directory: codeOf(memory), entries: 0 };
  if (entryJson(memory.value.entries) !== entryJson(viaBlocks.value.entries)) {
    fail('directory: memory and blocks list different entries');
  }

  const buffered = bufferReader(zip);
  let read = 0;
  for (const entry of memory.value.entries) {
    if (entry.isDirectory) continue;
    const whole = await settle(readEntry(buffered, entry, new InflateBudget(FUZZ_LIMITS)));
    const streamed = await settle(collect(openEntryStream(ranged, entry, new InflateBudget(FUZZ_LIMITS))));
    check(`readEntry "${entry.path}"`, whole);
    check(`openEntryStream "${entry.path}"`, streamed);
    if (!sameVerdict(codeOf(whole), codeOf(streamed))) {
      fail(
        `entry "${entry.path}": readEntry says ${describeError(whole)}, openEntryStream says ${describeError(streamed)}`,
      );
    }
    if (whole.ok && streamed.ok && !whole.value.equals(streamed.value)) {
      fail(`entry "${entry.path}": readEntry and openEntryStream return different bytes`);
    }
    read += 1;
  }
  return { directory: 'ok', entries: read };
}
