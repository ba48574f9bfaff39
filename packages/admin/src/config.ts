import { type LogzipConfig, parseDuration, readConfig } from '@logzip/core';
import { CLIENT_LIMIT_DEFAULTS, type ClientLimits } from './http/slow-clients.js';
import type { IngestGrant } from './ingest/gate.js';
import { DEFAULT_HEALTH_THRESHOLDS, type HealthThresholds } from './operations/health.js';

/** The admin's own variables, read beside core's in the same pass (documented in docs/configuration.md). */
export const ADMIN_ENV_DEFAULTS = {
  LOGZIP_ADMIN_HOST: '0.0.0.0',
} as const;

export interface AdminConfig extends LogzipConfig {
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
    required: requireToken ? ['LOGZIP_ADMIN_TOKEN', 'LOGZIP_INCOMING_BUCKET'] : ['LOGZIP_INCOMING_BUCKET'],
  });
  const errors: string[] = [...result.errors];
  const host = env['LOGZIP_ADMIN_HOST'] || ADMIN_ENV_DEFAULTS.LOGZIP_ADMIN_HOST;
  const clientLimits = readClientLimits(env, errors);
  const ingestGrants = readIngestGrants(env['LOGZIP_INGEST_TOKENS'], errors);
  const heartbeatStaleMs = readTimeout(
    env,
    'LOGZIP_HEALTH_HEARTBEAT_STALE',
    DEFAULT_HEALTH_THRESHOLDS.heartbeatStaleMs,
    errors,
  );
  const waitingStaleMs = readTimeout(
    env,
    'LOGZIP_HEALTH_WAITING_STALE',
    DEFAULT_HEALTH_THRESHOLDS.waitingStaleMs,
    errors,
  );
  if (env['LOGZIP_TRIGGER_MODE'] === 'buffered' && !env['LOGZIP_LAMBDA_FUNCTION']) {
    errors.push(
      'LOGZIP_LAMBDA_FUNCTION: required when LOGZIP_TRIGGER_MODE=buffered (the mapping is found by function and queue)',
    );
  }
  if (result.config === undefined || errors.length > 0) return { config: undefined, errors };
  const core = result.config;
  const incomingBucket = core.incoming.bucket as string;
  const config: AdminConfig = {
    ...core,
    incoming: { bucket: incomingBucket, prefix: core.incoming.prefix },
    output: { bucket: core.output.bucket ?? incomingBucket, prefix: core.output.prefix },
    admin: {
      token: core.env.LOGZIP_ADMIN_TOKEN,
      host,
      port: core.env.LOGZIP_ADMIN_PORT,
      publicUrl: core.env.LOGZIP_PUBLIC_URL,
      functionName: core.env.LOGZIP_LAMBDA_FUNCTION,
      failureQueueUrl: core.env.LOGZIP_LAMBDA_FAILURE_QUEUE_URL,
      queuePrefix: core.env.LOGZIP_QUEUE_PREFIX,
      clientLimits,
      ingestGrants,
      health: {
        heartbeatStaleMs,
        waitingStaleMs,
        // Three missed sweeps; a process that sweeps nothing (0s) still expects the default's.
        sweepStaleMs:
          core.env.LOGZIP_SWEEP_INTERVAL > 0
            ? 3 * core.env.LOGZIP_SWEEP_INTERVAL
            : DEFAULT_HEALTH_THRESHOLDS.sweepStaleMs,
      },
    },
  };
  return { config: Object.freeze(config), errors: [] };
}

function readTimeout(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  errors: string[],
): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const ms = parseDuration(text);
  if (ms === undefined || ms < 1000) {
    errors.push(`${name}: "${text}" is not a duration of at least 1s like 30s or 2h`);
    return fallback;
  }
  return ms;
}

function readClientLimits(env: Record<string, string | undefined>, errors: string[]): ClientLimits {
  const requestTimeoutMs = readTimeout(
    env,
    'LOGZIP_ADMIN_REQUEST_TIMEOUT',
    CLIENT_LIMIT_DEFAULTS.requestTimeoutMs,
    errors,
  );
  const ingestRequestTimeoutMs = readTimeout(
    env,
    'LOGZIP_INGEST_REQUEST_TIMEOUT',
    CLIENT_LIMIT_DEFAULTS.ingestRequestTimeoutMs,
    errors,
  );
  const connections = env['LOGZIP_ADMIN_MAX_CONNECTIONS_PER_ADDRESS'];
  let maxConnectionsPerAddress = CLIENT_LIMIT_DEFAULTS.maxConnectionsPerAddress;
  if (connections !== undefined && connections !== '') {
    const n = Number(connections);
    if (!Number.isInteger(n) || n < 0) {
      errors.push(
        `LOGZIP_ADMIN_MAX_CONNECTIONS_PER_ADDRESS: "${connections}" is not a whole number (0 = no limit)`,
      );
    } else maxConnectionsPerAddress = n;
  }
  return { requestTimeoutMs, ingestRequestTimeoutMs, maxConnectionsPerAddress };
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
    const where = `LOGZIP_INGEST_TOKENS entry ${index + 1}`;
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
