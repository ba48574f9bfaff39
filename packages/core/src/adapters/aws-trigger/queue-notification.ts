import type { NotificationConfiguration, QueueConfiguration } from '@aws-sdk/client-s3';
import type { TriggerFilter } from '../../ports/route.js';
import {
  announcesCreations,
  isEntryFor,
  keyFilterOf,
  type NotificationPlan,
  TRIGGER_EVENTS,
  TRIGGER_ID,
  writableConfiguration,
} from './notification.js';

/** Whether an entry sends creation events to the queue (whatever its Id: the queue is logzip's). */
function isQueueEntryFor(entry: QueueConfiguration, queueArn: string): boolean {
  return entry.QueueArn === queueArn;
}

/** The entry buffered mode writes: creation events under the incoming prefix, to the queue. */
export function buildQueueEntry(queueArn: string, filter: TriggerFilter): QueueConfiguration {
  return { Id: TRIGGER_ID, QueueArn: queueArn, Events: [...TRIGGER_EVENTS], ...keyFilterOf(filter) };
}

/** The queue's entries in a configuration, and the one that delivers the incoming archives. */
export function findQueueEntries(
  current: NotificationConfiguration,
  queueArn: string,
  expected: TriggerFilter,
): { entries: QueueConfiguration[]; matching: QueueConfiguration | undefined } {
  const entries = (current.QueueConfigurations ?? []).filter((entry) => isQueueEntryFor(entry, queueArn));
  return { entries, matching: entries.find((entry) => announcesCreations(entry, expected)) };
}

/**
 * Makes the configuration send the incoming archives to the queue, in one write: the queue's
 * entry is added when no entry of the queue matches, and a direct-mode entry invoking the function
 * is removed in the same write, so every upload is announced by exactly one of them (never by
 * neither: this is how a deployment moves from direct to buffered without a gap). Every other
 * entry is kept as it was read. No change when the queue's entry is there and no direct entry is.
 */
export function planQueueEntry(
  current: NotificationConfiguration,
  queueArn: string,
  functionName: string,
  filter: TriggerFilter,
): NotificationPlan {
  const next = writableConfiguration(current);
  let changed = false;
  const { matching } = findQueueEntries(current, queueArn, filter);
  if (matching === undefined) {
    // A foreign entry may already use the Id: S3 refuses two entries with one Id.
    const taken =
      [...(next.QueueConfigurations ?? []), ...(next.TopicConfigurations ?? [])].some(
        (entry) => entry.Id === TRIGGER_ID,
      ) ||
      (next.LambdaFunctionConfigurations ?? []).some(
        (entry) => entry.Id === TRIGGER_ID && !isEntryFor(entry, functionName),
      );
    const entry = buildQueueEntry(queueArn, filter);
    if (taken) entry.Id = `${TRIGGER_ID}-queue`;
    next.QueueConfigurations = [...(next.QueueConfigurations ?? []), entry];
    changed = true;
  }
  const lambdas = next.LambdaFunctionConfigurations ?? [];
  const kept = lambdas.filter((entry) => !isEntryFor(entry, functionName));
  if (kept.length !== lambdas.length) {
    if (kept.length === 0) delete next.LambdaFunctionConfigurations;
    else next.LambdaFunctionConfigurations = kept;
    changed = true;
  }
  return { changed, next };
}

interface QueuePolicyStatement {
  Effect?: string;
  Principal?: string | { Service?: string | string[] };
  Action?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * Whether a queue policy lets S3 send the bucket's events: an Allow statement for principal
 * `s3.amazonaws.com` and `sqs:SendMessage` whose `aws:SourceArn` condition names the bucket.
 * A statement without a source condition does not count: it would let any bucket send.
 */
export function queuePolicyAllowsBucket(policyJson: string | undefined, bucketArn: string): boolean {
  if (policyJson === undefined || policyJson === '') return false;
  let policy: { Statement?: QueuePolicyStatement | QueuePolicyStatement[] };
  try {
    policy = JSON.parse(policyJson) as typeof policy;
  } catch {
    return false;
  }
  return asArray(policy.Statement).some((statement) => {
    if (statement.Effect !== 'Allow') return false;
    const principals =
      typeof statement.Principal === 'string' ? [statement.Principal] : asArray(statement.Principal?.Service);
    if (!principals.includes('s3.amazonaws.com')) return false;
    if (!asArray(statement.Action).some((a) => a === 'sqs:SendMessage' || a === 'sqs:*')) return false;
    for (const values of Object.values(statement.Condition ?? {})) {
      for (const [key, value] of Object.entries(values)) {
        if (key.toLowerCase() === 'aws:sourcearn' && asArray(value).includes(bucketArn)) return true;
      }
    }
    return false;
  });
}
