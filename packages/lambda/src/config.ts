import { envFields, formatConfigErrors, type LogzipConfig, readConfig, sharedEnvSchema } from '@logzip/core';
import { alertConfigErrors } from '@logzip/core/alerts';
import type { z } from 'zod';

const { bytes, duration, integer } = envFields;

/**
 * The function's variables: core's shared ones and those only the Lambda reads, each with its one
 * default (documented in docs/configuration.md).
 */
export const lambdaEnvSchema = sharedEnvSchema.extend({
  LOGZIP_LAMBDA_MAX_BYTES: bytes('1GiB'),
  LOGZIP_LAMBDA_MAX_ATTEMPTS: integer(3, {
    max: 3,
    what: '1, 2 or 3 (Lambda retries an event at most twice)',
  }),
  LOGZIP_LAMBDA_MIN_THROUGHPUT: bytes('4MB', 'a size per second like 4MB'),
  LOGZIP_LAMBDA_SAFETY_MARGIN: duration('30s', { example: '30s or 500ms' }),
  LOGZIP_LAMBDA_BATCH_CONCURRENCY: integer(4, {
    max: 10,
    what: 'a whole number from 1 to 10 (an SQS batch holds at most 10 messages)',
  }),
});

export type LambdaEnv = z.infer<typeof lambdaEnvSchema>;

/** The Lambda's settings, named for the code that uses them. */
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

export interface LambdaConfig extends LogzipConfig<LambdaEnv> {
  incoming: { bucket: string; prefix: string };
  output: { bucket: string; prefix: string };
  lambda: LambdaSettings;
}

export type LambdaConfigResult =
  | { config: LambdaConfig; errors: [] }
  | { config: undefined; errors: string[] };

/**
 * Validates the function's environment (LOGZIP_INCOMING_BUCKET required). Returns every problem as
 * data; the bundle's entry turns them into one error.
 */
export function readLambdaConfig(env: Record<string, string | undefined>): LambdaConfigResult {
  const core = readConfig(env, { schema: lambdaEnvSchema, required: ['LOGZIP_INCOMING_BUCKET'] });
  const errors: string[] = [...core.errors, ...alertConfigErrors(env)];
  if (core.config === undefined || errors.length > 0) return { config: undefined, errors };
  const e = core.config.env;
  const incomingBucket = core.config.incoming.bucket as string;
  const lambda: LambdaSettings = {
    maxAttempts: e.LOGZIP_LAMBDA_MAX_ATTEMPTS,
    minThroughput: e.LOGZIP_LAMBDA_MIN_THROUGHPUT,
    safetyMarginMs: e.LOGZIP_LAMBDA_SAFETY_MARGIN,
    batchConcurrency: e.LOGZIP_LAMBDA_BATCH_CONCURRENCY,
  };
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
