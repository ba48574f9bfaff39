import type { LambdaFailure } from '@logzip/core/events';
import {
  type DrainHandlerOptions,
  type DrainMessage,
  type HandleOutcome,
  recordLambdaFailures,
} from './drain.js';
import { parseNotification } from './notification-consumer.js';

/**
 * Reads one message of the trigger queue's dead-letter queue (buffered mode) into failure records,
 * as the on-failure destination's drain does in direct mode. The message is the S3 notification
 * itself, moved there after maxReceiveCount receives without success: a run that crashed, timed
 * out or failed every time. The handler recorded its attempts under the message id, so the record
 * keeps the code it knew; a message whose runs never reached the handler's code is `internal`.
 */
export async function handleDeadLetterMessage(
  message: DrainMessage,
  options: DrainHandlerOptions & { incomingBucket: string; incomingPrefix: string },
): Promise<HandleOutcome> {
  const messageId = message.messageId ?? 'unknown';
  const parsed = parseNotification(message.body, messageId, {
    incoming: { bucket: options.incomingBucket, prefix: options.incomingPrefix },
    logIdPattern: options.logIdPattern,
  });
  if (parsed.kind !== 'archives' || parsed.archives.length === 0) {
    const reason =
      parsed.kind === 'unreadable'
        ? parsed.reason
        : parsed.kind === 'test'
          ? 's3:TestEvent'
          : 'the notification names no archive with a log ID';
    options.onUnparseable?.(reason);
    return { outcome: 'unparseable', reason };
  }
  // A message moved to the dead-letter queue keeps its receive count; receiving it here adds one.
  const receives = Math.max(1, message.receiveCount - 1);
  const failures = parsed.archives.map(
    (job): LambdaFailure => ({
      logId: job.logId,
      source: { bucket: job.bucket, key: job.key },
      run: 'upload',
      requestId: messageId,
      at: new Date(),
      attempt: receives,
      condition: 'MaxReceiveCountExceeded',
      errorType: undefined,
      code: 'internal',
      message: `the notification was received ${receives} time(s) without success and moved to the dead-letter queue (a crash, a timeout, or failures every time)`,
      trace: [],
    }),
  );
  return recordLambdaFailures(failures, options, 'from the trigger dead-letter queue');
}
