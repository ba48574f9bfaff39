export type { AlertMarker, AlertMarkerLocation } from './dedupe.js';
export { alertMarkerKey, claimAlertMarker, completeAlertMarker, readAlertMarker } from './dedupe.js';
export { AlertDeliveryError, isAlertDeliveryError } from './errors.js';
export type { DigestDecision, DigestGate, DueDigest, PendingFailure } from './group-digest.js';
export { decideDigest } from './group-digest.js';
export type { GroupedAlerter, GroupedAlerterOptions } from './grouped-alerter.js';
export { createGroupedAlerter, startDigestFlush } from './grouped-alerter.js';
export type { BuildAlertOptions, SlackBlock, SlackPayload, SnsPublishContent } from './message.js';
export {
  ALERT_RECENT_ATTEMPTS,
  ALERT_STACK_LINES,
  alertTitle,
  archivePageUrl,
  buildFailureAlert,
  failureIdOf,
  renderAlertText,
  renderSlackPayload,
  renderSnsPublish,
} from './message.js';
export type { FailureAlerterOptions } from './notify.js';
export {
  createFailureAlerter,
  DEFAULT_ALERT_RETRY_DELAY_MS,
  DEFAULT_ALERT_TIMEOUT_MS,
  disabledAlerter,
} from './notify.js';
export type { SecretEnv } from './redact.js';
export { describeUrl, scrubSecrets, secretsOf } from './redact.js';
export type {
  AlertAttempt,
  AlertChannel,
  AlertOutcome,
  AlertSource,
  ChannelOutcome,
  FailureAlert,
  FailureAlerter,
  FailureRun,
  FinalReason,
  NotifyOptions,
} from './types.js';
