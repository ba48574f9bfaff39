import type { Logger } from '@logzip/core';
import { REDACT_PATHS } from '@logzip/core/logger';
import pino from 'pino';

/**
 * The function's pino logger. Unlike the services' logger it writes synchronously: Lambda may
 * freeze or end the container right after the handler returns, and a line still buffered then is
 * the line an operator needed.
 */
export function createLambdaLogger(
  options: { level?: string; destination?: pino.DestinationStream } = {},
): Logger {
  const logger = pino(
    {
      name: 'logzip-lambda',
      level: options.level ?? 'info',
      base: {},
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    options.destination ?? pino.destination({ fd: 1, sync: true }),
  );
  return withUniqueBindings(logger);
}

/**
 * Wraps a logger so that child() only binds keys whose value is new. The handler binds logId,
 * bucket and key, and the engine binds them again for its own lines; pino would print each twice.
 */
export function withUniqueBindings(base: Logger, bound: Readonly<Record<string, unknown>> = {}): Logger {
  return {
    debug: (obj, msg) => base.debug(obj, msg),
    info: (obj, msg) => base.info(obj, msg),
    warn: (obj, msg) => base.warn(obj, msg),
    error: (obj, msg) => base.error(obj, msg),
    child(bindings) {
      const fresh: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(bindings)) {
        if (value === undefined) continue;
        if (!Object.hasOwn(bound, name) || !Object.is(bound[name], value)) fresh[name] = value;
      }
      if (Object.keys(fresh).length === 0) return withUniqueBindings(base, bound);
      return withUniqueBindings(base.child(fresh), { ...bound, ...fresh });
    },
  };
}
