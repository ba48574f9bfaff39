import type { NotificationConfiguration, QueueConfiguration } from '@aws-sdk/client-s3';
import type { TriggerFilter } from '../../ports/route.js';
import {
  allowStatementsFor,
  announcesCreations,
  asArray,
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

/**
 * The queue policy the template writes, and what `queuePolicyAllowsBucket` accepts: only this
 * bucket, of this account, may send (a bucket name can be re-created in another account).
 */
export function bucketSendPolicy(queueArn: string, bucket: string, account: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'logzip-s3-send',
        Effect: 'Allow',
        Principal: { Service: 's3.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: {
          ArnEquals: { 'aws:SourceArn': `arn:aws:s3:::${bucket}` },
          StringEquals: { 'aws:SourceAccount': account },
        },
      },
    ],
  });
}

/**
 * Whether a queue policy lets S3 send the bucket's events: an Allow statement for principal
 * `s3.amazonaws.com` and `sqs:SendMessage` whose `aws:SourceArn` condition names the bucket.
 * A statement without a source condition does not count: it would let any bucket send.
 */
export function queuePolicyAllowsBucket(policyJson: string | undefined, bucketArn: string): boolean {
  // Only a statement naming the bucket as source counts: without it any bucket could send.
  const statements = allowStatementsFor(policyJson, 's3.amazonaws.com', ['sqs:SendMessage', 'sqs:*']);
  return statements.some((statement) =>
    Object.values(statement.Condition ?? {}).some((values) =>
      Object.entries(values).some(
        ([key, value]) => key.toLowerCase() === 'aws:sourcearn' && asArray(value).includes(bucketArn),
      ),
    ),
  );
}

/**
 * A plan with every entry that sends to the queue removed from its next configuration: leaving
 * buffered mode, the queue's entry goes in the same write that puts the direct entry back (or
 * leaves none, for the `queue` route). S3 refuses two entries whose prefix and suffix overlap for
 * the same event, so the two can never both be installed; one write means every upload is
 * announced by the old configuration or the new one, never by neither.
 */
export function planWithoutQueueEntries(plan: NotificationPlan, queueArn: string): NotificationPlan {
  const queues = plan.next.QueueConfigurations ?? [];
  const kept = queues.filter((entry) => !isQueueEntryFor(entry, queueArn));
  if (kept.length === queues.length) return plan;
  const next = { ...plan.next };
  if (kept.length === 0) delete next.QueueConfigurations;
  else next.QueueConfigurations = kept;
  return { changed: true, next };
}
