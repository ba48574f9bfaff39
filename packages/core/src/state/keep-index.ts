import type { FailureGroups } from '../ports/failure-groups.js';
import type { FailureIndex } from '../ports/failure-index.js';
import type { Logger } from '../ports/logger.js';
import type { ObjectStore } from '../ports/object-store.js';
import { type ReindexResult, reindex } from './reindex.js';

export interface IndexKeeperOptions {
  store: ObjectStore;
  bucket: string;
  prefix: string;
  index: FailureIndex;
  /** Regrouped with the index (reindex's `groups`). */
  groups?: FailureGroups;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** How often to look whether the index is ready (default 30 s). */
  checkEveryMs?: number;
  /** Resolved failures and audit entries older than this leave the index (0 = never). */
  retentionDays: number;
  /** How often to drop what aged past the retention (default 1 h). */
  trimEveryMs?: number;
  /** The rebuild lock's owner name (shown to a concurrent `logzip reindex`). */
  owner: string;
}

export interface IndexKeeper {
  /** One look: rebuild when the index is not ready and nobody is rebuilding it; trim when due. */
  tick(): Promise<ReindexResult | undefined>;
  /** Stops after the current batch (a rebuild keeps its checkpoint and resumes next time). */
  stop(): Promise<void>;
}

/**
 * Keeps the index usable from a long-running process (the worker): at start and then every
 * `checkEveryMs`, a missing index (first start, Redis flushed or lost) is rebuilt from the objects,
 * and once an hour what aged past the retention leaves it. Errors are logged, never thrown.
 *
 * @example
 * const keeper = startIndexKeeper({ store, bucket, prefix, index, logger, retentionDays: 30, owner: 'worker-1' });
 * // on shutdown
 * await keeper.stop();
 */
export function startIndexKeeper(options: IndexKeeperOptions): IndexKeeper {
  const { index, logger } = options;
  const stopping = new AbortController();
  let lastTrim = 0;
  let running: Promise<ReindexResult | undefined> | undefined;

  async function look(): Promise<ReindexResult | undefined> {
    let result: ReindexResult | undefined;
    const readiness = await index.readiness();
    if (!readiness.ready && readiness.rebuilding === undefined) {
      logger.warn(
        {},
        'the failure index is missing (first start, or Redis lost it): rebuilding it from the state objects',
      );
      result = await reindex({
        store: options.store,
        bucket: options.bucket,
        prefix: options.prefix,
        index,
        ...(options.groups === undefined ? {} : { groups: options.groups }),
        owner: options.owner,
        signal: stopping.signal,
        onInvalid: (object) =>
          logger.warn(object, 'reindex skipped a state object that is not what logzip writes'),
      });
      if (result.status === 'done')
        logger.info(
          { ...result.counts, durationMs: result.durationMs, rate: result.rate },
          'failure index rebuilt',
        );
    }
    const trimEvery = options.trimEveryMs ?? 3_600_000;
    if (options.retentionDays > 0 && Date.now() - lastTrim >= trimEvery && !stopping.signal.aborted) {
      lastTrim = Date.now();
      const removed = await index.trim(new Date(Date.now() - options.retentionDays * 86_400_000));
      if (removed.failures + removed.audit > 0)
        logger.info(removed, 'index retention: old entries left the index');
    }
    return result;
  }

  function tick(): Promise<ReindexResult | undefined> {
    running ??= look()
      .catch((error: unknown) => {
        logger.error(
          { err: error instanceof Error ? error.message : String(error) },
          'keeping the failure index failed',
        );
        return undefined;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  const timer = setInterval(() => void tick(), options.checkEveryMs ?? 30_000);
  timer.unref();
  void tick();
  return {
    tick,
    async stop() {
      clearInterval(timer);
      stopping.abort();
      await running;
    },
  };
}
