import type { Limits } from '../config.js';
import { LogzipError } from '../errors.js';
import {
  InflateBudget,
  openEntryStream,
  type PlannedEntry,
  type RandomAccessReader,
  readEntry,
} from '../zip/index.js';
import { runPool } from './pool.js';

export interface VerifyOptions {
  limits: Limits;
  concurrency: number;
  /** Entries up to this declared size are inflated in one call; larger ones are streamed. */
  bufferedEntryBytes: number;
  signal?: AbortSignal;
}

/**
 * Reads every planned entry as the extraction would (local header checks, inflate, real sizes
 * against the limits, CRC32) and writes nothing. Used before a new source replaces a good
 * extraction of another one, so a broken re-upload is refused while the old files and manifest
 * are still in place. Costs one extra read and inflate of the archive.
 *
 * @throws LogzipError the first defect found, as the extraction would report it.
 */
export async function verifyArchive(
  reader: RandomAccessReader,
  plan: readonly PlannedEntry[],
  options: VerifyOptions,
): Promise<void> {
  const budget = new InflateBudget(options.limits);
  const ordered = [...plan].sort((a, b) => a.entry.localHeaderOffset - b.entry.localHeaderOffset);
  await runPool(ordered, options.concurrency, async ({ entry }) => {
    if (options.signal?.aborted) {
      throw new LogzipError(
        'timeout',
        'the run was stopped while it checked the archive (deadline reached)',
        {
          cause: options.signal.reason,
        },
      );
    }
    if (entry.uncompressedSize <= options.bufferedEntryBytes) {
      await readEntry(reader, entry, budget);
      return;
    }
    const stream = await openEntryStream(reader, entry, budget);
    try {
      for await (const _chunk of stream) {
        // Only the checks count: the bytes are dropped.
      }
    } finally {
      stream.destroy();
    }
  });
}
