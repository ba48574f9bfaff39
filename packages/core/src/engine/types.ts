import type { Limits } from '../config.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { Tracer, TraceSpan } from '../ports/tracer.js';
import type { StateStore } from '../state/state-store.js';
import type { Manifest, ManifestEntry, SourceRef } from '../state/types.js';

export interface ExtractDeps {
  /** Where the archive is read from. */
  source: ObjectStore;
  /** Where extracted files go. */
  output: ObjectStore;
  state: StateStore;
  logger?: Logger;
  clock?: Clock;
  /** Spans per phase (read directory, extract and write, manifest) under `options.trace`; none by default. */
  tracer?: Tracer;
}

export interface ExtractProgress {
  entriesDone: number;
  entriesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  /** Writes allowed at once right now (adapts on stores with a `maxConcurrency`). */
  writeConcurrency: number;
}

export interface ExtractOptions {
  logId: string;
  source: { bucket: string; key: string };
  output: { bucket: string; prefix: string };
  limits: Limits;
  fallbackEncoding: string;
  /** Re-extract even if the current manifest names this source. */
  force?: boolean;
  /** Aborting stops the run cleanly: no manifest, written files removed, LogzipError `timeout`. */
  signal?: AbortSignal;
  /**
   * Parallel object writes, fixed. Default: 8, adapting up to the output store's `maxConcurrency`
   * (S3: the socket pool) and halving when puts need retries (503 SlowDown); archives of large
   * entries stay nearer 8, so the bodies in flight hold at most about 128 MiB.
   */
  concurrency?: number;
  route?: Manifest['route'];
  requestId?: string;
  onProgress?: (progress: ExtractProgress) => void;
  /** The route's span for this archive: the phases' parent. */
  trace?: TraceSpan;
  /** How long a run's lease on its log ID lasts without renewal (renewed every third of it). Default 60 s. */
  leaseTtlMs?: number;
  /** How long to wait for another run's lease before failing with a retryable error. Default 30 s. */
  leaseWaitMs?: number;
}

export interface ExtractResult {
  status: 'extracted' | 'already_extracted';
  logId: string;
  source: SourceRef;
  entries: ManifestEntry[];
  bytes: number;
  durationMs: number;
  manifest: Manifest;
}
