import { Redis, type RedisOptions } from 'ioredis';
import { LogzipError } from '../../errors.js';
import type { Logger } from '../../ports/logger.js';

export interface CreateRedisOptions {
  /**
   * A connection BullMQ workers block on: commands wait for a reconnect forever
   * (`maxRetriesPerRequest: null`, which BullMQ requires) instead of failing after a few tries.
   */
  forWorker?: boolean;
  /** How long one TCP/TLS connect may take before ioredis gives up and retries. Default 10 s. */
  connectTimeoutMs?: number;
  /** Connection errors are logged here (at most one line per distinct message every 30 s). */
  logger?: Pick<Logger, 'warn'>;
  /** Extra ioredis options (TLS certificates, a connection name...). */
  redisOptions?: RedisOptions;
}

const ERROR_LOG_INTERVAL_MS = 30_000;

/** `redis://user:***@host:6379/0`: the URL with its password hidden, for logs and errors. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable REDIS_URL>';
  }
}

/**
 * An ioredis client for logzip. `rediss://` URLs connect over TLS; workers get
 * `maxRetriesPerRequest: null` as BullMQ requires. Connection errors never throw from here:
 * call {@link waitForRedis} (or {@link checkRedis}) at start so an unreachable Redis is an error
 * with a clear message instead of a process that waits forever.
 *
 * @example
 * const redis = createRedis(config.redisUrl, { forWorker: true, logger });
 * await checkRedis(redis); // throws LogzipError('storage_unavailable') when unreachable
 */
export function createRedis(url: string, options: CreateRedisOptions = {}): Redis {
  const parsed = new URL(url);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new LogzipError(
      'internal',
      `REDIS_URL must start with redis:// or rediss://, not ${parsed.protocol}//`,
    );
  }
  const tls = parsed.protocol === 'rediss:' ? { ...(options.redisOptions?.tls ?? {}) } : undefined;
  const redis = new Redis(url, {
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    maxRetriesPerRequest: options.forWorker ? null : 2,
    // Reconnect with a capped backoff for as long as the process lives; startup decides whether to wait.
    retryStrategy: (times) => Math.min(200 * 2 ** Math.min(times, 6), 5_000),
    ...options.redisOptions,
    ...(tls === undefined ? {} : { tls }),
  });
  const lastLogged = new Map<string, number>();
  redis.on('error', (error: Error) => {
    const now = Date.now();
    const previous = lastLogged.get(error.message);
    if (previous !== undefined && now - previous < ERROR_LOG_INTERVAL_MS) return;
    lastLogged.set(error.message, now);
    options.logger?.warn({ err: error.message, redis: redactRedisUrl(url) }, 'redis connection error');
  });
  redis.on('ready', () => lastLogged.clear());
  return redis;
}

function describe(redis: Redis): string {
  const { host, port, tls } = redis.options;
  return `${tls ? 'rediss' : 'redis'}://${host}:${port}`;
}

/**
 * Resolves once the client is connected; rejects with `storage_unavailable` after `timeoutMs`
 * (default 10 s), naming the address and the last connection error.
 */
export async function waitForRedis(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  if (redis.status === 'wait') void redis.connect().catch(() => {});
  let lastError: string | undefined;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      lastError = error.message;
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      redis.off('end', onEnd);
    };
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onEnd = () => {
      cleanup();
      reject(
        new LogzipError('storage_unavailable', `the connection to Redis at ${describe(redis)} was closed`),
      );
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new LogzipError(
          'storage_unavailable',
          `Redis at ${describe(redis)} could not be reached within ${timeoutMs} ms` +
            (lastError === undefined ? '' : ` (${lastError})`),
        ),
      );
    }, timeoutMs);
    redis.on('ready', onReady);
    redis.on('error', onError);
    redis.on('end', onEnd);
  });
}

export interface RedisCheck {
  /** e.g. "7.2.4" */
  version: string;
  /** e.g. "noeviction"; undefined when the server does not report it. */
  maxmemoryPolicy: string | undefined;
  /** Human-readable problems, each saying what to change. Empty when all is well. */
  warnings: string[];
}

function infoField(info: string, field: string): string | undefined {
  const match = new RegExp(`^${field}:(.*)$`, 'm').exec(info);
  return match?.[1]?.trim();
}

function versionAtLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split('.').map((part) => Number.parseInt(part, 10));
  return a > major || (a === major && b >= minor);
}

/**
 * Connects (within `timeoutMs`) and checks what BullMQ needs from the server: Redis ≥ 5
 * (≥ 6.2 recommended) and `maxmemory-policy noeviction` (any other policy can evict queue keys
 * and lose jobs). Reads INFO rather than CONFIG GET, which managed services often disable.
 * Throws `storage_unavailable` when Redis cannot be reached.
 */
export async function checkRedis(redis: Redis, options: { timeoutMs?: number } = {}): Promise<RedisCheck> {
  await waitForRedis(redis, options.timeoutMs);
  const info = await redis.info();
  const version = infoField(info, 'redis_version') ?? infoField(info, 'valkey_version') ?? '0.0.0';
  const maxmemoryPolicy = infoField(info, 'maxmemory_policy');
  const warnings: string[] = [];
  if (!versionAtLeast(version, 5, 0)) {
    warnings.push(`Redis ${version} is too old: BullMQ needs Redis 5 or newer (6.2 or newer recommended)`);
  } else if (!versionAtLeast(version, 6, 2)) {
    warnings.push(`Redis ${version} works but 6.2 or newer is recommended for BullMQ`);
  }
  if (maxmemoryPolicy !== undefined && maxmemoryPolicy !== 'noeviction') {
    warnings.push(
      `maxmemory-policy is "${maxmemoryPolicy}": Redis may evict queue keys and lose jobs; set it to "noeviction"` +
        ' (on ElastiCache through a parameter group)',
    );
  }
  return { version, maxmemoryPolicy, warnings };
}

/**
 * How ioredis says that Redis could not be reached: socket error codes, and a few plain errors
 * that carry no code (a closed connection, an offline queue given up on).
 */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE']);
const UNREACHABLE_TEXT =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|Connection is closed|MaxRetriesPerRequest|Stream isn't writeable/i;

/** Whether an error of the Redis client (or BullMQ over it) means Redis could not be reached. */
export function isRedisUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
  return error.name === 'MaxRetriesPerRequestError' || UNREACHABLE_TEXT.test(error.message);
}
