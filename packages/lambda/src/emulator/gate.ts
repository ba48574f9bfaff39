import { GetBucketNotificationConfigurationCommand, type S3Client } from '@aws-sdk/client-s3';
import type { RouteStore, TriggerFilter } from '@logzip/core';
import { createLocalTriggerControl, triggerOfNotification } from '@logzip/core/aws-trigger';

/** Whether the emulated trigger is on right now, and which keys it fires for. */
export interface TriggerGateState {
  enabled: boolean;
  /** Why it is off (for the log). */
  reason?: string;
  /** S3 filter rules (case-sensitive prefix/suffix, like S3); undefined fires for every key. */
  filter?: Partial<TriggerFilter>;
  /** The notification entry's Id, used as `configurationId` in the event. */
  configurationId?: string;
}

export interface TriggerGate {
  /** `route:lambda` or `notification:<bucket>`, for logs. */
  readonly describe: string;
  read(): Promise<TriggerGateState>;
}

/**
 * Folder storage: the trigger is what core's local trigger control reads, on while the route flag
 * in Redis says `lambda`.
 */
export function routeFlagGate(routes: RouteStore): TriggerGate {
  const control = createLocalTriggerControl({ routeStore: routes });
  return {
    describe: 'route flag',
    async read() {
      const state = await control.read();
      if (state.enabled) return { enabled: true };
      const flag = state.details['flag'];
      return { enabled: false, reason: `route is ${typeof flag === 'string' ? flag : 'unset'}` };
    },
  };
}

/**
 * An S3-compatible server that keeps notification configurations (moto): the trigger is on while
 * the bucket's configuration holds an ObjectCreated entry for the logzip function, exactly what
 * `logzip route lambda` writes and `logzip route queue` removes, by core's definition
 * (triggerOfNotification), the one the AWS trigger control reports.
 */
export function notificationGate(s3: S3Client, bucket: string, functionName: string): TriggerGate {
  return {
    describe: `notification configuration of ${bucket}`,
    async read() {
      const configuration = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
      const trigger = triggerOfNotification(configuration, functionName);
      if (!trigger.enabled || trigger.firing === undefined) {
        return { enabled: false, reason: `no ObjectCreated entry for function ${functionName}` };
      }
      return {
        enabled: true,
        ...(trigger.filter === undefined ? {} : { filter: trigger.filter }),
        ...(trigger.firing.Id === undefined ? {} : { configurationId: trigger.firing.Id }),
      };
    },
  };
}

/** S3 applies filter rules to the raw key, case-sensitively. */
export function matchesFilter(key: string, filter: Partial<TriggerFilter> | undefined): boolean {
  if (filter === undefined) return true;
  if (filter.prefix !== undefined && !key.startsWith(filter.prefix)) return false;
  if (filter.suffix !== undefined && !key.endsWith(filter.suffix)) return false;
  return true;
}
