import { formatConfigErrors, type LogzipConfig, parseBytes, parseDuration, readConfig } from '@logzip/core';
import { alertConfigErrors } from '@logzip/core/alerts';

/**
 * The Lambda's own settings, read next to core's configuration. Core's schema does not know them yet
 * (they only matter to this function); they follow the same rules: validated once, frozen, every
 * problem reported at once.
 */
export interface LambdaSettings {
  /** Attempts Lambda makes for one event: 1 + the EventInvokeConfig's MaximumRetryAttempts (2). */
  maxAttempts: number;
  /**
   * The slowest rate, in archive bytes per second, a run is expected to reach. An archive whose
   * size at this rate does not fit the remaining time is handed to the queue before it starts.
   */
  minThroughput: number;
  /**
   * Time kept free at the end of an invocation: a run still going this close to the deadline is
   * stopped (no manifest, folder cleared) and handed to the queue.
   */
  safetyMarginMs: number;
  /** Messages of one SQS batch (buffered mode) extracted at once. */
  batchConcurrency: number;
}

export interface LambdaConfig extends LogzipConfig {
  incoming: { bucket: string; prefix: string };
  output: { bucket: string; prefix: string };
  lambda: LambdaSettings;
}

/** Names and defaults of the Lambda-only variables (documented in docs/configuration.md). */
export const LAMBDA_ENV_DEFAULTS = {
  LOGZIP_LAMBDA_MAX_ATTEMPTS: '3',
  LOGZIP_LAMBDA_MIN_THROUGHPUT: '4MB',
  LOGZIP_LAMBDA_SAFETY_MARGIN: '30s',
  LOGZIP_LAMBDA_BATCH_CONCURRENCY: '4',
} as const;

export type LambdaConfigResult =
  | { config: LambdaConfig; errors: [] }
  | { config: undefined; errors: string[] };

function readSettings(env: Record<string, string | undefined>, errors: string[]): LambdaSettings {
  const value = (name: keyof typeof LAMBDA_ENV_DEFAULTS): string => {
    const given = env[name];
    return given === undefined || given === '' ? LAMBDA_ENV_DEFAULTS[name] : given;
  };
  const attemptsText = value('LOGZIP_LAMBDA_MAX_ATTEMPTS');
  const maxAttempts = Number(attemptsText);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 3) {
    errors.push(
      `LOGZIP_LAMBDA_MAX_ATTEMPTS: "${attemptsText}" is not 1, 2 or 3 (Lambda retries an event at most twice)`,
    );
  }
  const throughputText = value('LOGZIP_LAMBDA_MIN_THROUGHPUT');
  const minThroughput = parseBytes(throughputText);
  if (minThroughput === undefined || minThroughput <= 0) {
    errors.push(`LOGZIP_LAMBDA_MIN_THROUGHPUT: "${throughputText}" is not a size per second like 4MB`);
  }
  const marginText = value('LOGZIP_LAMBDA_SAFETY_MARGIN');
  const safetyMarginMs = parseDuration(marginText);
  if (safetyMarginMs === undefined) {
    errors.push(`LOGZIP_LAMBDA_SAFETY_MARGIN: "${marginText}" is not a duration like 30s or 500ms`);
  }
  const concurrencyText = value('LOGZIP_LAMBDA_BATCH_CONCURRENCY');
  const batchConcurrency = Number(concurrencyText);
  if (!Number.isInteger(batchConcurrency) || batchConcurrency < 1 || batchConcurrency > 10) {
    errors.push(
      `LOGZIP_LAMBDA_BATCH_CONCURRENCY: "${concurrencyText}" is not a whole number from 1 to 10 (an SQS batch holds at most 10 messages)`,
    );
  }
  return {
    maxAttempts,
    minThroughput: minThroughput ?? 0,
    safetyMarginMs: safetyMarginMs ?? 0,
    batchConcurrency,
  };
}

/**
 * Validates the function's environment: core's variables (LOGZIP_INCOMING_BUCKET required) and
 * the Lambda's own. Returns every problem as data; the module scope turns them into one error.
 */
export function readLambdaConfig(env: Record<string, string | undefined>): LambdaConfigResult {
  const core = readConfig(env, { required: ['LOGZIP_INCOMING_BUCKET'] });
  const errors: string[] = [...core.errors, ...alertConfigErrors(env)];
  const lambda = readSettings(env, errors);
  if (core.config === undefined || errors.length > 0) return { config: undefined, errors };
  const incomingBucket = core.config.incoming.bucket as string;
  const config: LambdaConfig = {
    ...core.config,
    incoming: { bucket: incomingBucket, prefix: core.config.incoming.prefix },
    output: { bucket: core.config.output.bucket ?? incomingBucket, prefix: core.config.output.prefix },
    lambda: Object.freeze(lambda),
  };
  return { config: Object.freeze(config), errors: [] };
}

/** Thrown at cold start: Lambda reports it as the init error, with one line per bad variable. */
export class LambdaConfigError extends Error {
  readonly errors: readonly string[];

  constructor(errors: readonly string[]) {
    super(formatConfigErrors(errors));
    this.name = 'LambdaConfigError';
    this.errors = errors;
  }
}
