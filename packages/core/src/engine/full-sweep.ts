import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock } from '../ports/clock.js';
import { silentLogger } from '../ports/logger.js';
import type { ObjectInfo } from '../ports/object-store.js';
import type { FullSweepCheckpoint } from '../ports/pending-set.js';
import { SUMMARY_KEY_CHARS } from '../state/index-summary.js';
import { parseInventoryLocation, readInventoryManifest, readInventoryRows } from './inventory.js';
import { runPool } from './pool.js';
import type { SweepOptions, SweepReport, SweepResult, SweepSummary } from './sweep.js';
import {
  actOn,
  archiveLogId,
  type Candidate,
  checkStopped,
  emptySummary,
  failedFor,
  finishSweep,
  namesSource,
  warnOverdue,
} from './sweep-actions.js';

export interface FullSweepOptions extends SweepOptions {
  /** Who holds the lock (default `full-sweep-<uuid>`). */
  owner?: string;
  /** Key ranges (or inventory files) read at once (default 8). */
  parallel?: number;
  /** Objects per second at most, across the ranges (0 or undefined: no limit). */
  ratePerSecond?: number;
  /** An S3 Inventory report's manifest.json (`s3://bucket/key`), read instead of listing. */
  inventory?: string;
  /** Starts over instead of resuming an interrupted run's checkpoint. */
  restart?: boolean;
  /** Archives checked per batch (one index round trip, one checkpoint write); default 500. */
  batchSize?: number;
  /** The lock expires this long after the last batch (default 60 s), so a killed run frees it. */
  lockTtlMs?: number;
  onProgress?: (progress: FullSweepProgress) => void;
}

export interface FullSweepProgress {
  /** Key ranges (listing) or data files (inventory) in all, and finished. */
  units: number;
  unitsDone: number;
  scanned: number;
  archives: number;
  extracted: number;
  failed: number;
  unprocessed: number;
  enqueued: number;
  /** Objects per second in this process. */
  rate: number;
  /** From the share of ranges finished (the ingest layout spreads keys evenly over them). */
  etaSeconds: number | undefined;
  elapsedMs: number;
}

export type FullSweepResult =
  | { status: 'done'; report: SweepReport; resumed: boolean; source: string }
  | { status: 'busy' }
  | { status: 'interrupted'; checkpoint: FullSweepCheckpoint };

interface Unit {
  name: string;
  /** Objects of the unit after `position` (the checkpoint's), each with the position it ends at. */
  read(position: string | undefined): AsyncIterable<{ object: ObjectInfo; position: string }>;
}

const HEX = '0123456789abcdef';
/** Two hex digits: the ingest layout's first shard level (`incoming/<ab>/<cd>/`). */
const SHARDS = [...HEX].flatMap((a) => [...HEX].map((b) => `${a}${b}`));
const COUNTED = [
  'scanned',
  'archives',
  'extracted',
  'failed',
  'superseded',
  'invalidKeys',
  'ignored',
  'gone',
] as const;

/**
 * Key ranges that cover every key under the prefix once, split at the ingest layout's 256 shard
 * folders (`00` … `ff`): the range from `ab` holds the keys from `<prefix>ab` up to the next one, so
 * a key of any other layout still lands in exactly one range (`incoming/x.zip` in the last one).
 */
function listingUnits(options: SweepOptions): Unit[] {
  const { bucket, prefix } = options.incoming;
  const starts = ['', ...SHARDS];
  return starts.map((start, i) => {
    const end = starts[i + 1];
    return {
      name: start === '' ? '-' : start,
      async *read(position) {
        const startAfter = position ?? (start === '' ? undefined : `${prefix}${start}`);
        const stop = end === undefined ? undefined : `${prefix}${end}`;
        for await (const object of options.store.list(
          bucket,
          prefix,
          startAfter === undefined ? {} : { startAfter },
        )) {
          if (stop !== undefined && object.key >= stop) return;
          yield { object, position: object.key };
        }
      },
    };
  });
}

async function inventoryUnits(options: FullSweepOptions, location: string): Promise<Unit[]> {
  const report = await readInventoryManifest(options.store, parseInventoryLocation(location));
  const { bucket, prefix } = options.incoming;
  return report.files.map((file) => ({
    name: file,
    async *read(position) {
      for await (const { row, position: at } of readInventoryRows(
        options.store,
        report,
        file,
        position === undefined ? 0 : Number(position),
      )) {
        if (row.bucket !== bucket || !row.key.startsWith(prefix)) continue;
        const object: ObjectInfo = {
          bucket,
          key: row.key,
          size: row.size ?? 0,
          etag: row.etag ?? '',
          lastModified: row.lastModified ?? new Date(0),
        };
        yield { object, position: String(at) };
      }
    },
  }));
}

async function* batches<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** The index keeps keys cut to SUMMARY_KEY_CHARS: a longer key matches on what is kept. */
function keyMatches(indexed: string, key: string): boolean {
  return key.length > SUMMARY_KEY_CHARS ? key.startsWith(indexed) : indexed === key;
}

/**
 * Checks one batch of listed archives: the index answers for most (one round trip for the whole
 * batch), the objects for the rest (the index may lag a write, and it is not the truth).
 */
async function checkBatch(
  options: FullSweepOptions,
  objects: ObjectInfo[],
  summary: SweepSummary,
  fromInventory: boolean,
): Promise<Candidate[]> {
  const newest = new Map<string, ObjectInfo>();
  for (const object of objects) {
    summary.scanned += 1;
    const logId = archiveLogId(object, options.logIdPattern, summary);
    if (logId === undefined) continue;
    const current = newest.get(logId);
    if (current === undefined) {
      newest.set(logId, object);
    } else {
      summary.superseded += 1;
      if (object.lastModified > current.lastModified) newest.set(logId, object);
    }
  }
  summary.archives += newest.size;
  const looked = options.index === undefined ? new Map() : await options.index.lookupMany([...newest.keys()]);
  const toConfirm: Candidate[] = [];
  for (const [logId, archive] of newest) {
    const { manifest, failure } = looked.get(logId) ?? {};
    if (
      manifest !== undefined &&
      manifest.etag === archive.etag &&
      keyMatches(manifest.sourceKey, archive.key)
    ) {
      summary.extracted += 1;
      continue;
    }
    if (
      failure !== undefined &&
      failure.state === 'failed' &&
      keyMatches(failure.sourceKey, archive.key) &&
      Date.parse(failure.updatedAt) >= archive.lastModified.getTime()
    ) {
      summary.failed += 1;
      continue;
    }
    toConfirm.push({ logId, archive });
  }
  const unprocessed: Candidate[] = [];
  await runPool(toConfirm, options.concurrency ?? 16, async ({ logId, archive: listed }) => {
    let archive = listed;
    // An inventory row is up to a day old, and may lack the ETag: the object itself decides.
    if (fromInventory) {
      const current = await options.store.head(listed.bucket, listed.key);
      if (current === undefined) {
        summary.gone += 1;
        return;
      }
      archive = current;
    }
    const manifest = await options.state.getManifest(logId);
    if (namesSource(manifest?.source, archive)) {
      summary.extracted += 1;
      return;
    }
    // Another key of the same log ID was extracted: this one is older (superseded) or a re-upload.
    if (
      manifest !== undefined &&
      manifest.source.bucket === archive.bucket &&
      manifest.source.key !== archive.key
    ) {
      const other = await options.store.head(archive.bucket, manifest.source.key);
      if (other !== undefined && other.lastModified > archive.lastModified) {
        summary.superseded += 1;
        return;
      }
    }
    if (failedFor(await options.state.getFailure(logId), archive)) {
      summary.failed += 1;
      return;
    }
    unprocessed.push({ logId, archive });
  });
  return unprocessed;
}

/** Spaces the batches so that the objects read stay at or under `ratePerSecond`. */
function rateLimiter(ratePerSecond: number | undefined) {
  const started = Date.now();
  let taken = 0;
  return async (count: number, signal?: AbortSignal) => {
    if (ratePerSecond === undefined || ratePerSecond <= 0) return;
    const due = started + (taken * 1000) / ratePerSecond;
    taken += count;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait, undefined, signal === undefined ? {} : { signal }).catch(() => {});
  };
}

/**
 * Reads every archive under the incoming prefix, for archives nobody announced (uploaded while the
 * trigger was off, or before Redis lost the pending set), and enqueues the unextracted ones like
 * the periodic sweep; each one found is also put into the pending set, so the periodic sweep
 * follows it up.
 *
 * Lists 257 key ranges (split at the ingest layout's shard folders) `parallel` at a time, or reads
 * an S3 Inventory report instead (`inventory`: its manifest.json; CSV). Checks each batch against
 * the index in one round trip and reads objects only for what the index cannot confirm.
 * Rate-limited (`ratePerSecond`). Resumable: after each batch the checkpoint (ranges done, and how
 * far each started one got) is in Redis, and a run that finds one continues from it. One run at a
 * time: another gets `busy`. A finished real run records its start as the baseline the periodic
 * sweep relies on. Without a pending set (no Redis) it still works, without lock or checkpoint.
 *
 * @example
 * const result = await fullSweep({ ...sweepOptions, pending: index.pending, index, ratePerSecond: 5_000 });
 */
export async function fullSweep(options: FullSweepOptions): Promise<FullSweepResult> {
  const clock = options.clock ?? systemClock;
  const log = (options.logger ?? silentLogger).child({ component: 'sweeper', mode: 'full' });
  const { pending } = options;
  const dryRun = options.dryRun ?? false;
  const owner = options.owner ?? `full-sweep-${randomUUID()}`;
  const ttl = options.lockTtlMs ?? 60_000;
  const lock = pending?.fullSweep;
  if (lock !== undefined && !(await lock.acquire(owner, ttl))) return { status: 'busy' };
  const started = clock.now().getTime();
  const startedMs = Date.now();
  try {
    const route = (await options.routes.get()) ?? 'unknown';
    const source = options.inventory ?? 'listing';
    // A dry run neither resumes nor leaves a checkpoint: it changes nothing.
    let checkpoint =
      dryRun || options.restart || lock === undefined ? undefined : await lock.readCheckpoint();
    if (checkpoint !== undefined && checkpoint.source !== source) checkpoint = undefined;
    const resumed = checkpoint !== undefined;
    const state: FullSweepCheckpoint = checkpoint ?? {
      runId: randomUUID(),
      source,
      startedAt: clock.now().toISOString(),
      done: [],
      positions: {},
      counts: {},
    };
    const units =
      options.inventory === undefined
        ? listingUnits(options)
        : await inventoryUnits(options, options.inventory);
    const summary = emptySummary(route, dryRun, 'full');
    for (const name of COUNTED) summary[name] = state.counts[name] ?? 0;
    const scannedAtStart = summary.scanned;
    const done = new Set(state.done);
    const todo = units.filter((u) => !done.has(u.name));
    const doneAtStart = units.length - todo.length;
    const results: SweepResult[] = [];
    let overdue = 0;
    const limit = rateLimiter(options.ratePerSecond);
    const save = async () => {
      if (dryRun || lock === undefined) return;
      for (const name of COUNTED) state.counts[name] = summary[name];
      if (!(await lock.renew(owner, ttl))) {
        throw new Error('the full sweep lost its lock (expired, or Redis was flushed): stopping');
      }
      await lock.writeCheckpoint(state);
    };
    const progress = () => {
      if (options.onProgress === undefined) return;
      const elapsedMs = Date.now() - startedMs;
      const finishedHere = done.size - doneAtStart;
      const rate = Math.round(((summary.scanned - scannedAtStart) * 1000) / Math.max(1, elapsedMs));
      options.onProgress({
        units: units.length,
        unitsDone: done.size,
        scanned: summary.scanned,
        archives: summary.archives,
        extracted: summary.extracted,
        failed: summary.failed,
        unprocessed: summary.unprocessed,
        enqueued: summary.enqueued,
        rate,
        etaSeconds:
          finishedHere > 0
            ? Math.ceil(((units.length - done.size) * elapsedMs) / finishedHere / 1000)
            : undefined,
        elapsedMs,
      });
    };
    try {
      await runPool(todo, options.parallel ?? 8, async (unit) => {
        for await (const batch of batches(unit.read(state.positions[unit.name]), options.batchSize ?? 500)) {
          checkStopped(options.signal);
          await limit(batch.length, options.signal);
          const found = await checkBatch(
            options,
            batch.map((b) => b.object),
            summary,
            options.inventory !== undefined,
          );
          const acted = await actOn(options, route, summary, found);
          results.push(...acted.results);
          overdue += acted.overdue;
          if (!dryRun && pending !== undefined) {
            // The periodic sweep follows them up (and, under lambda, takes them once past grace).
            for (const { logId, archive } of found) {
              await pending.observe(
                { logId, bucket: archive.bucket, key: archive.key },
                archive.lastModified,
              );
            }
          }
          state.positions[unit.name] = (batch.at(-1) as { position: string }).position;
          await save();
          progress();
        }
        done.add(unit.name);
        state.done.push(unit.name);
        delete state.positions[unit.name];
        await save();
        progress();
      });
    } catch (error) {
      if (options.signal?.aborted && lock !== undefined && !dryRun) {
        log.info({ done: done.size, units: units.length }, 'full sweep interrupted: the next run resumes');
        return { status: 'interrupted', checkpoint: state };
      }
      throw error;
    }
    if (!dryRun && pending !== undefined) {
      await pending.setBaseline(new Date(state.startedAt));
      await lock?.clearCheckpoint();
    }
    warnOverdue(options, summary, overdue, log);
    const report = await finishSweep(options, summary, results, started, log);
    return { status: 'done', report, resumed, source };
  } finally {
    await lock?.release(owner).catch(() => {});
  }
}
