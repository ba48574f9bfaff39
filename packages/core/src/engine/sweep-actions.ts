import { parseLogId } from '../log-id.js';
import { systemClock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { ObjectInfo } from '../ports/object-store.js';
import type { Route } from '../ports/route.js';
import type { FailureRecord, SourceRef } from '../state/types.js';
import type { SweepOptions, SweepReport, SweepResult, SweepSnapshot, SweepSummary } from './sweep.js';

/** An archive with neither a manifest naming it nor a newer `failed` record. */
export interface Candidate {
  logId: string;
  archive: ObjectInfo;
}

const PENDING_JOB_STATES = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

export function checkStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Error('the sweep was stopped before it finished (shutting down)');
}

function age(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}

export function emptySummary(
  route: Route | 'unknown',
  dryRun: boolean,
  mode: SweepSummary['mode'],
): SweepSummary {
  return {
    route,
    dryRun,
    mode,
    scanned: 0,
    gone: 0,
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
}

/** The archive's log ID, or undefined (counted as ignored or invalid) for what is not an archive. */
export function archiveLogId(object: ObjectInfo, pattern: RegExp, summary: SweepSummary): string | undefined {
  if (!object.key.toLowerCase().endsWith('.zip')) {
    summary.ignored += 1;
    return undefined;
  }
  try {
    return parseLogId(object.key, pattern);
  } catch {
    summary.invalidKeys += 1;
    if (summary.invalidKeySamples.length < 10) summary.invalidKeySamples.push(object.key);
    return undefined;
  }
}

/** Whether a manifest's source is exactly this archive (bucket, key and ETag). */
export function namesSource(source: SourceRef | undefined, archive: ObjectInfo): boolean {
  return (
    source !== undefined &&
    source.bucket === archive.bucket &&
    source.key === archive.key &&
    source.etag === archive.etag
  );
}

/** A failed record counts for this archive when it is about this key and newer than the upload. */
export function failedFor(record: FailureRecord | undefined, archive: ObjectInfo): boolean {
  if (record === undefined || record.state !== 'failed') return false;
  if (record.source.bucket !== archive.bucket || record.source.key !== archive.key) return false;
  return Date.parse(record.updatedAt) >= archive.lastModified.getTime();
}

/**
 * Enqueues the unprocessed archives (oldest first): all of them under `queue`, only those past the
 * grace period under `lambda` or an unset route; a dry run only says what it would do. Fills the
 * summary's backlog and counts; returns one result per archive.
 */
export async function actOn(
  options: SweepOptions,
  route: Route | 'unknown',
  summary: SweepSummary,
  unprocessed: Candidate[],
): Promise<{ results: SweepResult[]; overdue: number }> {
  const clock = options.clock ?? systemClock;
  const dryRun = options.dryRun ?? false;
  unprocessed.sort((a, b) => a.archive.lastModified.getTime() - b.archive.lastModified.getTime());
  summary.unprocessed += unprocessed.length;
  summary.backlog.count += unprocessed.length;
  const now = clock.now().getTime();
  const oldest = unprocessed[0]?.archive.lastModified;
  if (
    oldest !== undefined &&
    (summary.backlog.oldestLastModified === undefined ||
      oldest.toISOString() < summary.backlog.oldestLastModified)
  ) {
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
        if (state !== undefined && PENDING_JOB_STATES.has(state)) {
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
  return { results, overdue };
}

/** A trigger that silently stopped is what the sweeper is there to catch: say so once per run. */
export function warnOverdue(
  options: SweepOptions,
  summary: SweepSummary,
  overdue: number,
  log: Logger,
): void {
  if (overdue === 0) return;
  const { route, dryRun } = summary;
  log.warn(
    { route, overdue, oldest: summary.backlog.oldestLastModified, graceMs: options.graceMs, dryRun },
    `the sweeper found ${overdue} archive(s) older than the grace period that the ${route} route did not extract: ` +
      'is the S3 trigger still configured?',
  );
}

/** Logs the run, publishes the backlog after a real run, and returns the report. */
export async function finishSweep(
  options: SweepOptions,
  summary: SweepSummary,
  results: SweepResult[],
  started: number,
  log: Logger,
): Promise<SweepReport> {
  const clock = options.clock ?? systemClock;
  const { dryRun } = summary;
  summary.durationMs = clock.now().getTime() - started;
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
      route: summary.route,
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
