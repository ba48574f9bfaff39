/** What the route page and `logzip route` show of buffered mode's trigger, from its read-back details. */
export interface BufferedView {
  mappingState: string;
  batchSize: string;
  maximumConcurrency: string;
  reportBatchItemFailures: boolean;
  queue: string;
  oldestAge: string;
  deadLetterQueue: string;
  queuePolicyAllowsBucket: boolean;
}

function text(value: unknown, fallback = '–'): string {
  return value === null || value === undefined ? fallback : String(value);
}

/** Turns `TriggerState.details` of the buffered control into display strings (shared by the CLI and the UI). */
export function describeBuffered(details: Record<string, unknown>): BufferedView {
  const mapping = (details['mapping'] ?? null) as Record<string, unknown> | null;
  const queue = (details['queue'] ?? null) as Record<string, unknown> | null;
  const dlq = (details['deadLetterQueue'] ?? null) as Record<string, unknown> | null;
  const age = queue?.['oldestAgeSeconds'];
  return {
    mappingState: mapping === null ? 'MISSING' : text(mapping['state'], 'unknown'),
    batchSize: text(mapping?.['batchSize']),
    maximumConcurrency: text(mapping?.['maximumConcurrency'], 'unlimited'),
    reportBatchItemFailures: mapping?.['reportBatchItemFailures'] === true,
    queue:
      queue === null
        ? 'unreadable'
        : `${text(queue['visible'], '0')} waiting, ${text(queue['inFlight'], '0')} in flight`,
    oldestAge:
      typeof age === 'number'
        ? `${age} s`
        : 'unknown (CloudWatch ApproximateAgeOfOldestMessage; see its alarm)',
    deadLetterQueue:
      dlq === null
        ? 'none'
        : `${text(dlq['visible'], '0')} message(s), after ${text(dlq['maxReceiveCount'])} receives`,
    queuePolicyAllowsBucket: details['queuePolicyAllowsBucket'] === true,
  };
}
