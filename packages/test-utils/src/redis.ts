import { randomUUID } from 'node:crypto';
import { describe } from 'vitest';
import { provided } from './provided.js';
import { isCI } from './services.js';

/** The run's Redis URL (from the global setup), or undefined when there is none. */
export function redisUrl(): string | undefined {
  return provided('redisUrl') ?? (process.env['LOGZIP_TEST_REDIS_URL'] || undefined);
}

/** The Redis URL, or an error saying how to get one. */
export function requireRedis(): string {
  const url = redisUrl();
  if (url === undefined) throw new Error('Redis is not available: start redis-server or set REDIS_URL');
  return url;
}

export function redisEnabled(): boolean {
  return redisUrl() !== undefined || isCI();
}

/** `describe` for suites that need Redis: skipped outside CI when there is none, failing under CI. */
export function describeWithRedis(name: string, body: () => void): void {
  describe.runIf(redisEnabled())(name, body);
}

/**
 * A unique name for Redis keys, BullMQ queue names or prefixes: `logzip-test-<label>-<uuid>`. No `:`
 * (BullMQ refuses it in queue names); add your own separator for key prefixes.
 */
export function uniquePrefix(label = 'test'): string {
  return `logzip-test-${label}-${randomUUID()}`;
}
