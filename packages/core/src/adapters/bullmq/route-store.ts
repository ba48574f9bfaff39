import type { Redis } from 'ioredis';
import { ROUTES, type Route, type RouteStore } from '../../ports/route.js';
import { DEFAULT_KEYS } from './keys.js';

/**
 * The route flag in Redis (`logzip:route` = `lambda` | `queue`), shared by every logzip process;
 * missing means nobody decided yet. Any other value reads as
 * unknown, never as a guess.
 *
 * @example
 * const routes = createRedisRouteStore(redis);
 * if ((await routes.get()) === 'queue') { ... }
 */
export function createRedisRouteStore(redis: Redis, key: string = DEFAULT_KEYS.route): RouteStore {
  return {
    async get(): Promise<Route | undefined> {
      const value = await redis.get(key);
      return (ROUTES as readonly string[]).includes(value ?? '') ? (value as Route) : undefined;
    },
    async set(route: Route): Promise<void> {
      await redis.set(key, route);
    },
  };
}
