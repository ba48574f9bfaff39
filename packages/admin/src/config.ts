import { envFields, type LogzipConfig, readConfig, sharedEnvSchema } from '@logzip/core';
import * as z from 'zod';
import type { ClientLimits } from './http/slow-clients.js';
import type { IngestGrant } from './ingest/gate.js';
// Types only: the CLI's commands read this module, and the health view's imports are not light.
import type { HealthThresholds } from './operations/health.js';

const { bytes, duration, integer, optionalString, port, url } = envFields;

/**
 * The admin's variables (service and CLI): core's shared ones and those only the admin reads, each
 * with its one default (documented in docs/configuration.md).
 */
export const adminEnvSchema = sharedEnvSchema.extend({
  LOGZIP_ADMIN_PORT: port(8080),
  LOGZIP_ADMIN_HOST: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? '0.0.0.0' : v)),
  LOGZIP_ADMIN_URL: url,
  LOGZIP_OPERATOR: optionalString,
  LOGZIP_INGEST_MAX_BYTES: bytes('2GiB'),
  LOGZIP_ADMIN_REQUEST_TIMEOUT: duration('30s', { min: 1_000, example: '30s or 2h' }),
  LOGZIP_INGEST_REQUEST_TIMEOUT: duration('2h', { min: 1_000, example: '30s or 2h' }),
  LOGZIP_ADMIN_MAX_CONNECTIONS_PER_ADDRESS: integer(128, { min: 0, what: 'a whole number (0 = no limit)' }),
  LOGZIP_INGEST_TOKENS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const errors: string[] = [];
      const grants = readIngestGrants(v, errors);
      for (const message of errors) ctx.addIssue({ code: 'custom', message });
      return grants;
    }),
  LOGZIP_ADMIN_METRICS_TOKEN: z
    .string()
    .optional()
    .transform((v) => (v === '' ? undefined : v))
    .refine((v) => v === undefined || /^\S{32,}$/.test(v), 'must be at least 32 characters, without spaces'),
  LOGZIP_HEALTH_HEARTBEAT_STALE: duration('30s', { min: 1_000, example: '30s or 2m' }),
  LOGZIP_HEALTH_WAITING_STALE: duration('5m', { min: 1_000, example: '30s or 2m' }),
  // `logzip upload`: attempts per upload (the first included) and the first wait between them.
  LOGZIP_UPLOAD_ATTEMPTS: integer(5, { min: 1, max: 20, what: 'a whole number from 1 to 20' }),
  LOGZIP_UPLOAD_BACKOFF: duration('1s', { example: '1s or 500ms' }).refine(
    (ms) => ms <= 600_000,
    'must be at most 10m',
  ),
});

export type AdminEnv = z.infer<typeof adminEnvSchema>;

const DEFAULT_ADMIN_ENV = adminEnvSchema.parse({});

/** The client limits when no variable sets them (from the schema: one default per variable). */
export const CLIENT_LIMIT_DEFAULTS: ClientLimits = Object.freeze({
  requestTimeoutMs: DEFAULT_ADMIN_ENV.LOGZIP_ADMIN_REQUEST_TIMEOUT,
  ingestRequestTimeoutMs: DEFAULT_ADMIN_ENV.LOGZIP_INGEST_REQUEST_TIMEOUT,
  maxConnectionsPerAddress: DEFAULT_ADMIN_ENV.LOGZIP_ADMIN_MAX_CONNECTIONS_PER_ADDRESS,
});

/** When the health strip turns red with no configuration (the schema's defaults; sweeps every 5m). */
export const DEFAULT_HEALTH_THRESHOLDS: HealthThresholds = Object.freeze({
  heartbeatStaleMs: DEFAULT_ADMIN_ENV.LOGZIP_HEALTH_HEARTBEAT_STALE,
  waitingStaleMs: DEFAULT_ADMIN_ENV.LOGZIP_HEALTH_WAITING_STALE,
  sweepStaleMs: 3 * DEFAULT_ADMIN_ENV.LOGZIP_SWEEP_INTERVAL,
});

export interface AdminConfig extends LogzipConfig<AdminEnv> {
  incoming: { bucket: string; prefix: string };
  output: { bucket: string; prefix: string };
  admin: {
    /** LOGZIP_ADMIN_TOKEN; undefined for the CLI's direct path, which does not need it. */
    token: string | undefined;
    host: string;
    port: number;
    publicUrl: string;
    functionName: string | undefined;
    failureQueueUrl: string | undefined;
    /** BullMQ key prefix; every process of one deployment shares it (LOGZIP_QUEUE_PREFIX). */
    queuePrefix: string;
    /** LOGZIP_ADMIN_REQUEST_TIMEOUT, LOGZIP_INGEST_REQUEST_TIMEOUT, LOGZIP_ADMIN_MAX_CONNECTIONS_PER_ADDRESS. */
    clientLimits: ClientLimits;
    /** LOGZIP_INGEST_TOKENS: named ingest tokens, each limited to a log-ID prefix. */
    ingestGrants: IngestGrant[];
    /** LOGZIP_ADMIN_METRICS_TOKEN: a bearer token for GET /metrics only. */
    metricsToken: string | undefined;
    /** LOGZIP_HEALTH_HEARTBEAT_STALE, LOGZIP_HEALTH_WAITING_STALE; the sweep's from LOGZIP_SWEEP_INTERVAL. */
    health: HealthThresholds;
  };
}

export type AdminConfigResult = { config: AdminConfig; errors: [] } | { config: undefined; errors: string[] };

/**
 * Validates the environment once. The service needs the admin token and the incoming bucket; the
 * CLI's direct path needs the bucket only (`requireToken: false`).
 */
export function readAdminConfig(
  env: Record<string, string | undefined>,
  options: { requireToken?: boolean } = {},
): AdminConfigResult {
  const requireToken = options.requireToken ?? true;
  const result = readConfig(env, {
    schema: adminEnvSchema,
    required: requireToken ? ['LOGZIP_ADMIN_TOKEN', 'LOGZIP_INCOMING_BUCKET'] : ['LOGZIP_INCOMING_BUCKET'],
  });
  const errors: string[] = [...result.errors];
  if (env['LOGZIP_TRIGGER_MODE'] === 'buffered' && !env['LOGZIP_LAMBDA_FUNCTION']) {
    errors.push(
      'LOGZIP_LAMBDA_FUNCTION: required when LOGZIP_TRIGGER_MODE=buffered (the mapping is found by function and queue)',
    );
  }
  if (result.config === undefined || errors.length > 0) return { config: undefined, errors };
  const core = result.config;
  const e = core.env;
  const incomingBucket = core.incoming.bucket as string;
  const config: AdminConfig = {
    ...core,
    incoming: { bucket: incomingBucket, prefix: core.incoming.prefix },
    output: { bucket: core.output.bucket ?? incomingBucket, prefix: core.output.prefix },
    admin: {
      token: e.LOGZIP_ADMIN_TOKEN,
      host: e.LOGZIP_ADMIN_HOST,
      port: e.LOGZIP_ADMIN_PORT,
      publicUrl: e.LOGZIP_PUBLIC_URL,
      functionName: e.LOGZIP_LAMBDA_FUNCTION,
      failureQueueUrl: e.LOGZIP_LAMBDA_FAILURE_QUEUE_URL,
      queuePrefix: core.queuePrefix,
      clientLimits: {
        requestTimeoutMs: e.LOGZIP_ADMIN_REQUEST_TIMEOUT,
        ingestRequestTimeoutMs: e.LOGZIP_INGEST_REQUEST_TIMEOUT,
        maxConnectionsPerAddress: e.LOGZIP_ADMIN_MAX_CONNECTIONS_PER_ADDRESS,
      },
      ingestGrants: e.LOGZIP_INGEST_TOKENS,
      metricsToken: e.LOGZIP_ADMIN_METRICS_TOKEN,
      health: {
        heartbeatStaleMs: e.LOGZIP_HEALTH_HEARTBEAT_STALE,
        waitingStaleMs: e.LOGZIP_HEALTH_WAITING_STALE,
        // Three missed sweeps; a process that sweeps nothing (0s) still expects the default's.
        sweepStaleMs:
          e.LOGZIP_SWEEP_INTERVAL > 0 ? 3 * e.LOGZIP_SWEEP_INTERVAL : DEFAULT_HEALTH_THRESHOLDS.sweepStaleMs,
      },
    },
  };
  return { config: Object.freeze(config), errors: [] };
}

const GRANT_NAME_RE = /^[0-9A-Za-z_-]{1,64}$/;
const GRANT_PREFIX_RE = /^[0-9A-Za-z_-]{1,63}$/;

/**
 * LOGZIP_INGEST_TOKENS: `name:prefix:token` entries separated by commas or newlines; `prefix` is
 * the start of the log IDs the token may send, or `*` for all. Two entries may share a name (a
 * rotation: the old and the new token both work until the old entry is removed); a token may not
 * appear twice. Errors never quote a token.
 */
export function readIngestGrants(text: string | undefined, errors: string[]): IngestGrant[] {
  if (text === undefined || text.trim() === '') return [];
  const grants: IngestGrant[] = [];
  const seen = new Set<string>();
  const entries = text
    .split(/[,\n]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  entries.forEach((entry, index) => {
    const [name = '', prefix = '', ...rest] = entry.split(':');
    const token = rest.join(':');
    const where = `entry ${index + 1}`;
    if (!GRANT_NAME_RE.test(name)) {
      errors.push(`${where}: the name must be 1-64 characters of [0-9A-Za-z_-] (format name:prefix:token)`);
    } else if (prefix !== '*' && !GRANT_PREFIX_RE.test(prefix)) {
      errors.push(`${where} (${name}): the prefix must be * or 1-63 characters of [0-9A-Za-z_-]`);
    } else if (token.length < 32 || /\s/.test(token)) {
      errors.push(`${where} (${name}): the token must be at least 32 characters, without spaces`);
    } else if (seen.has(token)) {
      errors.push(`${where} (${name}): this token is already used by another entry`);
    } else {
      seen.add(token);
      grants.push({ name, logIdPrefix: prefix === '*' ? '' : prefix, token });
    }
  });
  return grants;
}
