import { randomUUID } from 'node:crypto';
import { DEFAULT_KEYS } from '@logzip/core/bullmq';
import type { Redis } from 'ioredis';
import type { SwitchLock } from '../operations/context.js';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** A Redis lock (`logzip:lock:<name>`, SET NX PX) that only its holder releases. */
export function createRedisLock(redis: Redis, prefix = DEFAULT_KEYS.lockPrefix): SwitchLock {
  return {
    async acquire(name, ttlMs) {
      const key = `${prefix}${name}`;
      const token = randomUUID();
      const ok = await redis.set(key, token, 'PX', ttlMs, 'NX');
      if (ok !== 'OK') return undefined;
      return async () => {
        try {
          await redis.eval(RELEASE, 1, key, token);
        } catch {
          // the lock expires by itself
        }
      };
    },
  };
}
