import { envSchema, type LogzipConfig, parseDuration, readConfig } from '@logzip/core';
import { alertConfigErrors } from '@logzip/core/alerts';

/**
 * The worker's own settings, read next to core's configuration in the same pass. Core's schema
 * holds the shared variables; these only matter to the worker.
 */
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
  /** How often this process writes its heartbeat (default 5 s). */
  heartbeatIntervalMs?: number;
}

export interface WorkerConfig extends LogzipConfig {
  incoming: { bucket: string; prefix: string };
  output: { bucket: string; prefix: string };
  worker: WorkerSettings;
}

/** Names and defaults of the worker-only variables (documented in docs/configuration.md). */
export const WORKER_ENV_DEFAULTS = {
  LOGZIP_WORKER_SHUTDOWN_TIMEOUT: '30s',
  LOGZIP_WORKER_LOCK_DURATION: '60s',
  LOGZIP_WORKER_MAX_STALLED: '3',
  LOGZIP_CANARY_INTERVAL: '0s',
  LOGZIP_WORKER_HEARTBEAT_INTERVAL: '5s',
} as const;

export type WorkerConfigResult =
  | { config: WorkerConfig; errors: [] }
  | { config: undefined; errors: string[] };

function readSettings(env: Record<string, string | undefined>, errors: string[]) {
  const value = (name: keyof typeof WORKER_ENV_DEFAULTS): string => {
    const given = env[name];
    return given === undefined || given === '' ? WORKER_ENV_DEFAULTS[name] : given;
  };
  const duration = (name: keyof typeof WORKER_ENV_DEFAULTS, min: number): number => {
    const text = value(name);
    const ms = parseDuration(text);
    if (ms === undefined || ms < min) {
      errors.push(`${name}: "${text}" is not a duration of at least ${min} ms like 30s or 2m`);
      return 0;
    }
    return ms;
  };
  const shutdownTimeoutMs = duration('LOGZIP_WORKER_SHUTDOWN_TIMEOUT', 0);
  const lockDurationMs = duration('LOGZIP_WORKER_LOCK_DURATION', 1_000);
  const stalledText = value('LOGZIP_WORKER_MAX_STALLED');
  const maxStalledCount = Number(stalledText);
  if (!Number.isInteger(maxStalledCount) || maxStalledCount < 0 || maxStalledCount > 100) {
    errors.push(`LOGZIP_WORKER_MAX_STALLED: "${stalledText}" is not a whole number from 0 to 100`);
  }
  const canaryIntervalMs = duration('LOGZIP_CANARY_INTERVAL', 0);
  if (canaryIntervalMs !== 0 && canaryIntervalMs < 10_000) {
    errors.push('LOGZIP_CANARY_INTERVAL: must be at least 10s, or 0s (the default) for no scheduled canary');
  }
  const heartbeatIntervalMs = duration('LOGZIP_WORKER_HEARTBEAT_INTERVAL', 500);
  return { shutdownTimeoutMs, lockDurationMs, maxStalledCount, canaryIntervalMs, heartbeatIntervalMs };
}

/**
 * Validates the worker's environment once: core's variables (LOGZIP_INCOMING_BUCKET required,
 * with or without LOGZIP_STORAGE_DIR) and the worker's own. Every problem comes back as data; the
 * entry point prints them in one message and exits 78.
 *
 * @example
 * const { config, errors } = readWorkerConfig(process.env);
 * if (!config) { console.error(formatConfigErrors(errors)); process.exit(EXIT_CONFIG); }
 */
export function readWorkerConfig(env: Record<string, string | undefined>): WorkerConfigResult {
  const core = readConfig(env, { required: ['LOGZIP_INCOMING_BUCKET'] });
  const errors: string[] = [...core.errors, ...alertConfigErrors(env)];
  const settings = readSettings(env, errors);
  if (core.config === undefined || errors.length > 0) return { config: undefined, errors };
  const { env: coreEnv } = core.config;
  const incomingBucket = core.config.incoming.bucket as string;
  const worker: WorkerSettings = {
    concurrency: coreEnv.LOGZIP_WORKER_CONCURRENCY,
    metricsPort: coreEnv.LOGZIP_WORKER_METRICS_PORT,
    sweepIntervalMs: coreEnv.LOGZIP_SWEEP_INTERVAL,
    sweepGraceMs: coreEnv.LOGZIP_SWEEP_GRACE,
    lambdaFailureQueueUrl: coreEnv.LOGZIP_LAMBDA_FAILURE_QUEUE_URL,
    queuePrefix: coreEnv.LOGZIP_QUEUE_PREFIX,
    ...settings,
  };
  if (worker.sweepIntervalMs !== 0 && worker.sweepIntervalMs < 1_000) {
    return {
      config: undefined,
      errors: ['LOGZIP_SWEEP_INTERVAL: must be at least 1s, or 0s to run no sweeps here'],
    };
  }
  const config: WorkerConfig = {
    ...core.config,
    incoming: { bucket: incomingBucket, prefix: core.config.incoming.prefix },
    output: { bucket: core.config.output.bucket ?? incomingBucket, prefix: core.config.output.prefix },
    worker: Object.freeze(worker),
  };
  return { config: Object.freeze(config), errors: [] };
}

/** LOGZIP_* variables that neither core nor the worker knows: most likely typos, worth a warning. */
export function unknownVariables(
  env: Record<string, string | undefined>,
  known: readonly string[] = [],
): string[] {
  const names = new Set<string>([
    ...Object.keys(envSchema.shape),
    ...Object.keys(WORKER_ENV_DEFAULTS),
    ...known,
  ]);
  return Object.keys(env).filter((name) => name.startsWith('LOGZIP_') && !names.has(name));
}
