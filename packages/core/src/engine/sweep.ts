import type { QueueProducer } from '../job.js';
import { type Clock, systemClock } from '../ports/clock.js';
import type { FailureIndex } from '../ports/failure-index.js';
import { type Logger, silentLogger } from '../ports/logger.js';
import type { ObjectInfo, ObjectStore } from '../ports/object-store.js';
import type { PendingSet } from '../ports/pending-set.js';
import type { Route, RouteStore } from '../ports/route.js';
import type { StateStore } from '../state/state-store.js';
import type { FailureRecord } from '../state/types.js';
import { fullSweep } from './full-sweep.js';
import { runPool } from './pool.js';
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

/** What the sweeper did (or, in a dry run, would do) with one unprocessed archive. */
export type SweepOutcome =
  | 'enqueued'
  | 'already_queued'
  | 'would_enqueue'
  | 'waiting_for_trigger'
  | 'refused'
  | 'error';

export interface SweepResult {
  logId: string;
  outcome: SweepOutcome;
  detail: string;
  key: string;
}

export interface SweepSummary {
  /** The route flag at the time; `unknown` is swept like `lambda`. */
  route: Route | 'unknown';
  dryRun: boolean;
  /**
   * `pending`: only the pending set's entries past their grace time were checked; `full`: the
   * incoming prefix (or an inventory report) was read whole; `listing`: no pending set (no index),
   * the whole prefix was listed.
   */
  mode: 'listing' | 'pending' | 'full';
  /** Objects listed (full, listing) or pending entries checked (pending). */
  scanned: number;
  /** Pending entries whose archive no longer exists (they leave the set). */
  gone: number;
  /** Distinct log IDs with at least one archive. */
  archives: number;
  /** Archives whose manifest names exactly this source (key and ETag). */
  extracted: number;
  /** Archives with a `failed` record newer than the upload (operators decide; the sweeper does not retry them). */
  failed: number;
  /** Older archives of a log ID that has a newer one. */
  superseded: number;
  /** `.zip` keys that yield no log ID. */
  invalidKeys: number;
  invalidKeySamples: string[];
  /** Objects that are not `.zip` files. */
  ignored: number;
  /** Archives with neither a manifest for their source nor a failed record. */
  unprocessed: number;
  enqueued: number;
  alreadyQueued: number;
  wouldEnqueue: number;
  waitingForTrigger: number;
  refused: number;
  errors: number;
  backlog: { count: number; oldestLastModified?: string; oldestAgeSeconds: number };
  durationMs: number;
}

export interface SweepReport {
  results: SweepResult[];
  summary: SweepSummary;
}

/** What other processes (metrics, admin) see of the last sweep. */
export interface SweepSnapshot {
  at: string;
  route: Route | 'unknown';
  dryRun: boolean;
  backlog: { count: number; oldestLastModified?: string };
}

export interface SweepOptions {
  /** Where archives arrive. */
  store: ObjectStore;
  incoming: { bucket: string; prefix: string };
  state: StateStore;
  producer: QueueProducer & { getJobState?(logId: string): Promise<string | undefined> };
  routes: RouteStore;
  logIdPattern: RegExp;
  /** Under the `lambda` route (or an unknown one), archives younger than this are left to the trigger. */
  graceMs: number;
  dryRun?: boolean;
  /** Manifest look-ups in parallel (default 16). */
  concurrency?: number;
  logger?: Logger;
  clock?: Clock;
  /** Stops the sweep early (shutdown): it throws instead of finishing. */
  signal?: AbortSignal;
  /** Called with the backlog after a real (not dry) run, e.g. to share it through Redis. */
  publish?: (snapshot: SweepSnapshot) => Promise<void>;
  /**
   * The pending set (the failure index's): the sweep then checks only its entries past their grace
   * time, and reads everything (fullSweep) only when it must: no full sweep has finished since Redis
   * last lost the set, or the route is `queue` while direct uploads announce nothing
   * (`listUnderQueueRoute`).
   */
  pending?: PendingSet;
  /** The index's batch lookup: a full sweep checks listed archives with it before reading any object. */
  index?: Pick<FailureIndex, 'lookupMany'>;
  /** Under the `queue` route nothing announces a direct upload (LOGZIP_TRIGGER_MODE=direct): read everything. Default true. */
  listUnderQueueRoute?: boolean;
  /** Pending entries checked per run at most (default 50,000): the rest wait for the next run. */
  maxPending?: number;
}

/**
 * Finds archives nobody extracted and enqueues them (reason `sweep`).
 *
 * With a pending set (the worker, the CLI: `pending`), a run checks only the archives observed and
 * not yet settled whose grace time has passed (every route: the ingest API, a notify, the
 * Lambda's event and a worker's job mark them; a manifest or a final failure settles them), so
 * its cost follows what changed, not the history. It reads everything (fullSweep) only when it
 * must: while no full sweep has finished since Redis last lost the set (a flush, a new server, the
 * first run of this version), and under the `queue` route when direct uploads announce nothing.
 * Without a pending set it lists the incoming prefix as it always did.
 *
 * Each archive is checked the same way: skipped when its manifest names exactly that source (key
 * and ETag) or its `failed` record is newer than the upload. Under the `queue` route the rest are
 * enqueued at once; under `lambda` (or when nobody set the route) only those older than the grace
 * period, since the trigger should have handled them: finding any is logged as a warning (a
 * trigger that silently stopped).
 *
 * @example
 * const { results, summary } = await sweep({ store, incoming, state, producer, routes, logIdPattern, graceMs, pending, dryRun: true });
 */
export async function sweep(options: SweepOptions): Promise<SweepReport> {
  const clock = options.clock ?? systemClock;
  const log = (options.logger ?? silentLogger).child({ component: 'sweeper' });
  const started = clock.now().getTime();
  const route = (await options.routes.get()) ?? 'unknown';
  const pending = options.pending;
  if (pending !== undefined) {
    const baseline = await pending.baseline();
    const mustList = route === 'queue' && (options.listUnderQueueRoute ?? true);
    if (baseline === undefined || mustList) {
      const why =
        baseline === undefined
          ? 'no full sweep has finished since Redis lost the pending set (or ever): reading everything once'
          : 'the queue route with direct uploads: nothing announces them, so every archive is read';
      const full = await fullSweep({ ...options, owner: `periodic-${started}` });
      if (full.status === 'done') {
        log.info({ reason: why }, 'the periodic sweep read everything');
        return full.report;
      }
      // Another full sweep holds the lock (or this one was stopped): the pending entries still get checked.
      log.info({ status: full.status }, 'a full sweep is already running: checking the pending set only');
    }
    const summary = emptySummary(route, options.dryRun ?? false, 'pending');
    const unprocessed = await checkPending(options, pending, route, summary);
    const { results, overdue } = await actOn(options, route, summary, unprocessed);
    warnOverdue(options, summary, overdue, log);
    return finishSweep(options, summary, results, started, log);
  }
  const summary = emptySummary(route, options.dryRun ?? false, 'listing');
  const unprocessed = await checkListing(options, summary);
  const { results, overdue } = await actOn(options, route, summary, unprocessed);
  warnOverdue(options, summary, overdue, log);
  return finishSweep(options, summary, results, started, log);
}

/** The pending entries past their grace time (any age under `queue`), checked against their objects. */
async function checkPending(
  options: SweepOptions,
  pending: PendingSet,
  route: Route | 'unknown',
  summary: SweepSummary,
): Promise<Candidate[]> {
  const clock = options.clock ?? systemClock;
  const dryRun = options.dryRun ?? false;
  const now = clock.now().getTime();
  const before = new Date(route === 'queue' ? now : now - options.graceMs);
  const entries = await pending.due(before, options.maxPending ?? 50_000);
  const unprocessed: Candidate[] = [];
  const settled = async (logId: string) => {
    if (!dryRun) await pending.remove(logId);
  };
  await runPool(entries, options.concurrency ?? 16, async (entry) => {
    checkStopped(options.signal);
    summary.scanned += 1;
    if (entry.key === '') {
      summary.gone += 1;
      await settled(entry.logId);
      return;
    }
    const archive = await options.store.head(entry.bucket, entry.key);
    if (archive === undefined) {
      summary.gone += 1;
      await settled(entry.logId);
      return;
    }
    summary.archives += 1;
    const manifest = await options.state.getManifest(entry.logId);
    if (namesSource(manifest?.source, archive)) {
      summary.extracted += 1;
      await settled(entry.logId);
      return;
    }
    if (failedFor(await options.state.getFailure(entry.logId), archive)) {
      summary.failed += 1;
      await settled(entry.logId);
      return;
    }
    unprocessed.push({ logId: entry.logId, archive });
  });
  return unprocessed;
}

/** The whole incoming prefix in one listing, each log ID's newest archive checked (no index). */
async function checkListing(options: SweepOptions, summary: SweepSummary): Promise<Candidate[]> {
  const { bucket, prefix } = options.incoming;
  // Each log ID's archive is its newest (by LastModified), as everywhere else in logzip.
  const newest = new Map<string, ObjectInfo>();
  for await (const object of options.store.list(bucket, prefix)) {
    if (summary.scanned % 1000 === 0) checkStopped(options.signal);
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
  summary.archives = newest.size;

  const failures = new Map<string, FailureRecord>();
  for (const record of await options.state.listFailures({ state: 'failed' }))
    failures.set(record.logId, record);

  const unprocessed: Candidate[] = [];
  await runPool([...newest.entries()], options.concurrency ?? 16, async ([logId, archive]) => {
    checkStopped(options.signal);
    const manifest = await options.state.getManifest(logId);
    if (namesSource(manifest?.source, archive)) {
      summary.extracted += 1;
      return;
    }
    if (failedFor(failures.get(logId), archive)) {
      summary.failed += 1;
      return;
    }
    unprocessed.push({ logId, archive });
  });
  return unprocessed;
}
