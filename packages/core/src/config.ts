import * as z from 'zod';
import { DEFAULT_KEY_NAMESPACE, KEY_NAMESPACE_RE, queuePrefixFor } from './adapters/bullmq/keys.js';
import { DEFAULT_LOG_ID_PATTERN } from './log-id.js';

const UNITS: Record<string, number> = {
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** "8 GiB", "1GiB", "500MB", "1048576" → bytes. */
export function parseBytes(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = UNITS[(m[2] || 'b').toLowerCase()];
  return unit === undefined ? undefined : Math.floor(Number(m[1]) * unit);
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };

/** "5m", "15m", "90s", "2h", "7d", "250ms" → milliseconds; a bare "0" is zero (off). */
export function parseDuration(text: string): number | undefined {
  if (/^\s*0\s*$/.test(text)) return 0;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/i.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (DURATION_UNITS[m[2]!.toLowerCase()] ?? Number.NaN));
}

/** A size with a unit ("8GiB", "500MB"); `fallback` is the one default of the variable. */
const bytes = (fallback: string, what = 'a size like 8GiB or 500MB') =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const text = v === undefined || v === '' ? fallback : v;
      const n = parseBytes(text);
      if (n === undefined || n <= 0) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not ${what}` });
        return z.NEVER;
      }
      return n;
    });

/** A duration ("90s", "5m", "0"); `min` (ms) refuses shorter values, with the message every process prints. */
const duration = (fallback: string, options: { min?: number; example?: string } = {}) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const text = v === undefined || v === '' ? fallback : v;
      const n = parseDuration(text);
      const min = options.min;
      if (n === undefined || (min !== undefined && n < min)) {
        const atLeast =
          min === undefined ? '' : ` of at least ${min >= 1000 ? `${min / 1000}s` : `${min} ms`}`;
        ctx.addIssue({
          code: 'custom',
          message: `"${text}" is not a duration${atLeast} like ${options.example ?? '90s, 5m or 2h'}`,
        });
        return z.NEVER;
      }
      return n;
    });

/** A whole number in [min, max]; `what` names the range in the message ("a positive integer"). */
const integer = (fallback: number, range: { min?: number; max?: number; what?: string } = {}) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      const { min = 1, max = Number.POSITIVE_INFINITY } = range;
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not ${range.what ?? 'a positive integer'}` });
        return z.NEVER;
      }
      return n;
    });

const port = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a TCP port` });
        return z.NEVER;
      }
      return n;
    });

const prefix = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((v) => v === '' || v.endsWith('/'), 'a prefix must end with "/"')
    .refine((v) => !v.startsWith('/'), 'a prefix must not start with "/"');

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

const url = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v))
  .refine((v) => v === undefined || URL.canParse(v), 'not a URL');

const token = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v))
  .refine((v) => v === undefined || v.length >= 32, 'must be at least 32 characters');

/**
 * The field types of the environment schemas, for the packages' own schemas: one parser per kind of
 * value, so every process reports a bad size, duration or port in the same words.
 */
export const envFields = { bytes, duration, integer, port, prefix, optionalString, url, token } as const;

const pattern = z
  .string()
  .default(DEFAULT_LOG_ID_PATTERN)
  .refine((v) => {
    try {
      new RegExp(v, 'i');
      return v.includes('(?<logId>');
    } catch {
      return false;
    }
  }, 'must be a valid regular expression with a named group (?<logId>...)');

const encoding = z
  .string()
  .default('cp932')
  .refine((v) => {
    // iconv-lite is loaded lazily by the name decoder; validate the name the same way here.
    return /^[0-9A-Za-z_-]+$/.test(v);
  }, 'not an encoding name');

/**
 * BullMQ key prefix: the worker and the admin must agree on it. Unset, it follows the key namespace
 * (readConfig resolves it with queuePrefixFor), so it has one default.
 */
const queuePrefix = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v))
  .superRefine((v, ctx) => {
    if (v !== undefined && !/^[0-9A-Za-z_-]{1,64}$/.test(v)) {
      ctx.addIssue({ code: 'custom', message: `"${v}" must be 1-64 characters of [0-9A-Za-z_-]` });
    }
  });

/** The deployment's Redis key namespace: every logzip key of the deployment starts with it. */
const keyNamespace = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === '' ? DEFAULT_KEY_NAMESPACE : v))
  .refine((v) => KEY_NAMESPACE_RE.test(v), 'must be 1-48 characters of [0-9A-Za-z_-] followed by ":"');

/**
 * The variables more than one process reads, with their one default. Each package extends this
 * schema with its own (`workerEnvSchema`, `adminEnvSchema`, `lambdaEnvSchema`) and parses the
 * result once at its entry file; docs/configuration.md documents every variable.
 */
export const sharedEnvSchema = z.object({
  AWS_REGION: optionalString,
  AWS_ENDPOINT_URL_S3: url,
  AWS_ENDPOINT_URL_LAMBDA: url,
  AWS_ENDPOINT_URL_SQS: url,
  AWS_ENDPOINT_URL_SNS: url,
  LOGZIP_STORAGE_DIR: optionalString,
  LOGZIP_INCOMING_BUCKET: optionalString,
  LOGZIP_INCOMING_PREFIX: prefix('incoming/'),
  LOGZIP_OUTPUT_BUCKET: optionalString,
  LOGZIP_OUTPUT_PREFIX: prefix('extracted/'),
  LOGZIP_STATE_PREFIX: prefix('logzip-state/'),
  LOGZIP_LOG_ID_PATTERN: pattern,
  LOGZIP_LAMBDA_FUNCTION: optionalString,
  LOGZIP_LAMBDA_FAILURE_QUEUE_URL: url,
  LOGZIP_TRIGGER_MODE: z.enum(['direct', 'buffered']).default('direct'),
  LOGZIP_TRIGGER_QUEUE_URL: url,
  REDIS_URL: url,
  // The tokens are shared as secrets: every process that sends alerts scrubs them from the text.
  LOGZIP_ADMIN_TOKEN: token,
  LOGZIP_INGEST_TOKEN: token,
  LOGZIP_PUBLIC_URL: z
    .string()
    .default('http://127.0.0.1:8080')
    .refine((v) => URL.canParse(v), 'not a URL'),
  LOGZIP_FALLBACK_ENCODING: encoding,
  LOGZIP_MAX_ENTRIES: integer(100_000),
  LOGZIP_MAX_TOTAL_BYTES: bytes('8GiB'),
  LOGZIP_MAX_ENTRY_BYTES: bytes('4GiB'),
  LOGZIP_MAX_RATIO: integer(1000),
  LOGZIP_KEY_NAMESPACE: keyNamespace,
  LOGZIP_QUEUE_PREFIX: queuePrefix,
  LOGZIP_SWEEP_GRACE: duration('15m'),
  // The worker sweeps on it; the admin's health strip calls a sweep stale after three of them.
  LOGZIP_SWEEP_INTERVAL: duration('5m').refine(
    (ms) => ms === 0 || ms >= 1_000,
    'must be at least 1s, or 0s to run no sweeps here',
  ),
  LOGZIP_SWEEP_FULL_INTERVAL: duration('1d'),
  LOGZIP_SWEEP_FULL_RATE: integer(5_000, {
    min: 0,
    what: 'a whole number of objects per second (0: no limit)',
  }),
  LOGZIP_SWEEP_INVENTORY: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? undefined : v))
    .refine(
      (v) => v === undefined || /^s3:\/\/[^/]+\/.+/.test(v),
      'not s3://<bucket>/<key of manifest.json>',
    ),
  LOGZIP_ALERT_WEBHOOK_URL: url,
  LOGZIP_ALERT_SNS_TOPIC_ARN: optionalString,
  LOGZIP_INDEX_PREFIX: optionalString,
  LOGZIP_INDEX_RETENTION_DAYS: integer(30, { min: 0, what: 'a whole number of days (0 keeps everything)' }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** The shared variables, parsed. */
export type Env = z.infer<typeof sharedEnvSchema>;

/** A package's schema: `sharedEnvSchema.extend({...})`, so its output holds every shared variable. */
export type EnvSchema<E extends Env = Env> = z.ZodType<E> & { readonly shape: Record<string, unknown> };

export interface Limits {
  maxEntries: number;
  maxTotalBytes: number;
  maxEntryBytes: number;
  /** Applies to entries whose uncompressed size is over 1 MiB. */
  maxRatio: number;
}

export interface LogzipConfig<E extends Env = Env> {
  env: E;
  /** Where archives arrive; undefined when not configured (the CLI can work without it). */
  incoming: { bucket: string | undefined; prefix: string };
  output: { bucket: string | undefined; prefix: string };
  statePrefix: string;
  logIdPattern: RegExp;
  limits: Limits;
  fallbackEncoding: string;
  /** Whether REDIS_URL was given explicitly (then an unreachable Redis is an error). */
  redisExplicit: boolean;
  redisUrl: string;
  /** LOGZIP_KEY_NAMESPACE: the start of every logzip Redis key of this deployment (redisKeys). */
  keyNamespace: string;
  /** LOGZIP_INDEX_PREFIX when set, else the key namespace: where the failure index, groups and operations live. */
  indexNamespace: string;
  /** LOGZIP_QUEUE_PREFIX when set, else what the key namespace implies (queuePrefixFor). */
  queuePrefix: string;
}

export interface ConfigRequirement<E extends Env = Env> {
  /** Variables that must be set for this process. */
  required?: ReadonlyArray<keyof E & string>;
  /** The process's schema (default: the shared variables only). */
  schema?: EnvSchema<E>;
}

export type ConfigResult<E extends Env = Env> =
  | { config: LogzipConfig<E>; errors: [] }
  | { config: undefined; errors: string[] };

/**
 * Validates the environment once against the process's schema. Returns every problem as data
 * (`VARIABLE: what is wrong`); the entry point prints them and exits 78.
 *
 * @example
 * const { config, errors } = readConfig(process.env, { schema: workerEnvSchema, required: ['LOGZIP_INCOMING_BUCKET'] });
 */
export function readConfig<E extends Env = Env>(
  source: Record<string, string | undefined>,
  requirement: ConfigRequirement<E> = {},
): ConfigResult<E> {
  const schema = (requirement.schema ?? sharedEnvSchema) as EnvSchema<E>;
  const picked: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = source[key];
    if (value !== undefined) picked[key] = value;
  }
  const parsed = schema.safeParse(picked);
  const errors: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      errors.push(`${issue.path.join('.')}: ${issue.message}`);
    }
  }
  for (const key of requirement.required ?? []) {
    if (picked[key] === undefined || picked[key] === '') errors.push(`${key}: required`);
  }
  if (!parsed.success || errors.length > 0) return { config: undefined, errors };
  const env = parsed.data;
  const incomingBucket = env.LOGZIP_INCOMING_BUCKET;
  const outputBucket = env.LOGZIP_OUTPUT_BUCKET ?? incomingBucket;
  if (outputBucket !== undefined && outputBucket === incomingBucket) {
    const incoming = env.LOGZIP_INCOMING_PREFIX;
    for (const [name, p] of [
      ['LOGZIP_OUTPUT_PREFIX', env.LOGZIP_OUTPUT_PREFIX],
      ['LOGZIP_STATE_PREFIX', env.LOGZIP_STATE_PREFIX],
    ] as const) {
      if (p.startsWith(incoming) || incoming.startsWith(p)) {
        errors.push(`${name}: "${p}" overlaps LOGZIP_INCOMING_PREFIX "${incoming}"`);
      }
    }
  }
  if (
    env.LOGZIP_OUTPUT_PREFIX.startsWith(env.LOGZIP_STATE_PREFIX) ||
    env.LOGZIP_STATE_PREFIX.startsWith(env.LOGZIP_OUTPUT_PREFIX)
  ) {
    errors.push(
      `LOGZIP_STATE_PREFIX: "${env.LOGZIP_STATE_PREFIX}" overlaps LOGZIP_OUTPUT_PREFIX "${env.LOGZIP_OUTPUT_PREFIX}"`,
    );
  }
  if (env.LOGZIP_TRIGGER_MODE === 'buffered' && env.LOGZIP_TRIGGER_QUEUE_URL === undefined) {
    errors.push(
      'LOGZIP_TRIGGER_QUEUE_URL: required when LOGZIP_TRIGGER_MODE=buffered (the queue S3 notifies)',
    );
  }
  if (errors.length > 0) return { config: undefined, errors };
  const config: LogzipConfig<E> = {
    env,
    incoming: { bucket: incomingBucket, prefix: env.LOGZIP_INCOMING_PREFIX },
    output: { bucket: outputBucket, prefix: env.LOGZIP_OUTPUT_PREFIX },
    statePrefix: env.LOGZIP_STATE_PREFIX,
    logIdPattern: new RegExp(env.LOGZIP_LOG_ID_PATTERN, 'i'),
    limits: {
      maxEntries: env.LOGZIP_MAX_ENTRIES,
      maxTotalBytes: env.LOGZIP_MAX_TOTAL_BYTES,
      maxEntryBytes: env.LOGZIP_MAX_ENTRY_BYTES,
      maxRatio: env.LOGZIP_MAX_RATIO,
    },
    fallbackEncoding: env.LOGZIP_FALLBACK_ENCODING,
    redisExplicit: env.REDIS_URL !== undefined,
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    keyNamespace: env.LOGZIP_KEY_NAMESPACE,
    indexNamespace: env.LOGZIP_INDEX_PREFIX ?? env.LOGZIP_KEY_NAMESPACE,
    queuePrefix: env.LOGZIP_QUEUE_PREFIX ?? queuePrefixFor(env.LOGZIP_KEY_NAMESPACE),
  };
  return { config: Object.freeze(config), errors: [] };
}

/** The exit code for a configuration error (EX_CONFIG). */
export const EXIT_CONFIG = 78;

/** One message naming each bad variable, as every process prints it before exiting 78. */
export function formatConfigErrors(errors: readonly string[]): string {
  return `logzip: invalid configuration:\n${errors.map((e) => `  - ${e}`).join('\n')}`;
}

const DEFAULT_ENV = sharedEnvSchema.parse({});

/** The limits when no variable sets them (derived from the schema: one default per variable). */
export const DEFAULT_LIMITS: Limits = Object.freeze({
  maxEntries: DEFAULT_ENV.LOGZIP_MAX_ENTRIES,
  maxTotalBytes: DEFAULT_ENV.LOGZIP_MAX_TOTAL_BYTES,
  maxEntryBytes: DEFAULT_ENV.LOGZIP_MAX_ENTRY_BYTES,
  maxRatio: DEFAULT_ENV.LOGZIP_MAX_RATIO,
});
