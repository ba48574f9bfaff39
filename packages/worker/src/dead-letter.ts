import { type FailureRecord, parseLogId, silentLogger } from '@logzip/core';
import {
  type DrainHandlerOptions,
  type DrainMessage,
  type HandleOutcome,
  type LambdaFailure,
  recordLambdaFailure,
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
  const log = options.logger ?? silentLogger;
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
  const records: FailureRecord[] = [];
  for (const job of parsed.archives) {
    const failure: LambdaFailure = {
      logId: parseLogId(job.key, options.logIdPattern),
      source: { bucket: job.bucket, key: job.key },
      requestId: messageId,
      at: new Date(),
      attempt: Math.max(1, message.receiveCount - 1),
      condition: 'MaxReceiveCountExceeded',
      errorType: undefined,
      code: 'internal',
      message: `the notification was received ${Math.max(1, message.receiveCount - 1)} time(s) without success and moved to the dead-letter queue (a crash, a timeout, or failures every time)`,
      trace: [],
    };
    const record = await recordLambdaFailure(
      { state: options.state, ...(options.clock ? { clock: options.clock } : {}) },
      failure,
    );
    records.push(record);
    options.onRecorded?.(failure, record);
    log.warn(
      { logId: failure.logId, sqsMessageId: messageId, key: job.key, code: record.code, state: record.state },
      'notification reached the dead-letter queue: failure record written',
    );
    if (record.state === 'failed' && options.alerter !== undefined) {
      await options.alerter.notifyFailure(record, {
        source: 'lambda-destination',
        requestId: messageId,
        condition: failure.condition,
      });
    }
  }
  return { outcome: 'recorded', records };
}
