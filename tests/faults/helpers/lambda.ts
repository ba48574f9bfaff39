/**
 * Lambda's asynchronous invocation, played by the test around the real deployed bundle
 * (packages/lambda/dist/index.mjs, built by `pnpm build`): a pool of containers (one process each,
 * one invocation at a time, warm between invocations), and for every event up to `maxAttempts`
 * invocations with the same awsRequestId after a thrown error, then the on-failure destination
 * payload (what Lambda sends; docs/architecture.md) to the Redis list the worker's drain
 * reads.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { DEFAULT_KEYS } from '@logzip/core/bullmq';
import type { Redis } from 'ioredis';

export const LAMBDA_BUNDLE = fileURLToPath(
  new URL('../../../packages/lambda/dist/index.mjs', import.meta.url),
);
const CONTAINER = fileURLToPath(new URL('./lambda-container.mjs', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/faults/', import.meta.url));
/** Where the worker's drain reads the local on-failure destination. */
export const DESTINATION_KEY = DEFAULT_KEYS.lambdaDestination;
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:logzip-extract';

export interface S3ObjectRef {
  bucket: string;
  key: string;
  size: number;
  etag: string;
}

/** The S3 notification for one new object, as S3 sends it (eventVersion 2.1, URL-encoded key). */
export function s3Event(object: S3ObjectRef) {
  const encoded = encodeURIComponent(object.key).replace(/%2F/g, '/').replace(/%20/g, '+');
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'AWS:AIDAFAULTSUITE' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: {
          'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(),
          'x-amz-id-2': randomBytes(57).toString('base64'),
        },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'logzip',
          bucket: {
            name: object.bucket,
            ownerIdentity: { principalId: 'A3FAULTSUITE' },
            arn: `arn:aws:s3:::${object.bucket}`,
          },
          object: {
            key: encoded,
            size: object.size,
            eTag: object.etag,
            sequencer: (BigInt(Date.now()) * 4096n).toString(16).toUpperCase(),
          },
        },
      },
    ],
  };
}

interface Reply {
  id?: string;
  ready?: boolean;
  ok?: boolean;
  result?: unknown;
  error?: { name: string; message: string; code?: string; stack?: string };
}

interface Container {
  child: ChildProcess;
  busy: boolean;
  /** The invocation it runs, answered with Lambda's error for a dead runtime if the process dies. */
  current?: string;
  /** Which attempt of its event that invocation is (1 = the first). */
  attempt?: number;
  /** Its log file (the handler's JSON lines). */
  logPath: string;
}

/** What Lambda reports for an invocation whose runtime process died (SIGKILL, out of memory). */
const RUNTIME_EXIT: Reply['error'] = {
  name: 'Runtime.ExitError',
  message: 'Runtime exited with error: signal: killed',
};

export interface DeliveryOutcome {
  awsRequestId: string;
  /** Invocations made for this event. */
  invocations: number;
  /** `returned`: an invocation returned; `destination`: every attempt threw and the payload was sent. */
  outcome: 'returned' | 'destination';
  result?: unknown;
  lastError?: Reply['error'];
}

export interface LambdaService {
  /** Delivers one event: invokes, retries a thrown error with the same awsRequestId, then the destination. */
  deliver(event: unknown, options?: { awsRequestId?: string }): Promise<DeliveryOutcome>;
  /**
   * SIGKILLs the execution environment of one running invocation (picked by `pick` among the busy
   * ones): the invocation fails as Lambda reports a dead runtime, and a fresh container (a cold
   * start) takes its place. Returns false when no invocation was running.
   */
  killBusy(pick: (busy: number) => number, options?: { firstAttemptsOnly?: boolean }): boolean;
  readonly stats: {
    events: number;
    invocations: number;
    retries: number;
    destinations: number;
    /** Containers SIGKILLed during an invocation. */
    kills: number;
    /** Kills that landed while the engine was extracting (after the archive was checked, before the result). */
    midExtractionKills: number;
  };
  close(): Promise<void>;
}

export interface LambdaServiceOptions {
  /** The function's environment (LOGZIP_INCOMING_BUCKET, AWS_ENDPOINT_URL_S3...). */
  env: Record<string, string>;
  containers: number;
  /** 1 + MaximumRetryAttempts (Lambda: 3). */
  maxAttempts?: number;
  /** Waits before the retries (Lambda: about 1 and 2 minutes; shortened here). */
  retryDelaysMs?: readonly number[];
  /** Where the destination payload goes (LPUSH onto `logzip:lambda-destination`). */
  destination: Redis;
  /** Log file name prefix under test-artifacts/faults/. */
  logName: string;
  timeoutMs?: number;
}

/** Starts the containers (cold starts) and returns the service; throws when the bundle is not built. */
export async function startLambdaService(options: LambdaServiceOptions): Promise<LambdaService> {
  if (!existsSync(LAMBDA_BUNDLE)) {
    throw new Error(`${LAMBDA_BUNDLE} is missing: run \`pnpm build\` before the fault suite`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  const maxAttempts = options.maxAttempts ?? 3;
  const delays = options.retryDelaysMs ?? [200, 400];
  const timeoutMs = options.timeoutMs ?? 900_000;
  const pending = new Map<string, (reply: Reply) => void>();
  const stats = { events: 0, invocations: 0, retries: 0, destinations: 0, kills: 0, midExtractionKills: 0 };
  const waiting: Array<(container: Container) => void> = [];
  let started = 0;

  const startContainer = async (): Promise<Container> => {
    const n = started++;
    const logPath = `${ARTIFACTS}${options.logName}-lambda-${n}.log`;
    const log = openSync(logPath, 'w');
    const inherited: Record<string, string> = {};
    for (const name of ['PATH', 'HOME', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      const value = process.env[name];
      if (value !== undefined) inherited[name] = value;
    }
    const child = fork(CONTAINER, [LAMBDA_BUNDLE], {
      env: { ...inherited, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...options.env },
      stdio: ['ignore', log, log, 'ipc'],
    });
    closeSync(log);
    await new Promise<void>((resolve, reject) => {
      child.once('message', (reply: Reply) =>
        reply.ready ? resolve() : reject(new Error(`cold start failed: ${reply.error?.message}`)),
      );
      child.once('exit', (code) => reject(new Error(`container exited (${code}) during its cold start`)));
    });
    const container: Container = { child, busy: false, logPath };
    child.on('message', (reply: Reply) => {
      if (reply.id !== undefined) pending.get(reply.id)?.(reply);
    });
    child.once('exit', () => {
      if (container.current !== undefined)
        pending.get(container.current)?.({ ok: false, error: RUNTIME_EXIT });
    });
    return container;
  };

  const containers: Container[] = await Promise.all(
    Array.from({ length: options.containers }, () => startContainer()),
  );

  const acquire = (): Promise<Container> => {
    const free = containers.find((c) => !c.busy);
    if (free !== undefined) {
      free.busy = true;
      return Promise.resolve(free);
    }
    return new Promise((resolve) => waiting.push(resolve));
  };
  const release = (container: Container) => {
    const next = waiting.shift();
    if (next !== undefined) next(container);
    else container.busy = false;
  };

  const invoke = async (event: unknown, awsRequestId: string, attempt: number): Promise<Reply> => {
    let container = await acquire();
    try {
      stats.invocations += 1;
      const id = randomUUID();
      const reply = new Promise<Reply>((resolve) => pending.set(id, resolve));
      container.current = id;
      container.attempt = attempt;
      container.child.send({ id, event, awsRequestId, timeoutMs });
      const answer = await reply;
      pending.delete(id);
      container.current = undefined;
      return answer;
    } finally {
      if (container.child.exitCode !== null || container.child.signalCode !== null) {
        // Lambda replaces a dead execution environment: the next invocation there is a cold start.
        const fresh = await startContainer();
        containers[containers.indexOf(container)] = fresh;
        container = fresh;
      }
      release(container);
    }
  };

  return {
    stats,
    killBusy(pickIndex, killOptions = {}) {
      const busy = containers.filter(
        (c) =>
          c.current !== undefined &&
          (!killOptions.firstAttemptsOnly || c.attempt === 1) &&
          c.child.exitCode === null &&
          c.child.signalCode === null,
      );
      if (busy.length === 0) return false;
      const victim = busy[pickIndex(busy.length)];
      if (victim === undefined) return false;
      stats.kills += 1;
      victim.child.kill('SIGKILL');
      // A container runs one invocation at a time: more runs checked than ended means one was mid-way.
      const messages = readFileSync(victim.logPath, 'utf8')
        .split('\n')
        .map((line) => /"msg":"([^"]*)"/.exec(line)?.[1]);
      const count = (msg: string) => messages.filter((m) => m === msg).length;
      if (
        count('archive checked, extracting') >
        count('archive extracted') + count('extraction failed, folder cleared')
      ) {
        stats.midExtractionKills += 1;
      }
      return true;
    },
    async deliver(event, deliverOptions = {}) {
      stats.events += 1;
      const awsRequestId = deliverOptions.awsRequestId ?? randomUUID();
      let lastError: Reply['error'];
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        if (attempt > 1) {
          stats.retries += 1;
          await sleep(delays[attempt - 2] ?? delays.at(-1) ?? 0);
        }
        const reply = await invoke(event, awsRequestId, attempt);
        if (reply.ok)
          return { awsRequestId, invocations: attempt, outcome: 'returned', result: reply.result };
        lastError = reply.error;
      }
      stats.destinations += 1;
      const payload = {
        version: '1.0',
        timestamp: new Date().toISOString(),
        requestContext: {
          requestId: awsRequestId,
          functionArn: `${FUNCTION_ARN}:$LATEST`,
          condition: 'RetriesExhausted',
          approximateInvokeCount: maxAttempts,
        },
        requestPayload: event,
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        responsePayload: {
          // Lambda reports the error's name as its type (LogzipError), not logzip's code.
          errorType: lastError?.name ?? 'Error',
          errorMessage: lastError?.message ?? '',
          trace: (lastError?.stack ?? '').split('\n'),
        },
      };
      await options.destination.lpush(DESTINATION_KEY, JSON.stringify(payload));
      return {
        awsRequestId,
        invocations: maxAttempts,
        outcome: 'destination',
        ...(lastError ? { lastError } : {}),
      };
    },
    async close() {
      await Promise.all(
        containers.map(async ({ child }) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGKILL');
          await exited;
        }),
      );
    },
  };
}
