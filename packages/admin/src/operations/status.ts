import {
  type FailureRecord,
  isLogzipError,
  type Manifest,
  type ObjectInfo,
  resolveArchive,
} from '@logzip/core';
import type { OperationsContext, QueueJobView } from './context.js';
import { assertLogId } from './keys.js';

/** One event in a log ID's life, oldest first: uploads, attempts, extractions, queue runs. */
export interface TimelineEvent {
  at: string;
  kind:
    | 'uploaded'
    | 'attempt_failed'
    | 'extracted'
    | 'resolved'
    | 'queued'
    | 'job_processed'
    | 'job_finished';
  detail: string;
}

export interface ArchiveStatus {
  logId: string;
  /** Whether logzip knows anything about this log ID. */
  found: boolean;
  /** The log ID's archive (newest by LastModified), or null when there is none. */
  archive: { bucket: string; key: string; size: number; etag: string; lastModified: string } | null;
  /** Whether the current manifest names exactly this archive (key and ETag). */
  extracted: boolean;
  manifest: Manifest | null;
  failure: FailureRecord | null;
  history: Manifest[];
  queue: QueueJobView | null;
  timeline: TimelineEvent[];
}

function view(info: ObjectInfo): NonNullable<ArchiveStatus['archive']> {
  return {
    bucket: info.bucket,
    key: info.key,
    size: info.size,
    etag: info.etag,
    lastModified: info.lastModified.toISOString(),
  };
}

/** Everything about one log ID: its archive, manifest, failure record, history and queue job. */
export async function getArchiveStatus(ctx: OperationsContext, logId: string): Promise<ArchiveStatus> {
  assertLogId(logId);
  const { settings } = ctx;
  const [manifest, failure, history, queue, archive] = await Promise.all([
    ctx.state.getManifest(logId),
    ctx.state.getFailure(logId),
    ctx.state.listHistory(logId),
    ctx.queue.job(logId).catch(() => undefined),
    resolveArchive(ctx.store, ctx.state, logId, {
      bucket: settings.incoming.bucket,
      incomingPrefix: settings.incoming.prefix,
      logIdPattern: settings.logIdPattern,
      listIncoming: false,
    }).catch((error: unknown) => {
      if (isLogzipError(error) && error.code === 'source_not_found') return undefined;
      throw error;
    }),
  ]);

  const timeline: TimelineEvent[] = [];
  if (archive !== undefined) {
    timeline.push({
      at: archive.lastModified.toISOString(),
      kind: 'uploaded',
      detail: `${archive.key} (${archive.size} bytes)`,
    });
  }
  for (const old of history) {
    timeline.push({
      at: old.finishedAt,
      kind: 'extracted',
      detail: `${old.source.key} (${old.entries.length} files, since replaced)`,
    });
  }
  if (manifest !== undefined) {
    timeline.push({
      at: manifest.finishedAt,
      kind: 'extracted',
      detail: `${manifest.source.key}: ${manifest.entries.length} files, ${manifest.bytes} bytes via ${manifest.route ?? 'unknown'} in ${manifest.durationMs} ms`,
    });
  }
  for (const attempt of failure?.attempts ?? []) {
    const id = attempt.requestId ?? attempt.jobId;
    timeline.push({
      at: attempt.at,
      kind: 'attempt_failed',
      detail: `attempt ${attempt.attempt} (${attempt.run} run, attempt ${attempt.runAttempt}) via ${attempt.route}${id === undefined ? '' : ` (${id})`}: ${attempt.code}: ${attempt.message}`,
    });
  }
  if (failure?.resolvedAt !== undefined) {
    timeline.push({
      at: failure.resolvedAt,
      kind: 'resolved',
      detail: 'the failure record was resolved by a successful run',
    });
  }
  if (queue !== undefined) {
    if (queue.createdAt !== null)
      timeline.push({
        at: queue.createdAt,
        kind: 'queued',
        detail: `job ${queue.id} (${queue.reason ?? 'unknown reason'})`,
      });
    if (queue.processedAt !== null)
      timeline.push({ at: queue.processedAt, kind: 'job_processed', detail: `job ${queue.id} started` });
    if (queue.finishedAt !== null) {
      timeline.push({
        at: queue.finishedAt,
        kind: 'job_finished',
        detail: `job ${queue.id} ${queue.state}${queue.failedReason === null ? '' : `: ${queue.failedReason}`}`,
      });
    }
  }
  timeline.sort((a, b) => a.at.localeCompare(b.at));

  // A manifest for an archive that was since replaced by a newer upload is not this archive's.
  const extracted =
    manifest !== undefined &&
    (archive === undefined || (manifest.source.key === archive.key && manifest.source.etag === archive.etag));
  return {
    logId,
    found:
      archive !== undefined ||
      manifest !== undefined ||
      failure !== undefined ||
      history.length > 0 ||
      queue !== undefined,
    archive: archive === undefined ? null : view(archive),
    extracted,
    manifest: manifest ?? null,
    failure: failure ?? null,
    history,
    queue: queue ?? null,
    timeline,
  };
}
