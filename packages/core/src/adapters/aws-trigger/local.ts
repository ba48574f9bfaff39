import type { RouteStore, TriggerControl, TriggerState } from '../../ports/route.js';
import { TriggerControlError } from './errors.js';

export interface LocalTriggerControlOptions {
  /** The route flag the local trigger emulator obeys. */
  routeStore: RouteStore;
}

/**
 * The trigger of folder storage (`LOGZIP_STORAGE_DIR`): the local trigger emulator fires while
 * the route flag in Redis says `lambda`, so the flag *is* the trigger. Enabling sets it to
 * `lambda`, disabling to `queue`; a missing flag reads as a trigger that does not fire.
 *
 * @example
 * const trigger = createLocalTriggerControl({ routeStore: createRedisRouteStore(redis) });
 */
export function createLocalTriggerControl(options: LocalTriggerControlOptions): TriggerControl {
  const { routeStore } = options;

  async function read(): Promise<TriggerState> {
    let flag: string | undefined;
    try {
      flag = await routeStore.get();
    } catch (error) {
      throw new TriggerControlError('route_flag', 'platform_error', 'reading the route flag failed', {
        cause: error,
        retryable: true,
      });
    }
    return {
      enabled: flag === 'lambda',
      details: {
        kind: 'local',
        emulator: 'the local trigger emulator fires while the route flag says lambda',
        flag: flag ?? null,
      },
      problems:
        flag === undefined ? ['the route flag is not set: the local trigger emulator does not fire'] : [],
    };
  }

  async function set(route: 'lambda' | 'queue'): Promise<TriggerState> {
    try {
      await routeStore.set(route);
    } catch (error) {
      throw new TriggerControlError(
        'route_flag',
        'platform_error',
        `setting the route flag to ${route} failed`,
        {
          cause: error,
          retryable: true,
        },
      );
    }
    return read();
  }

  return {
    read,
    enable: () => set('lambda'),
    disable: () => set('queue'),
  };
}
