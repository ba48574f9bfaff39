import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type Readable, Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { LogzipError, toLogzipError } from '../errors.js';
import { systemClock } from '../ports/clock.js';
import { type Logger, silentLogger } from '../ports/logger.js';
import type { ObjectInfo, ObjectStore, PutResult } from '../ports/object-store.js';
import { inSpan, noopTracer, SPAN_ATTRIBUTES } from '../ports/tracer.js';
import type { Manifest, ManifestEntry, SourceRef } from '../state/types.js';
import {
  blockReader,
  bufferReader,
  InflateBudget,
  openEntryStream,
  type PlannedEntry,
  planEntries,
  type RandomAccessReader,
  readEntry,
  readZipDirectory,
} from '../zip/index.js';
import { AdaptiveConcurrency } from './concurrency.js';
import { contentTypeFor } from './content-type.js';
import { runPool } from './pool.js';
import type { ExtractDeps, ExtractOptions, ExtractResult } from './types.js';
import { verifyArchive } from './verify.js';

/**
 * Archives up to this size are read with one GET; larger ones with ranged GETs through a block
 * cache. One GET also spares the per-read copies of the cache, which dominate archives of many
 * small files; 32 MiB in memory stays far below what a run may use.
 */
export const WHOLE_READ_BYTES = 32 * 2 ** 20;
/** Entries up to this (declared) size are inflated in one synchronous call; larger ones are streamed. */
export const BUFFERED_ENTRY_BYTES = 4 * 2 ** 20;
const DEFAULT_CONCURRENCY = 8;
const DEFAULT_LEASE_TTL_MS = 60_000;
const DEFAULT_LEASE_WAIT_MS = 30_000;
const LEASE_POLL_MS = 250;

/** What the writes in flight may hold in memory together, when concurrency adapts. */
const WRITE_MEMORY_BUDGET = 128 * 2 ** 20;
/** A put may hold a body of up to this much (the S3 store buffers streams up to 16 MiB, multipart parts beyond). */
const MAX_BODY_IN_MEMORY = 32 * 2 ** 20;

/**
 * More writes at once only where their bodies stay small: many small files may go up to the
 * store's limit, archives of large entries stay at the default.
 */
function memoryBoundConcurrency(plan: readonly PlannedEntry[]): number {
  let largest = 1;
  for (const p of plan) largest = Math.max(largest, Math.min(p.entry.uncompressedSize, MAX_BODY_IN_MEMORY));
  return Math.max(DEFAULT_CONCURRENCY, Math.floor(WRITE_MEMORY_BUDGET / largest));
}

export function sameSource(a: SourceRef, b: SourceRef): boolean {
  return a.bucket === b.bucket && a.key === b.key && a.etag === b.etag && a.size === b.size;
}

export function crc32Hex(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

/** The folder of a log ID under the output prefix; nothing but the archive's own files goes there. */
export function logIdFolder(outputPrefix: string, logId: string): string {
  return `${outputPrefix}${logId}/`;
}

function openReader(store: ObjectStore, info: ObjectInfo): Promise<RandomAccessReader> | RandomAccessReader {
  if (info.size <= WHOLE_READ_BYTES) {
    return store.get(info.bucket, info.key).then((buf) => {
      // A source that changed between HEAD and GET is a different archive: let the retry see it whole.
      if (buf.length !== info.size) {
        throw new LogzipError('storage_unavailable', `"${info.key}" changed while it was read`);
      }
      return bufferReader(buf);
    });
  }
  return blockReader(
    info.size,
    (start, end) => store.getRange(info.bucket, info.key, start, end),
    (start, end) => store.getStream(info.bucket, info.key, start, end),
  );
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new LogzipError('timeout', 'the run was stopped before it could finish (deadline reached)', {
      cause: signal.reason,
    });
  }
}

async function listKeys(store: ObjectStore, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list(bucket, prefix)) keys.push(object.key);
  return keys;
}

/**
 * Extracts one archive to `<output prefix><logId>/`, whole or not at all.
 *
 * Every check the central directory allows runs before the first write. A defect found while
 * inflating (CRC, lying sizes, limits) removes everything of the run, and the manifest, written
 * last, is the only proof of a complete extraction. A different source for the same log ID
 * replaces the folder, but only once the whole new archive has been read and checked without
 * writing (inflate, sizes, CRC32): a broken re-upload leaves the previous extraction and its
 * manifest as they were. Running again on the current source returns `already_extracted`.
 *
 * @example
 * const result = await extractArchive(
 *   { source: store, output: store, state },
 *   { logId: '54321', source: { bucket, key }, output: { bucket, prefix: 'extracted/' }, limits, fallbackEncoding: 'cp932' },
 * );
 */
export async function extractArchive(deps: ExtractDeps, options: ExtractOptions): Promise<ExtractResult> {
  const clock = deps.clock ?? systemClock;
  const startedAt = clock.now();
  const { logId } = options;
  const log = (deps.logger ?? silentLogger).child({
    logId,
    bucket: options.source.bucket,
    key: options.source.key,
  });

  const info = await deps.source.head(options.source.bucket, options.source.key);
  if (info === undefined) {
    throw new LogzipError(
      'source_not_found',
      `s3://${options.source.bucket}/${options.source.key} does not exist`,
    );
  }
  const source: SourceRef = { bucket: info.bucket, key: info.key, etag: info.etag, size: info.size };

  const current = await deps.state.getManifest(logId);
  if (!options.force && current !== undefined && sameSource(current.source, source)) {
    log.info({ status: 'already_extracted', entries: current.entries.length }, 'archive already extracted');
    return {
      status: 'already_extracted',
      logId,
      source: current.source,
      entries: current.entries,
      bytes: current.bytes,
      durationMs: clock.now().getTime() - startedAt.getTime(),
      manifest: current,
    };
  }
  if (info.size === 0) {
    throw new LogzipError('not_zip', 'the archive is empty (zero bytes)');
  }

  // One run per log ID at a time: a duplicate event or the other route waits here, then usually
  // finds the manifest the first run wrote.
  const owner = `${hostname()}:${process.pid}:${randomUUID()}`;
  const ttlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  await waitForLease(deps, logId, owner, ttlMs, options.leaseWaitMs ?? DEFAULT_LEASE_WAIT_MS, options.signal);
  const leaseLost = new AbortController();
  const heartbeat = setInterval(
    () => {
      deps.state.renewLease(logId, owner, ttlMs).catch((error: unknown) => {
        log.warn({ err: toLogzipError(error).message }, 'lost the extraction lease, stopping');
        leaseLost.abort(error);
      });
    },
    Math.max(1000, Math.floor(ttlMs / 3)),
  );
  heartbeat.unref();
  const signal =
    options.signal === undefined ? leaseLost.signal : AbortSignal.any([options.signal, leaseLost.signal]);
  try {
    const latest = await deps.state.getManifest(logId);
    if (!options.force && latest !== undefined && sameSource(latest.source, source)) {
      log.info({ status: 'already_extracted' }, 'extracted by a concurrent run');
      return {
        status: 'already_extracted',
        logId,
        source: latest.source,
        entries: latest.entries,
        bytes: latest.bytes,
        durationMs: clock.now().getTime() - startedAt.getTime(),
        manifest: latest,
      };
    }
    return await extractLeased(deps, { ...options, signal }, info, source, latest, startedAt, log);
  } finally {
    clearInterval(heartbeat);
    await deps.state.releaseLease(logId, owner).catch((error: unknown) => {
      log.warn({ err: toLogzipError(error).message }, 'could not release the extraction lease (it expires)');
    });
  }
}

async function waitForLease(
  deps: ExtractDeps,
  logId: string,
  owner: string,
  ttlMs: number,
  waitMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const deadline = Date.now() + waitMs;
  while (!(await deps.state.acquireLease(logId, owner, ttlMs))) {
    checkAborted(signal);
    if (Date.now() >= deadline) {
      throw new LogzipError(
        'storage_unavailable',
        `log ID ${logId} is being extracted by another run; retry later`,
      );
    }
    await sleep(LEASE_POLL_MS);
  }
}

async function extractLeased(
  deps: ExtractDeps,
  options: ExtractOptions,
  info: ObjectInfo,
  source: SourceRef,
  current: Manifest | undefined,
  startedAt: Date,
  log: Logger,
): Promise<ExtractResult> {
  const clock = deps.clock ?? systemClock;
  const tracer = deps.tracer ?? noopTracer;
  const { logId } = options;
  checkAborted(options.signal);
  const { reader, directory, plan } = await inSpan(
    tracer,
    'read directory',
    { parent: options.trace, attributes: { [SPAN_ATTRIBUTES.bytes]: info.size } },
    async (span) => {
      const reader = await openReader(deps.source, info);
      const directory = await readZipDirectory(reader, {
        fallbackEncoding: options.fallbackEncoding,
        maxEntries: options.limits.maxEntries,
      });
      const plan = planEntries(directory, {
        logId,
        outputPrefix: options.output.prefix,
        limits: options.limits,
      });
      span.setAttributes({ [SPAN_ATTRIBUTES.entries]: plan.length, 'logzip.zip64': directory.zip64 });
      return { reader, directory, plan };
    },
  );
  const declaredBytes = plan.reduce((sum, p) => sum + p.entry.uncompressedSize, 0);
  log.info(
    { entries: plan.length, archiveBytes: info.size, declaredBytes, zip64: directory.zip64 },
    'archive checked, extracting',
  );

  // A good extraction of another source stays untouched until the new archive is known good:
  // inflate and CRC defects are otherwise only found while writing, after old files are gone.
  if (current !== undefined && !sameSource(current.source, source)) {
    log.info({ replaces: current.source.key }, 'verifying the new archive before it replaces the extraction');
    try {
      await inSpan(tracer, 'verify', { parent: options.trace }, () =>
        verifyArchive(reader, plan, {
          limits: options.limits,
          concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
          bufferedEntryBytes: BUFFERED_ENTRY_BYTES,
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        }),
      );
    } catch (thrown) {
      const error = toLogzipError(thrown);
      log.warn(
        { code: error.code, entry: error.entry, retryable: error.retryable },
        'the new archive failed its check; the previous extraction is kept',
      );
      throw error;
    }
  }

  // From here on the folder changes: no manifest may claim it until the new one is complete.
  if (current !== undefined) await deps.state.retireManifest(logId);

  const folder = logIdFolder(options.output.prefix, logId);
  const outBucket = options.output.bucket;
  const budget = new InflateBudget(options.limits);
  const entries: ManifestEntry[] = new Array(plan.length);
  const metadata = { 'logzip-log-id': logId, 'logzip-source-key': encodeURIComponent(source.key) };
  let bytesDone = 0;
  let entriesDone = 0;
  // Stores that say how much they can take (S3: the socket pool) get writes that adapt up to it
  // and back off when calls need retries (503 SlowDown); an explicit concurrency stays fixed.
  const adaptive =
    options.concurrency === undefined && deps.output.maxConcurrency !== undefined
      ? new AdaptiveConcurrency({
          initial: DEFAULT_CONCURRENCY,
          max: Math.min(deps.output.maxConcurrency, memoryBoundConcurrency(plan)),
        })
      : undefined;

  // Bytes of large entries still being written: the progress moves within an entry of gigabytes.
  let bytesInFlight = 0;
  let lastReport = 0;
  const report = (force: boolean) => {
    const now = Date.now();
    if (!force && now - lastReport < PROGRESS_INTERVAL_MS) return;
    lastReport = now;
    options.onProgress?.({
      entriesDone,
      entriesTotal: plan.length,
      bytesDone: bytesDone + bytesInFlight,
      bytesTotal: declaredBytes,
      writeConcurrency: adaptive?.current ?? options.concurrency ?? DEFAULT_CONCURRENCY,
    });
  };

  const writeEntry = async (planned: PlannedEntry, index: number): Promise<void> => {
    checkAborted(options.signal);
    const { entry } = planned;
    const putOptions = {
      size: entry.uncompressedSize,
      contentType: contentTypeFor(planned.path),
      metadata,
      crc32: entry.crc32,
      // The manifest, written last, is what proves the folder complete: no per-file atomicity needed.
      inPlace: true,
    };
    let written: PutResult;
    if (entry.uncompressedSize <= BUFFERED_ENTRY_BYTES) {
      const data = await readEntry(reader, entry, budget);
      written = await deps.output.put(outBucket, planned.key, data, putOptions);
    } else {
      const stream: Readable = await openEntryStream(reader, entry, budget);
      let counted = 0;
      const body =
        options.onProgress === undefined
          ? stream
          : countBytes(stream, (n) => {
              counted += n;
              bytesInFlight += n;
              report(false);
            });
      try {
        written = await deps.output.put(outBucket, planned.key, body, putOptions);
      } finally {
        stream.destroy();
        bytesInFlight -= counted;
      }
    }
    if (written.retried) adaptive?.throttled();
    else adaptive?.succeeded();
    entries[index] = {
      path: planned.path,
      key: planned.key,
      size: entry.uncompressedSize,
      crc32: crc32Hex(entry.crc32),
    };
    bytesDone += entry.uncompressedSize;
    entriesDone += 1;
    report(true);
  };

  try {
    // Files of an earlier source (or of a run that died) that this archive does not contain go
    // first: on a filesystem an old file `a` would block the new folder `a/` (and the reverse).
    // Nothing claims the folder meanwhile: the old manifest is retired and this run holds the lease.
    const wanted = new Set(plan.map((p) => p.key));
    await inSpan(tracer, 'extract and write', { parent: options.trace }, async (span) => {
      const stale = (await listKeys(deps.output, outBucket, folder)).filter((key) => !wanted.has(key));
      if (stale.length > 0) {
        await deps.output.deleteMany(outBucket, stale);
        log.info({ removed: stale.length }, 'removed files the new source does not contain');
      }

      // Offset order keeps ranged reads sequential, so the block cache serves neighbouring entries.
      const ordered = plan
        .map((planned, index) => ({ planned, index }))
        .sort((a, b) => a.planned.entry.localHeaderOffset - b.planned.entry.localHeaderOffset);
      await runPool(ordered, adaptive ?? options.concurrency ?? DEFAULT_CONCURRENCY, ({ planned, index }) =>
        writeEntry(planned, index),
      );
      if (adaptive !== undefined)
        log.debug({ writeConcurrency: adaptive.current }, 'write concurrency at the end');
      span.setAttributes({ [SPAN_ATTRIBUTES.entries]: entriesDone, [SPAN_ATTRIBUTES.bytes]: bytesDone });
      checkAborted(options.signal);
    });

    const manifest = await inSpan(tracer, 'manifest', { parent: options.trace }, async () => {
      // The manifest names the version that was read: a re-upload under the same key between the
      // HEAD and the reads (or during them) would otherwise be recorded under the old ETag.
      const now = await deps.source.head(source.bucket, source.key);
      if (now === undefined || now.etag !== source.etag || now.size !== source.size) {
        throw new LogzipError(
          'storage_unavailable',
          `"${source.key}" changed while it was extracted; retry reads the new version`,
        );
      }
      const finishedAt = clock.now();
      const manifest: Manifest = {
        version: 1,
        logId,
        source,
        output: { bucket: outBucket, prefix: options.output.prefix },
        entries,
        bytes: bytesDone,
        startedAt: startedAt.toISOString(),
        finishedAt: finishedAt.toISOString(),
        durationMs: finishedAt.getTime() - startedAt.getTime(),
        nameEncoding: options.fallbackEncoding,
        ...(options.route === undefined ? {} : { route: options.route }),
        ...(options.requestId === undefined ? {} : { requestId: options.requestId }),
      };
      await deps.state.putManifest(manifest);
      return manifest;
    });
    log.info(
      { status: 'extracted', entries: entries.length, bytes: bytesDone, durationMs: manifest.durationMs },
      'archive extracted',
    );
    return {
      status: 'extracted',
      logId,
      source,
      entries,
      bytes: bytesDone,
      durationMs: manifest.durationMs,
      manifest,
    };
  } catch (thrown) {
    const error = toLogzipError(thrown);
    await removeFolder(deps.output, outBucket, folder, log);
    log.warn(
      { code: error.code, entry: error.entry, retryable: error.retryable },
      'extraction failed, folder cleared',
    );
    throw error;
  }
}

/**
 * Clears a log ID's folder after a failed run so no half-written output can look complete.
 * Best effort: when storage itself is failing, the retry (or the next source) rewrites the folder,
 * and without a manifest the leftovers never count as extracted.
 */
async function removeFolder(
  store: ObjectStore,
  bucket: string,
  folder: string,
  log: { warn(obj: object, msg?: string): void },
): Promise<void> {
  try {
    const keys = await listKeys(store, bucket, folder);
    if (keys.length > 0) await store.deleteMany(bucket, keys);
  } catch (error) {
    log.warn({ err: toLogzipError(error).message }, 'could not clear the folder after a failure');
  }
}

/** Progress inside a large entry is reported at most this often. */
const PROGRESS_INTERVAL_MS = 100;

/** The same bytes, counted on their way to the store (errors of the source end the copy too). */
function countBytes(source: Readable, onBytes: (n: number) => void): Readable {
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
  source.on('error', (error) => counter.destroy(error));
  return source.pipe(counter);
}
