/** What a worker process closes on SIGTERM. */
export interface ShutdownParts {
  /** The index keeper: its stop waits for a look at the index, which waits on Redis. */
  keeper?: { stop(): Promise<void> } | undefined;
  /** The worker itself: stops taking jobs, finishes or hands back the active ones. */
  running?: { close(): Promise<unknown> } | undefined;
  /** The index's own connection, closed last. */
  indexRedis?: { quit(): Promise<unknown>; disconnect(): void } | undefined;
}

/**
 * Closes the worker's parts. The keeper stops beside the worker, not before it: with Redis gone
 * its stop waits on a command that may never be answered, and the worker's close (which stops
 * taking jobs and starts the shutdown deadline's hand-back) must not wait behind it.
 */
export async function closeWorkerParts(parts: ShutdownParts): Promise<void> {
  await Promise.all([parts.keeper?.stop(), parts.running?.close()]);
  const redis = parts.indexRedis;
  await redis?.quit().catch(() => redis.disconnect());
}
