import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  isLogzipError,
  type Logger,
  type ObjectStore,
  type QueueProducer,
  resolveArchive,
  type StateStore,
} from '../../index.js';
import { type OperationStore, type PerformItem, runOperation } from '../../operations/index.js';
import { createRedisOperationStore } from '../redis-index/index.js';
import { OPERATIONS_QUEUE_NAME, type OperationJob } from './operations-queue.js';

export interface OperationItemDeps {
  store: ObjectStore;
  state: StateStore;
  producer: QueueProducer;
  incoming: { bucket: string; prefix: string };
  output: { bucket: string; prefix: string };
  logIdPattern: RegExp;
}

/**
 * Re-enqueues one log ID: resolves its archive (failure record, manifest, sharded key, newest
 * match), skips one the current manifest already names unless forced, and enqueues it. Harmless
 * twice: a second enqueue of a waiting job is `already_queued`, an extracted one is skipped.
 */
export function reenqueueItem(
  deps: OperationItemDeps,
  options: { force?: boolean; encoding?: string },
): PerformItem {
  // Another code page re-extracts whatever the manifest says: its names may be the wrong guess.
  const force = options.force === true || options.encoding !== undefined;
  return async (logId) => {
    let archive: Awaited<ReturnType<typeof resolveArchive>>;
    try {
      archive = await resolveArchive(deps.store, deps.state, logId, {
        bucket: deps.incoming.bucket,
        incomingPrefix: deps.incoming.prefix,
        logIdPattern: deps.logIdPattern,
      });
    } catch (error) {
      if (isLogzipError(error) && error.code === 'source_not_found')
        return { outcome: 'skipped', detail: 'not_found' };
      throw error;
    }
    if (!force) {
      const manifest = await deps.state.getManifest(logId);
      if (manifest?.source.key === archive.key && manifest.source.etag === archive.etag) {
        return { outcome: 'skipped', detail: 'already_extracted' };
      }
    }
    const answer = await deps.producer.enqueue({
      logId,
      bucket: archive.bucket,
      key: archive.key,
      reason: 'reenqueue',
      run: 'operation',
      ...(force ? { force: true } : {}),
      ...(options.encoding === undefined ? {} : { encoding: options.encoding }),
    });
    if (answer.outcome === 'refused') return { outcome: 'failed', detail: `refused: ${answer.reason}` };
    return { outcome: 'done', detail: answer.outcome };
  };
}

const DELETE_BATCH = 1_000;

/**
 * Purges one log ID: its extracted files, the archives its state names, then its state (the
 * archive and files first, so a purge cut short finds the rest when it runs again). Re-uploads
 * under other names that no state names are left to `logzip purge <logId>`, which lists the prefix.
 */
export function purgeItem(deps: OperationItemDeps): PerformItem {
  return async (logId) => {
    const [manifest, failure, history] = await Promise.all([
      deps.state.getManifest(logId),
      deps.state.getFailure(logId),
      deps.state.listHistory(logId),
    ]);
    const archives = new Set<string>();
    for (const source of [failure?.source, manifest?.source, ...history.map((m) => m.source)]) {
      if (source?.bucket === deps.incoming.bucket && source.key.startsWith(deps.incoming.prefix))
        archives.add(source.key);
    }
    const files: string[] = [];
    for await (const object of deps.store.list(deps.output.bucket, `${deps.output.prefix}${logId}/`))
      files.push(object.key);
    for (let i = 0; i < files.length; i += DELETE_BATCH)
      await deps.store.deleteMany(deps.output.bucket, files.slice(i, i + DELETE_BATCH));
    if (archives.size > 0) await deps.store.deleteMany(deps.incoming.bucket, [...archives]);
    const removed = await deps.state.purge(logId);
    if (files.length + archives.size + removed.length === 0)
      return { outcome: 'skipped', detail: 'not_found' };
    return {
      outcome: 'done',
      detail: `purged ${files.length} file(s), ${archives.size} archive(s), ${removed.length} state object(s)`,
    };
  };
}

export interface StartOperationsWorkerOptions extends OperationItemDeps {
  redis: Redis;
  /** BullMQ key prefix (the extraction queue's). */
  prefix: string;
  logger: Logger;
  /** Default the Redis one on `redis`. */
  operations?: OperationStore;
  /** A dead worker's operation is picked up after about this long (default 10 s). */
  lockDurationMs?: number;
}

export interface OperationsWorker {
  worker: Worker<OperationJob>;
  close(): Promise<void>;
}

class InterruptedError extends Error {}

/**
 * Runs operations in this process: a BullMQ worker (concurrency 1) on `logzip-operations`. A run
 * ends when its operation is paused, aborted or finished; a resume adds a new job. When this
 * process stops or dies mid-run, the job goes back to the queue (a retry, or BullMQ's stalled
 * check after a SIGKILL) and another worker continues from the stored position.
 */
export function startOperationsWorker(options: StartOperationsWorkerOptions): OperationsWorker {
  const operations = options.operations ?? createRedisOperationStore({ redis: options.redis });
  const log = options.logger.child({ component: 'operations' });
  const stopping = new AbortController();
  const lockDuration = options.lockDurationMs ?? 10_000;

  const processor = async (job: Job<OperationJob>) => {
    const id = job.data.operationId;
    const operation = await operations.get(id);
    if (operation === undefined) return { state: 'missing' };
    const perform =
      operation.kind === 'purge'
        ? purgeItem(options)
        : reenqueueItem(options, {
            ...(operation.options.force ? { force: true } : {}),
            ...(operation.options.encoding === undefined ? {} : { encoding: operation.options.encoding }),
          });
    log.info({ operation: id, kind: operation.kind, left: operation.left }, 'operation run starts');
    const { state, performed } = await runOperation({
      store: operations,
      id,
      perform,
      logger: log,
      signal: stopping.signal,
    });
    log.info({ operation: id, state, performed }, 'operation run ends');
    // Stopped by a shutdown while still running: the retry (another worker) continues it.
    if (state === 'running') throw new InterruptedError('the worker is stopping');
    return { state };
  };

  const worker = new Worker<OperationJob>(OPERATIONS_QUEUE_NAME, processor, {
    connection: options.redis,
    prefix: options.prefix,
    concurrency: 1,
    lockDuration,
    stalledInterval: Math.max(1_000, Math.round(lockDuration / 2)),
    // A SIGKILLed worker is not the operation's fault: it runs again, however often that happens.
    maxStalledCount: 1_000,
  });
  worker.on('error', (error) => log.error({ err: error.message }, 'operations worker error'));
  worker.on('stalled', (jobId) =>
    log.warn({ jobId }, 'an operation run stalled (its worker died): it continues'),
  );

  return {
    worker,
    async close() {
      stopping.abort();
      await worker.close();
    },
  };
}
