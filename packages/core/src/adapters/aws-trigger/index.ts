export type { AwsTriggerControlOptions, QueueAttributesReader } from './aws.js';
export { createAwsTriggerControl } from './aws.js';
export type { BufferedTriggerControlOptions, QueueReader } from './buffered.js';
export { createBufferedTriggerControl } from './buffered.js';
export type { TriggerFailure, TriggerStep } from './errors.js';
export { isTriggerControlError, TriggerControlError } from './errors.js';
export type { LocalTriggerControlOptions } from './local.js';
export { createLocalTriggerControl } from './local.js';
export type {
  TriggerMigrationOptions,
  TriggerMigrationRequest,
  TriggerMigrationResult,
  TriggerMode,
} from './migrate.js';
export { migrateTrigger } from './migrate.js';
export type { NotificationPlan, NotificationTrigger } from './notification.js';
export {
  buildEntry,
  filterOf,
  functionNameOf,
  planDisable,
  planEnable,
  policyAllowsBucket,
  TRIGGER_EVENTS,
  TRIGGER_ID,
  triggerOfNotification,
} from './notification.js';
export {
  bucketSendPolicy,
  buildQueueEntry,
  planQueueEntry,
  planWithoutQueueEntries,
  queuePolicyAllowsBucket,
} from './queue-notification.js';
