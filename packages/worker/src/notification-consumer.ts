import { setTimeout as delay } from 'node:timers/promises';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  type ExtractJob,
  jobIdFor,
  type Logger,
  parseLogId,
  type RouteStore,
  silentLogger,
} from '@logzip/core';
import type { BullmqProducer } from '@logzip/core/bullmq';
import { decodeS3Key, isSupportedEventVersion, s3RecordSchema } from '@logzip/core/events';
import type { Drain } from './drain.js';

export type ParsedNotification =
  | { kind: 'test' }
  | { kind: 'archives'; archives: ExtractJob[]; ignored: string[] }
  | { kind: 'unreadable'; reason: string };

/**
 * Reads one message S3 sent to the trigger queue into extraction jobs. Records outside the
 * incoming bucket and prefix, non-`.zip` keys and keys without a log ID are ignored with a reason
 * (the Lambda handler ignores the same ones). Never throws.
 */
export function parseNotification(
  body: string,
  messageId: string,
  options: { incoming: { bucket: string; prefix: string }; logIdPattern: RegExp },
): ParsedNotification {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { kind: 'unreadable', reason: 'the message is not JSON' };
  }
  if (typeof json !== 'object' || json === null) return { kind: 'unreadable', reason: 'not a JSON object' };
  if ((json as { Event?: unknown }).Event === 's3:TestEvent') return { kind: 'test' };
  const records = (json as { Records?: unknown }).Records;
  if (!Array.isArray(records)) return { kind: 'unreadable', reason: 'not an S3 event notification' };
  const archives: ExtractJob[] = [];
  const ignored: string[] = [];
  for (const raw of records) {
    const parsed = s3RecordSchema.safeParse(raw);
    if (!parsed.success) {
      ignored.push('a record that is not an S3 event record');
      continue;
    }
    const record = parsed.data;
    if (record.eventSource !== 'aws:s3' || !isSupportedEventVersion(record.eventVersion)) {
      ignored.push(`a record of ${record.eventSource} version ${record.eventVersion}, not an S3 2.x event`);
      continue;
    }
    const key = decodeS3Key(record.s3.object.key);
    const bucket = record.s3.bucket.name;
    if (key === undefined) {
      ignored.push(`${record.s3.object.key}: not validly URL-encoded`);
      continue;
    }
    if (!record.eventName.startsWith('ObjectCreated:')) {
      ignored.push(`${key}: ${record.eventName} is not an ObjectCreated event`);
      continue;
    }
    if (bucket !== options.incoming.bucket || !key.startsWith(options.incoming.prefix)) {
      ignored.push(`${bucket}/${key}: outside the incoming bucket and prefix`);
      continue;
    }
    let logId: string;
    try {
      logId = parseLogId(key, options.logIdPattern);
    } catch {
      ignored.push(`${key}: no log ID in the key`);
      continue;
    }
    const s3RequestId = record.responseElements?.['x-amz-request-id'];
    archives.push({
      logId,
      bucket,
      key,
      reason: 'notification',
      requestIds: { sqsMessageId: messageId, ...(s3RequestId === undefined ? {} : { s3RequestId }) },
    });
  }
  return { kind: 'archives', archives, ignored };
}

/** Job states in which a job has not started: it will read the archive as it is now. */
const NOT_STARTED = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children']);

export interface NotificationConsumerOptions {
  sqs: SQSClient;
  /** The trigger queue (LOGZIP_TRIGGER_QUEUE_URL). */
  queueUrl: string;
  producer: BullmqProducer;
  /** The consumer takes messages only while the route flag says `queue`. */
  routes: RouteStore;
  incoming: { bucket: string; prefix: string };
  logIdPattern: RegExp;
  logger?: Logger;
  /** Long-poll wait; also how soon a switch to `lambda` stops the polling (default 5 s). */
  waitSeconds?: number;
  /** How often the route flag is read while it is not `queue` (default 2 s). */
  routeCheckMs?: number;
  /** How long a received message stays invisible while its jobs are stored (default 60 s). */
  visibilitySeconds?: number;
  /** How long a message waits for a running job of its log ID before it returns to the queue (default 30 s). */
  busyWaitMs?: number;
  /** When a message must come back: visible again after this long (default 10 s). */
  retryDelaySeconds?: number;
  errorDelayMs?: number;
  /** Called per job stored or collapsed (metrics). */
  onStored?: (outcome: 'enqueued' | 'collapsed') => void;
}

/** Waits, or less when the signal aborts (then without an error: the loop checks the signal). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => {});
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The queue route of buffered mode: while the route flag says `queue` (the event source mapping is
 * disabled), long-polls the trigger queue and turns each S3 notification into an extraction job.
 * A message is deleted only once every archive it names has a job in BullMQ that has not started
 * yet (so it reads the upload the message announces): a new job, or one already waiting for the
 * same key (duplicates collapse: one job per log ID). While a job of the log ID is running, the
 * message waits for it (busyWaitMs), then comes back later rather than be lost. A message that
 * cannot be read returns to the queue and reaches the dead-letter queue after maxReceiveCount.
 * `s3:TestEvent` messages are deleted.
 *
 * @example
 * const consumer = startNotificationConsumer({ sqs, queueUrl, producer, routes, incoming, logIdPattern, logger });
 * await consumer.stop();
 */
export function startNotificationConsumer(options: NotificationConsumerOptions): Drain {
  const log = (options.logger ?? silentLogger).child({
    component: 'notifications',
    queueUrl: options.queueUrl,
  });
  const abort = new AbortController();
  const { sqs, queueUrl, producer } = options;
  const busyWaitMs = options.busyWaitMs ?? 30_000;

  /** Stores one archive's job; false when a running job of its log ID did not finish in time. */
  async function store(job: ExtractJob, jobLog: Logger): Promise<boolean> {
    const deadline = Date.now() + busyWaitMs;
    for (;;) {
      const result = await producer.enqueue(job);
      if (result.outcome === 'enqueued') {
        options.onStored?.('enqueued');
        jobLog.info({ jobId: result.jobId }, 'notification stored as a job');
        return true;
      }
      if (result.outcome === 'refused') throw new Error(`the queue refused the job: ${result.reason}`);
      const existing = await producer.queue.getJob(jobIdFor(job.logId));
      const state = existing === undefined ? 'unknown' : await existing.getState();
      if (NOT_STARTED.has(state) && (existing?.data as ExtractJob | undefined)?.key === job.key) {
        options.onStored?.('collapsed');
        jobLog.info({ jobId: result.jobId, state }, 'a job for this archive is already waiting: collapsed');
        return true;
      }
      // A job of the log ID is running (it may have read the archive before this upload), or waits
      // for another key: wait for it to finish, then enqueue again.
      if (Date.now() >= deadline || abort.signal.aborted) return false;
      await sleep(500, abort.signal);
    }
  }

  async function handle(message: Message): Promise<void> {
    const messageId = message.MessageId ?? 'unknown';
    const messageLog = log.child({ sqsMessageId: messageId });
    const parsed = parseNotification(message.Body ?? '', messageId, options);
    let done = false;
    if (parsed.kind === 'test') {
      messageLog.info({}, 's3:TestEvent ignored');
      done = true;
    } else if (parsed.kind === 'unreadable') {
      messageLog.error(
        { reason: parsed.reason, body: (message.Body ?? '').slice(0, 1_000) },
        'unreadable trigger-queue message: left for the dead-letter queue',
      );
    } else {
      for (const reason of parsed.ignored) messageLog.info({ reason }, 'record ignored');
      done = true;
      for (const job of parsed.archives) {
        const jobLog = messageLog.child({
          logId: job.logId,
          key: job.key,
          ...(job.requestIds?.['s3RequestId'] === undefined
            ? {}
            : { s3RequestId: job.requestIds['s3RequestId'] }),
        });
        try {
          if (!(await store(job, jobLog))) {
            jobLog.info({}, 'a job of this log ID is still running: the message comes back later');
            done = false;
          }
        } catch (error) {
          jobLog.warn({ err: messageOf(error) }, 'could not store the job: the message comes back later');
          done = false;
        }
      }
    }
    if (done) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    } else if (parsed.kind !== 'unreadable') {
      await sqs
        .send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrl,
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: options.retryDelaySeconds ?? 10,
          }),
        )
        .catch(() => {});
    }
  }

  const done = (async () => {
    log.info({}, 'consuming the trigger queue while the route is queue');
    let consuming = false;
    while (!abort.signal.aborted) {
      let route: string | undefined;
      try {
        route = await options.routes.get();
      } catch (error) {
        log.warn({ err: messageOf(error) }, 'could not read the route flag; retrying');
        await sleep(options.errorDelayMs ?? 5_000, abort.signal);
        continue;
      }
      if (route !== 'queue') {
        if (consuming) log.info({ route }, 'route is not queue: the event source mapping takes the messages');
        consuming = false;
        await sleep(options.routeCheckMs ?? 2_000, abort.signal);
        continue;
      }
      if (!consuming) log.info({}, 'route is queue: taking messages from the trigger queue');
      consuming = true;
      let messages: Message[];
      try {
        const received = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: options.waitSeconds ?? 5,
            VisibilityTimeout: options.visibilitySeconds ?? 60,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          { abortSignal: abort.signal },
        );
        messages = received.Messages ?? [];
      } catch (error) {
        if (abort.signal.aborted) break;
        log.warn({ err: messageOf(error) }, 'could not receive from the trigger queue; retrying');
        await sleep(options.errorDelayMs ?? 5_000, abort.signal);
        continue;
      }
      await Promise.all(
        messages.map((message) =>
          handle(message).catch((error: unknown) =>
            log
              .child({ sqsMessageId: message.MessageId })
              .warn({ err: messageOf(error) }, 'could not finish a trigger-queue message; it comes back'),
          ),
        ),
      );
    }
    log.info({}, 'trigger-queue consumer stopped');
  })();
  return {
    done,
    async stop() {
      abort.abort();
      await done;
    },
  };
}
