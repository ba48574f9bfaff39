import pino from 'pino';
import type { Logger } from '../../ports/logger.js';

export interface CreateLoggerOptions {
  /** The process's name, on every line (`logzip-worker`, `logzip-lambda`...). */
  name: string;
  level?: string;
  /** File descriptor to write to: 1 for stdout (services), 2 for stderr (the CLI keeps stdout for results). */
  fd?: 1 | 2;
  /** Keys bound to every line. */
  base?: Record<string, unknown>;
}

/**
 * Redacted wherever they appear: tokens, credentials and cookies must never reach a log line.
 * `*.` paths cover the objects pino serializes (requests, errors with a cause).
 */
export const REDACT_PATHS = [
  'authorization',
  'cookie',
  'token',
  'password',
  'secret',
  'headers.authorization',
  'headers.cookie',
  'headers["x-amz-security-token"]',
  'req.headers.authorization',
  'req.headers.cookie',
  '*.authorization',
  '*.token',
  '*.password',
  '*.secretAccessKey',
  '*.sessionToken',
];

/** A pino logger writing JSON lines, as every logzip process logs. */
export function createLogger(options: CreateLoggerOptions): pino.Logger & Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      base: { ...options.base },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    pino.destination({ fd: options.fd ?? 1, sync: options.fd === 2 }),
  );
}
