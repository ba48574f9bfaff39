import { hostname } from 'node:os';
import type { Logger } from '@logzip/core';
import {
  HEARTBEAT_TTL_MS,
  type HeartbeatKeys,
  removeHeartbeat,
  type WorkerHeartbeat,
  writeHeartbeat,
} from '@logzip/core/bullmq';
import type { Redis } from 'ioredis';

const STOP_TIMEOUT_MS = 1_000;

export interface Heartbeat {
  /** Stops beating and removes the key (a worker that stopped cleanly is gone, not stuck). */
  stop(): Promise<void>;
}

/**
 * Writes this worker's heartbeat every `intervalMs` from its own timer. A frozen process (SIGSTOP,
 * a blocked event loop) keeps its Redis connection open, so the connection says nothing; its beat
 * stops moving, and the admin's health strip shows it stale.
 */
export function startHeartbeat(options: {
  redis: Redis;
  queuePrefix: string;
  /** The deployment's key names (LOGZIP_KEY_NAMESPACE). */
  keys: HeartbeatKeys;
  name: string;
  intervalMs: number;
  concurrency: number;
  activeJobs: () => number;
  logger: Logger;
}): Heartbeat {
  const startedAt = new Date().toISOString();
  const beat = (): WorkerHeartbeat => ({
    name: options.name,
    host: hostname(),
    pid: process.pid,
    startedAt,
    at: new Date().toISOString(),
    concurrency: options.concurrency,
    activeJobs: options.activeJobs(),
  });
  let failing = false;
  const write = () =>
    writeHeartbeat(options.redis, options.queuePrefix, beat(), HEARTBEAT_TTL_MS, options.keys).then(
      () => {
        failing = false;
      },
      (error: unknown) => {
        // One line per outage, not one per beat.
        if (!failing) options.logger.warn({ err: String(error) }, 'could not write the heartbeat');
        failing = true;
      },
    );
  void write();
  const timer = setInterval(() => void write(), options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      // With Redis gone a command would wait for the reconnection: the shutdown deadline must not.
      // The beat then just ages out (shown stale, then gone after its TTL).
      if (options.redis.status !== 'ready') return;
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([
        removeHeartbeat(options.redis, options.queuePrefix, options.name, options.keys).catch(() => {}),
        new Promise<void>((resolve) => {
          timeout = setTimeout(resolve, STOP_TIMEOUT_MS);
        }),
      ]).finally(() => clearTimeout(timeout));
    },
  };
}
