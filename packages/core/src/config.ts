import { z } from 'zod';
import { DEFAULT_QUEUE_PREFIX } from './job.js';
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

const bytes = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const n = parseBytes(v);
      if (n === undefined || n <= 0) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a size like 8GiB or 500MB` });
        return z.NEVER;
      }
      return n;
    });

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const n = parseDuration(v);
      if (n === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration like 90s, 5m or 2h` });
        return z.NEVER;
      }
      return n;
    });

const positiveInt = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a positive integer` });
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

/** BullMQ key prefix: the worker and the admin must agree on it, so it has one default, here. */
const queuePrefix = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === '' ? DEFAULT_QUEUE_PREFIX : v))
  .superRefine((v, ctx) => {
    if (!/^[0-9A-Za-z_-]{1,64}$/.test(v)) {
      ctx.addIssue({ code: 'custom', message: `"${v}" must be 1-64 characters of [0-9A-Za-z_-]` });
    }
  });

/** Every environment variable logzip reads, with its default. docs/configuration.md documents each one. */
export const envSchema = z.object({
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
  LOGZIP_ADMIN_TOKEN: token,
  LOGZIP_INGEST_TOKEN: token,
  LOGZIP_ADMIN_PORT: port(8080),
  LOGZIP_PUBLIC_URL: z
    .string()
    .default('http://127.0.0.1:8080')
    .refine((v) => URL.canParse(v), 'not a URL'),
  LOGZIP_ADMIN_URL: url,
  LOGZIP_OPERATOR: optionalString,
  LOGZIP_FALLBACK_ENCODING: encoding,
  LOGZIP_MAX_ENTRIES: positiveInt(100_000),
  LOGZIP_MAX_TOTAL_BYTES: bytes('8GiB'),
  LOGZIP_MAX_ENTRY_BYTES: bytes('4GiB'),
  LOGZIP_MAX_RATIO: positiveInt(1000),
  LOGZIP_WORKER_CONCURRENCY: positiveInt(2),
  LOGZIP_WORKER_METRICS_PORT: port(9464),
  LOGZIP_QUEUE_PREFIX: queuePrefix,
  LOGZIP_SWEEP_INTERVAL: duration('5m'),
  LOGZIP_SWEEP_GRACE: duration('15m'),
  LOGZIP_SWEEP_FULL_INTERVAL: duration('1d'),
  LOGZIP_SWEEP_FULL_RATE: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return 5_000;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) {
        ctx.addIssue({
          code: 'custom',
          message: `"${v}" is not a whole number of objects per second (0: no limit)`,
        });
        return z.NEVER;
      }
      return n;
    }),
  LOGZIP_SWEEP_INVENTORY: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? undefined : v))
    .refine(
      (v) => v === undefined || /^s3:\/\/[^/]+\/.+/.test(v),
      'not s3://<bucket>/<key of manifest.json>',
    ),
  LOGZIP_LAMBDA_MAX_BYTES: bytes('1GiB'),
  LOGZIP_INGEST_MAX_BYTES: bytes('2GiB'),
  LOGZIP_ALERT_WEBHOOK_URL: url,
  LOGZIP_ALERT_SNS_TOPIC_ARN: optionalString,
  LOGZIP_ALERT_DIGEST_INTERVAL: duration('0'),
  LOGZIP_INDEX_PREFIX: z.string().default('logzip:'),
  LOGZIP_INDEX_RETENTION_DAYS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return 30;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) {
        ctx.addIssue({
          code: 'custom',
          message: `"${v}" is not a whole number of days (0 keeps everything)`,
        });
        return z.NEVER;
      }
      return n;
    }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof envSchema>;

export interface Limits {
  maxEntries: number;
  maxTotalBytes: number;
  maxEntryBytes: number;
  /** Applies to entries whose uncompressed size is over 1 MiB. */
  maxRatio: number;
}

export interface LogzipConfig {
  env: Env;
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
}

export interface ConfigRequirement {
  /** Variables that must be set for this process. */
  required?: ReadonlyArray<keyof Env>;
}

export type ConfigResult = { config: LogzipConfig; errors: [] } | { config: undefined; errors: string[] };

const ENV_KEYS = Object.keys(envSchema.shape) as Array<keyof Env>;

/** Validates the environment once. Returns every problem as data; the entry point prints them and exits 78. */
export function readConfig(
  source: Record<string, string | undefined>,
  requirement: ConfigRequirement = {},
): ConfigResult {
  const picked: Record<string, string> = {};
  for (const key of ENV_KEYS) {
    const value = source[key];
    if (value !== undefined) picked[key] = value;
  }
  const parsed = envSchema.safeParse(picked);
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
  const config: LogzipConfig = {
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
  };
  return { config: Object.freeze(config), errors: [] };
}

/** The exit code for a configuration error (EX_CONFIG). */
export const EXIT_CONFIG = 78;

/** One message naming each bad variable, as every process prints it before exiting 78. */
export function formatConfigErrors(errors: readonly string[]): string {
  return `logzip: invalid configuration:\n${errors.map((e) => `  - ${e}`).join('\n')}`;
}

export const DEFAULT_LIMITS: Limits = {
  maxEntries: 100_000,
  maxTotalBytes: 8 * 2 ** 30,
  maxEntryBytes: 4 * 2 ** 30,
  maxRatio: 1000,
};
