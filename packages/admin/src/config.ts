import { type LogzipConfig, readConfig } from '@logzip/core';

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
    },
  };
  return { config: Object.freeze(config), errors: [] };
}
