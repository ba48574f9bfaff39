import { randomUUID } from 'node:crypto';
import { type Logger, type ObjectInfo, type ObjectStore, silentLogger } from '@logzip/core';
import { redisKeys } from '@logzip/core/bullmq';
import {
  buildDestinationPayload,
  buildS3Event,
  type InvocationError,
  type S3Event,
  toInvocationError,
} from '@logzip/core/events';
import type { Redis } from 'ioredis';
import type { DestinationSink } from './destination.js';
import { matchesFilter, type TriggerGate, type TriggerGateState } from './gate.js';

/** The Lambda context the emulator passes (the fields the Node runtime provides). */
export interface EmulatedContext {
  awsRequestId: string;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  logGroupName: string;
  logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
}

export type EmulatedHandler = (event: unknown, context: EmulatedContext) => Promise<unknown>;

export interface TriggerEmulatorOptions {
  /** Lists the incoming prefix (the fs or S3 adapter). */
  store: ObjectStore;
  bucket: string;
  prefix: string;
  /** Whether the trigger is on: the route flag (folder storage) or the bucket's notification entry. */
  gate: TriggerGate;
  /** The function to invoke, usually the built bundle's `handler`. */
  handler: EmulatedHandler;
  /** Remembers what was fired (so a restart does not fire every archive again). */
  redis: Redis;
  /** Where the on-failure payload goes after the last retry. */
  destination: DestinationSink;
  /** Redis key prefix of the emulator's memory; tests use a unique one. Default `logzip:`. */
  keyPrefix?: string;
  /** Listing period. Default 2 s. */
  intervalMs?: number;
  /** Waits before the retries; Lambda's are about 1 and 2 minutes. Default [2 s, 4 s]. */
  retryDelaysMs?: readonly number[];
  /** The function timeout (what getRemainingTimeInMillis counts down from). Default 15 min. */
  timeoutMs?: number;
  /** Invocations running at once. Default 4. */
  concurrency?: number;
  functionName?: string;
  region?: string;
  accountId?: string;
  /** Fire for archives already there on the very first scan (default: no, like a new S3 trigger). */
  fireExisting?: boolean;
  /**
   * Fire an object only once two scans in a row saw it with the same ETag. For folder storage,
   * where a file copied in by hand is visible while it is still being written (S3 shows an object
   * only once complete). Default false.
   */
  settle?: boolean;
  logger?: Logger;
}

/** What one invocation chain (first attempt + retries) ended with. */
export interface InvocationChain {
  awsRequestId: string;
  key: string;
  event: S3Event;
  attempts: Array<{ ok: true; result: unknown } | { ok: false; error: InvocationError }>;
  /** Whether the destination payload was sent. */
  sentToDestination: boolean;
}

export interface ScanResult {
  /** Keys fired in this scan. */
  fired: string[];
  /** New keys seen while the trigger was off (or outside its filter): never fired. */
  ignored: string[];
  /** With `settle`: new keys waiting for the next scan to show them unchanged. */
  pending: string[];
  enabled: boolean;
}

export interface TriggerEmulator {
  /** Lists once and fires for new archives; the timer calls it too. */
  scanOnce(): Promise<ScanResult>;
  /** Resolves when every invocation started so far has finished its retries. */
  idle(): Promise<InvocationChain[]>;
  stop(): Promise<void>;
}

const BASELINE_FIELD = '\u0000baseline';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

type Attempt = { ok: true; result: unknown } | { ok: false; error: InvocationError };

/** The emulated function and what one emulator works with, resolved from its options once. */
interface Emulation {
  options: TriggerEmulatorOptions;
  log: Logger;
  memoryKey: string;
  retryDelaysMs: readonly number[];
  timeoutMs: number;
  functionName: string;
  functionArn: string;
  region: string;
  /** Runs `work` when one of the `concurrency` invocation slots is free. */
  slot<T>(work: () => Promise<T>): Promise<T>;
}

/** At most `concurrency` calls of `work` at once; the others wait in order. */
function createSlots(concurrency: number): Emulation['slot'] {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (work) => {
    if (active >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    active += 1;
    try {
      return await work();
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
}

function emulationOf(options: TriggerEmulatorOptions): Emulation {
  const functionName = options.functionName ?? 'logzip-extract';
  const region = options.region ?? 'us-east-1';
  return {
    options,
    log: (options.logger ?? silentLogger).child({ component: 'trigger-emulator' }),
    memoryKey: redisKeys(options.keyPrefix).emulatorFired(options.bucket, options.prefix),
    retryDelaysMs: options.retryDelaysMs ?? [2_000, 4_000],
    timeoutMs: options.timeoutMs ?? 15 * 60_000,
    functionName,
    functionArn: `arn:aws:lambda:${region}:${options.accountId ?? '123456789012'}:function:${functionName}`,
    region,
    slot: createSlots(Math.max(1, options.concurrency ?? 4)),
  };
}

/** One invocation with a Lambda context, stopped like Lambda's at the function timeout. */
async function invokeOnce(e: Emulation, event: S3Event, awsRequestId: string): Promise<Attempt> {
  const { functionName, timeoutMs } = e;
  const deadline = Date.now() + timeoutMs;
  const context: EmulatedContext = {
    awsRequestId,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: e.functionArn,
    memoryLimitInMB: '1024',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `emulator/${randomUUID()}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  let timeout: NodeJS.Timeout | undefined;
  try {
    const result = await Promise.race([
      e.options.handler(event, context),
      new Promise<never>((_, reject) => {
        timeout = setTimeout(() => {
          const error = new Error(
            `${new Date().toISOString()} ${awsRequestId} Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
          );
          error.name = 'Sandbox.Timedout';
          reject(error);
        }, timeoutMs);
      }),
    ]);
    return { ok: true, result };
  } catch (error) {
    const failure = toInvocationError(error);
    // Lambda gives the destination only a generic message for a timeout, no stack.
    if (failure.errorType === 'Sandbox.Timedout') failure.trace = [];
    return { ok: false, error: failure };
  } finally {
    clearTimeout(timeout);
  }
}

/** After the last retry: the on-failure payload goes to the destination (or is lost, logged). */
async function sendToDestination(e: Emulation, chain: InvocationChain, chainLog: Logger): Promise<void> {
  const last = chain.attempts.at(-1);
  const payload = buildDestinationPayload({
    requestId: chain.awsRequestId,
    functionArn: e.functionArn,
    invokeCount: chain.attempts.length,
    event: chain.event,
    error:
      last !== undefined && !last.ok
        ? last.error
        : { errorType: 'Error', errorMessage: 'unknown', trace: [] },
    at: new Date(),
  });
  const { destination } = e.options;
  try {
    await destination.send(payload);
    chain.sentToDestination = true;
    chainLog.warn(
      { destination: destination.target },
      'retries exhausted: sent to the on-failure destination',
    );
  } catch (error) {
    chainLog.error(
      { destination: destination.target, err: error instanceof Error ? error.message : String(error) },
      'retries exhausted and the on-failure destination could not be reached: event lost (the sweeper will find it)',
    );
  }
}

/** Lambda's asynchronous invocation: the first attempt and the retries, one request id. */
async function invokeWithRetries(
  e: Emulation,
  object: ObjectInfo,
  configurationId: string | undefined,
): Promise<InvocationChain> {
  const event = buildS3Event(object, {
    region: e.region,
    ...(configurationId === undefined ? {} : { configurationId }),
  });
  const awsRequestId = randomUUID();
  const chain: InvocationChain = {
    awsRequestId,
    key: object.key,
    event,
    attempts: [],
    sentToDestination: false,
  };
  const chainLog = e.log.child({
    awsRequestId,
    key: object.key,
    s3RequestId: event.Records[0]?.responseElements['x-amz-request-id'],
  });
  const maxAttempts = 1 + e.retryDelaysMs.length;
  for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
    const outcome = await e.slot(() => invokeOnce(e, event, awsRequestId));
    chain.attempts.push(outcome);
    if (outcome.ok) {
      chainLog.info({ attempt }, 'invocation succeeded');
      return chain;
    }
    chainLog.warn(
      { attempt, errorType: outcome.error.errorType, err: outcome.error.errorMessage },
      'invocation failed',
    );
    if (attempt < maxAttempts) await sleep(e.retryDelaysMs[attempt - 1] ?? 0);
  }
  await sendToDestination(e, chain, chainLog);
  return chain;
}

/** What one scan carries over to the next. */
interface ScanState {
  /**
   * With `settle`: new objects seen by the previous scan, not fired yet, with the gate as that scan
   * read it. S3 decides at the upload whether an object is announced; the scan that first saw the
   * final version is the nearest this emulator gets to that moment, so a route switch between the
   * two scans does not announce an upload made before it.
   */
  settling: Map<string, { etag: string; gate: TriggerGateState }>;
}

/** The objects under the prefix whose key and ETag the emulator has not fired (nor remembered) yet. */
async function unseenObjects(e: Emulation): Promise<{ fresh: ObjectInfo[]; baseline: boolean }> {
  const remembered = await e.options.redis.hgetall(e.memoryKey);
  const fresh: ObjectInfo[] = [];
  for await (const object of e.options.store.list(e.options.bucket, e.options.prefix)) {
    if (remembered[object.key] !== object.etag) fresh.push(object);
  }
  return { fresh, baseline: remembered[BASELINE_FIELD] === undefined };
}

/** Lists once and fires for the new objects the gate lets through; remembers every one it saw. */
async function scan(
  e: Emulation,
  carried: ScanState,
  fire: (object: ObjectInfo, configurationId: string | undefined) => void,
): Promise<ScanResult> {
  const { options, log, memoryKey } = e;
  const result: ScanResult = { fired: [], ignored: [], pending: [], enabled: false };
  const { fresh, baseline } = await unseenObjects(e);
  if (baseline && !options.fireExisting) {
    // A new trigger does not fire for objects that were there before it.
    const fields: Record<string, string> = { [BASELINE_FIELD]: new Date().toISOString() };
    for (const object of fresh) fields[object.key] = object.etag;
    await options.redis.hset(memoryKey, fields);
    log.info({ existing: fresh.length }, 'first scan: existing objects remembered, not fired');
    return { ...result, ignored: fresh.map((o) => o.key), enabled: (await options.gate.read()).enabled };
  }
  if (baseline) await options.redis.hset(memoryKey, BASELINE_FIELD, new Date().toISOString());
  if (fresh.length === 0) {
    carried.settling = new Map();
    return { ...result, enabled: (await options.gate.read()).enabled };
  }

  const gate = await options.gate.read();
  result.enabled = gate.enabled;
  const unsettled: ScanState['settling'] = new Map();
  const ignoredReasons = new Set<string>();
  for (const object of fresh) {
    const settling = carried.settling.get(object.key);
    if (options.settle && settling?.etag !== object.etag) {
      unsettled.set(object.key, { etag: object.etag, gate });
      result.pending.push(object.key);
      continue;
    }
    const seenWith = settling?.gate ?? gate;
    // Remembered before firing: an event is delivered at least once by S3, but the emulator
    // never re-fires on its own; the handler's idempotency is tested without it.
    await options.redis.hset(memoryKey, object.key, object.etag);
    if (seenWith.enabled && matchesFilter(object.key, seenWith.filter)) {
      fire(object, seenWith.configurationId);
      result.fired.push(object.key);
    } else {
      result.ignored.push(object.key);
      ignoredReasons.add(seenWith.reason ?? 'outside the filter');
    }
  }
  carried.settling = unsettled;
  if (result.fired.length > 0) log.info({ fired: result.fired.length }, 'fired S3 events');
  if (result.ignored.length > 0) {
    log.info(
      { ignored: result.ignored.length, reason: [...ignoredReasons].join('; ') },
      'new objects not fired',
    );
  }
  return result;
}

/**
 * Plays the S3 trigger and Lambda's asynchronous invocation locally: lists the incoming prefix
 * every `intervalMs`, and for each new object (key + ETag) while the gate is open invokes the
 * handler with a real S3 event record. A thrown error is retried twice after `retryDelaysMs`
 * with the same `awsRequestId`; then the destination payload goes to `destination`.
 *
 * @example
 * const emulator = await startTriggerEmulator({ store, bucket, prefix: 'incoming/', gate, handler, redis, destination });
 * await emulator.stop();
 */
export async function startTriggerEmulator(options: TriggerEmulatorOptions): Promise<TriggerEmulator> {
  const e = emulationOf(options);
  const { log } = e;
  const intervalMs = options.intervalMs ?? 2_000;
  const running = new Set<Promise<InvocationChain>>();
  const finished: InvocationChain[] = [];
  const carried: ScanState = { settling: new Map() };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let scanning: Promise<ScanResult> | undefined;

  const fire = (object: ObjectInfo, configurationId: string | undefined): void => {
    const chain = invokeWithRetries(e, object, configurationId).then((result) => {
      finished.push(result);
      return result;
    });
    running.add(chain);
    void chain.finally(() => running.delete(chain));
  };
  const scanOnce = (): Promise<ScanResult> => {
    // One scan at a time: the timer and a caller must not fire the same object twice.
    scanning ??= scan(e, carried, fire).finally(() => {
      scanning = undefined;
    });
    return scanning;
  };
  const loop = async (): Promise<void> => {
    if (stopped) return;
    try {
      await scanOnce();
    } catch (error) {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'scan failed, trying again');
    }
    if (!stopped) timer = setTimeout(loop, intervalMs);
  };

  log.info(
    {
      bucket: options.bucket,
      prefix: options.prefix,
      gate: options.gate.describe,
      intervalMs,
      retryDelaysMs: e.retryDelaysMs,
    },
    'trigger emulator started',
  );
  timer = setTimeout(loop, 0);

  return {
    scanOnce,
    async idle() {
      while (running.size > 0) await Promise.allSettled([...running]);
      return [...finished];
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await scanning?.catch(() => {});
      while (running.size > 0) await Promise.allSettled([...running]);
      log.info({}, 'trigger emulator stopped');
    },
  };
}
