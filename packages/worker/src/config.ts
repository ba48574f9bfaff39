import { envFields, type LogzipConfig, readConfig, sharedEnvSchema } from '@logzip/core';
import { alertConfigErrors } from '@logzip/core/alerts';
import type { z } from 'zod';

const { duration, integer, port } = envFields;

/**
 * The worker's variables: core's shared ones and those only the worker reads, each with its one
 * default (documented in docs/configuration.md).
 */
export const workerEnvSchema = sharedEnvSchema.extend({
  LOGZIP_WORKER_CONCURRENCY: integer(2),
  LOGZIP_WORKER_METRICS_PORT: port(9464),
  LOGZIP_WORKER_SHUTDOWN_TIMEOUT: duration('30s', { example: '30s or 2m' }),
  LOGZIP_WORKER_LOCK_DURATION: duration('60s', { min: 1_000, example: '30s or 2m' }),
  LOGZIP_WORKER_MAX_STALLED: integer(3, { min: 0, max: 100, what: 'a whole number from 0 to 100' }),
  LOGZIP_CANARY_INTERVAL: duration('0s').refine(
    (ms) => ms === 0 || ms >= 10_000,
    'must be at least 10s, or 0s (the default) for no scheduled canary',
  ),
  LOGZIP_ALERT_DIGEST_INTERVAL: duration('0'),
  LOGZIP_WORKER_HEARTBEAT_INTERVAL: duration('5s', { min: 500, example: '5s' }),
});

export type WorkerEnv = z.infer<typeof workerEnvSchema>;

/** The worker's settings, named for the code that uses them. */
export interface WorkerSettings {
  concurrency: number;
  /** 0 = a random free port (logged at start). */
  metricsPort: number;
  /** 0 ("0s") = this process neither schedules nor runs sweeps. */
  sweepIntervalMs: number;
  sweepGraceMs: number;
  /** How long SIGTERM waits for active jobs before handing them back to the queue. */
  shutdownTimeoutMs: number;
  /** A job whose lock is not renewed within this time is considered stalled and runs again elsewhere. */
  lockDurationMs: number;
  /** How often a job may stall (its worker died) before it fails. */
  maxStalledCount: number;
  /** BullMQ key prefix; every process of one deployment must share it. */
  queuePrefix: string;
  /** The Lambda's on-failure SQS queue, drained into failure records; without it, the Redis list. */
  lambdaFailureQueueUrl: string | undefined;
  /** 0 = no scheduled canary (the default); else one canary run per interval across the workers. */
  canaryIntervalMs: number;
  /** How often this process writes its heartbeat (LOGZIP_WORKER_HEARTBEAT_INTERVAL). */
  heartbeatIntervalMs: number;
}

export interface WorkerConfig extends LogzipConfig<WorkerEnv> {
  incoming: { bucket: string; prefix: string };
  output: { bucket: string; prefix: string };
  worker: WorkerSettings;
}

export type WorkerConfigResult =
  | { config: WorkerConfig; errors: [] }
  | { config: undefined; errors: string[] };

/**
 * Validates the worker's environment once (LOGZIP_INCOMING_BUCKET required, with or without
 * LOGZIP_STORAGE_DIR). Every problem comes back as data; the entry point prints them in one
 * message and exits 78.
 *
 * @example
 * const { config, errors } = readWorkerConfig(process.env);
 * if (!config) { console.error(formatConfigErrors(errors)); process.exit(EXIT_CONFIG); }
 */
export function readWorkerConfig(env: Record<string, string | undefined>): WorkerConfigResult {
  const core = readConfig(env, { schema: workerEnvSchema, required: ['LOGZIP_INCOMING_BUCKET'] });
  const errors: string[] = [...core.errors, ...alertConfigErrors(env)];
  if (core.config === undefined || errors.length > 0) return { config: undefined, errors };
  const e = core.config.env;
  const incomingBucket = core.config.incoming.bucket as string;
  const worker: WorkerSettings = {
    concurrency: e.LOGZIP_WORKER_CONCURRENCY,
    metricsPort: e.LOGZIP_WORKER_METRICS_PORT,
    sweepIntervalMs: e.LOGZIP_SWEEP_INTERVAL,
    sweepGraceMs: e.LOGZIP_SWEEP_GRACE,
    shutdownTimeoutMs: e.LOGZIP_WORKER_SHUTDOWN_TIMEOUT,
    lockDurationMs: e.LOGZIP_WORKER_LOCK_DURATION,
    maxStalledCount: e.LOGZIP_WORKER_MAX_STALLED,
    queuePrefix: core.config.queuePrefix,
    lambdaFailureQueueUrl: e.LOGZIP_LAMBDA_FAILURE_QUEUE_URL,
    canaryIntervalMs: e.LOGZIP_CANARY_INTERVAL,
    heartbeatIntervalMs: e.LOGZIP_WORKER_HEARTBEAT_INTERVAL,
  };
  const config: WorkerConfig = {
    ...core.config,
    incoming: { bucket: incomingBucket, prefix: core.config.incoming.prefix },
    output: { bucket: core.config.output.bucket ?? incomingBucket, prefix: core.config.output.prefix },
    worker: Object.freeze(worker),
  };
  return { config: Object.freeze(config), errors: [] };
}

/** LOGZIP_* variables the worker's schema does not know: most likely typos, worth a line in the log. */
export function unknownVariables(
  env: Record<string, string | undefined>,
  known: readonly string[] = [],
): string[] {
  const names = new Set<string>([...Object.keys(workerEnvSchema.shape), ...known]);
  return Object.keys(env).filter((name) => name.startsWith('LOGZIP_') && !names.has(name));
}
