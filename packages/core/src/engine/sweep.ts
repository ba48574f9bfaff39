import type { QueueProducer } from '../job.js';
import { parseLogId } from '../log-id.js';
import { type Clock, systemClock } from '../ports/clock.js';
import { type Logger, silentLogger } from '../ports/logger.js';
import type { ObjectInfo, ObjectStore } from '../ports/object-store.js';
import type { Route, RouteStore } from '../ports/route.js';
import type { StateStore } from '../state/state-store.js';
import type { FailureRecord } from '../state/types.js';
import { runPool } from './pool.js';

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
  /** Objects listed under the incoming prefix. */
  scanned: number;
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
}

const PENDING = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

function checkStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Error('the sweep was stopped before it finished (shutting down)');
}

function age(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}

/** A failed record counts for this archive when it is about this key and newer than the upload. */
function failedFor(record: FailureRecord | undefined, archive: ObjectInfo): boolean {
  if (record === undefined || record.state !== 'failed') return false;
  if (record.source.bucket !== archive.bucket || record.source.key !== archive.key) return false;
  return Date.parse(record.updatedAt) >= archive.lastModified.getTime();
}

/**
 * Finds archives nobody extracted and enqueues them (reason `sweep`).
 *
 * Lists the incoming prefix (paged by the store), takes each log ID's newest archive, and skips
 * those whose manifest names exactly that source (key and ETag) or whose `failed` record is newer
 * than the upload. Under the `queue` route the rest are enqueued at once; under `lambda` (or when
 * nobody set the route) only those older than the grace period, since the trigger should have
 * handled them: finding any is logged as a warning (a trigger that silently stopped).
 *
 * @example
 * const { results, summary } = await sweep({ store, incoming, state, producer, routes, logIdPattern, graceMs, dryRun: true });
 */
export async function sweep(options: SweepOptions): Promise<SweepReport> {
  const clock = options.clock ?? systemClock;
  const log = (options.logger ?? silentLogger).child({ component: 'sweeper' });
  const started = clock.now().getTime();
  const dryRun = options.dryRun ?? false;
  const route = (await options.routes.get()) ?? 'unknown';
  const { bucket, prefix } = options.incoming;

  const summary: SweepSummary = {
    route,
    dryRun,
    scanned: 0,
    archives: 0,
    extracted: 0,
    failed: 0,
    superseded: 0,
    invalidKeys: 0,
    invalidKeySamples: [],
    ignored: 0,
    unprocessed: 0,
    enqueued: 0,
    alreadyQueued: 0,
    wouldEnqueue: 0,
    waitingForTrigger: 0,
    refused: 0,
    errors: 0,
    backlog: { count: 0, oldestAgeSeconds: 0 },
    durationMs: 0,
  };

  // Each log ID's archive is its newest (by LastModified), as everywhere else in logzip.
  const newest = new Map<string, ObjectInfo>();
  for await (const object of options.store.list(bucket, prefix)) {
    if (summary.scanned % 1000 === 0) checkStopped(options.signal);
    summary.scanned += 1;
    if (!object.key.toLowerCase().endsWith('.zip')) {
      summary.ignored += 1;
      continue;
    }
    let logId: string;
    try {
      logId = parseLogId(object.key, options.logIdPattern);
    } catch {
      summary.invalidKeys += 1;
      if (summary.invalidKeySamples.length < 10) summary.invalidKeySamples.push(object.key);
      continue;
    }
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

  const now = clock.now().getTime();
  const unprocessed: Array<{ logId: string; archive: ObjectInfo }> = [];
  await runPool([...newest.entries()], options.concurrency ?? 16, async ([logId, archive]) => {
    checkStopped(options.signal);
    const manifest = await options.state.getManifest(logId);
    const source = manifest?.source;
    if (source !== undefined && source.bucket === archive.bucket && source.key === archive.key) {
      if (source.etag === archive.etag) {
        summary.extracted += 1;
        return;
      }
    }
    if (failedFor(failures.get(logId), archive)) {
      summary.failed += 1;
      return;
    }
    unprocessed.push({ logId, archive });
  });
  unprocessed.sort((a, b) => a.archive.lastModified.getTime() - b.archive.lastModified.getTime());
  summary.unprocessed = unprocessed.length;
  summary.backlog.count = unprocessed.length;
  const oldest = unprocessed[0]?.archive.lastModified;
  if (oldest !== undefined) {
    summary.backlog.oldestLastModified = oldest.toISOString();
    summary.backlog.oldestAgeSeconds = Math.max(0, Math.round((now - oldest.getTime()) / 1000));
  }

  const results: SweepResult[] = [];
  const waitForTrigger = route !== 'queue';
  let overdue = 0;
  for (const { logId, archive } of unprocessed) {
    checkStopped(options.signal);
    const ageMs = now - archive.lastModified.getTime();
    const base = `${archive.key}: no manifest for this source, ${age(ageMs)} old`;
    if (waitForTrigger && ageMs < options.graceMs) {
      summary.waitingForTrigger += 1;
      results.push({
        logId,
        key: archive.key,
        outcome: 'waiting_for_trigger',
        detail: `${base}; under the ${route} route the trigger gets ${age(options.graceMs)} first`,
      });
      continue;
    }
    if (waitForTrigger) overdue += 1;
    try {
      if (dryRun) {
        const state = await options.producer.getJobState?.(logId);
        if (state !== undefined && PENDING.has(state)) {
          summary.alreadyQueued += 1;
          results.push({
            logId,
            key: archive.key,
            outcome: 'already_queued',
            detail: `${base}; its job is ${state}`,
          });
        } else {
          summary.wouldEnqueue += 1;
          results.push({ logId, key: archive.key, outcome: 'would_enqueue', detail: base });
        }
        continue;
      }
      const enqueued = await options.producer.enqueue({
        logId,
        bucket: archive.bucket,
        key: archive.key,
        reason: 'sweep',
      });
      if (enqueued.outcome === 'enqueued') {
        summary.enqueued += 1;
        results.push({
          logId,
          key: archive.key,
          outcome: 'enqueued',
          detail: `${base}; job ${enqueued.jobId}`,
        });
      } else if (enqueued.outcome === 'already_queued') {
        summary.alreadyQueued += 1;
        results.push({
          logId,
          key: archive.key,
          outcome: 'already_queued',
          detail: `${base}; job ${enqueued.jobId}`,
        });
      } else {
        summary.refused += 1;
        results.push({ logId, key: archive.key, outcome: 'refused', detail: `${base}; ${enqueued.reason}` });
      }
    } catch (error) {
      summary.errors += 1;
      const message = error instanceof Error ? error.message : String(error);
      results.push({
        logId,
        key: archive.key,
        outcome: 'error',
        detail: `${base}; enqueue failed: ${message}`,
      });
    }
  }

  summary.durationMs = clock.now().getTime() - started;
  if (overdue > 0) {
    log.warn(
      { route, overdue, oldest: summary.backlog.oldestLastModified, graceMs: options.graceMs, dryRun },
      `the sweeper found ${overdue} archive(s) older than the grace period that the ${route} route did not extract: ` +
        'is the S3 trigger still configured?',
    );
  }
  if (summary.invalidKeys > 0) {
    log.warn(
      { invalidKeys: summary.invalidKeys, samples: summary.invalidKeySamples },
      'archives whose key yields no log ID',
    );
  }
  log.info(
    { ...summary, invalidKeySamples: undefined },
    dryRun ? 'sweep (dry run) finished' : 'sweep finished',
  );
  if (!dryRun && options.publish !== undefined) {
    const snapshot: SweepSnapshot = {
      at: clock.now().toISOString(),
      route,
      dryRun,
      backlog: {
        count: summary.backlog.count,
        ...(summary.backlog.oldestLastModified === undefined
          ? {}
          : { oldestLastModified: summary.backlog.oldestLastModified }),
      },
    };
    await options.publish(snapshot).catch((error: unknown) => {
      log.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'could not publish the sweep backlog',
      );
    });
  }
  return { results, summary };
}
