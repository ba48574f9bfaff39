import * as z from 'zod';
import { type ErrorCode, isErrorCode } from '../errors.js';
import { parseLogId } from '../log-id.js';
import type { RunKind } from '../state/types.js';
import { rerunPayloadSchema } from './rerun.js';
import { archiveOfS3Record } from './s3-event.js';

/**
 * What Lambda sends to an on-failure destination once an asynchronous event has used its retries
 * (or expired): the request payload it was invoked with, and how the last attempt failed. The
 * trigger emulator builds it; the worker's drain reads it (from SQS, or the emulator's Redis list).
 */
export interface DestinationPayload {
  version: '1.0';
  timestamp: string;
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: 'RetriesExhausted' | 'EventAgeExceeded';
    approximateInvokeCount: number;
  };
  requestPayload: unknown;
  responseContext: { statusCode: number; executedVersion: string; functionError: string };
  responsePayload: { errorType: string; errorMessage: string; trace: string[] };
}

/** How one invocation failed, as Lambda reports it. */
export interface InvocationError {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

export function toInvocationError(error: unknown): InvocationError {
  if (error instanceof Error) {
    return {
      errorType: error.name,
      errorMessage: error.message,
      trace: (error.stack ?? `${error.name}: ${error.message}`).split('\n'),
    };
  }
  return { errorType: 'Error', errorMessage: String(error), trace: [] };
}

export function buildDestinationPayload(input: {
  requestId: string;
  functionArn: string;
  invokeCount: number;
  event: unknown;
  error: InvocationError;
  at: Date;
}): DestinationPayload {
  return {
    version: '1.0',
    timestamp: input.at.toISOString(),
    requestContext: {
      requestId: input.requestId,
      functionArn: `${input.functionArn}:$LATEST`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: input.invokeCount,
    },
    requestPayload: input.event,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: input.error,
  };
}

/** What the reader accepts: only the fields it uses are required (Lambda adds fields over time). */
const destinationSchema = z.object({
  timestamp: z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'not a timestamp'),
  requestContext: z.object({
    requestId: z.string().min(1),
    functionArn: z.string().optional(),
    condition: z.string().optional(),
    approximateInvokeCount: z.number().int().positive().optional(),
  }),
  requestPayload: z.unknown(),
  responseContext: z.object({ functionError: z.string().optional() }).partial().nullish(),
  responsePayload: z
    .object({
      errorType: z.string().optional(),
      errorMessage: z.string().optional(),
      trace: z.array(z.string()).optional(),
    })
    .partial()
    .nullish()
    .catch(undefined),
});

/** One archive whose Lambda run failed for good, as the destination reports it. */
export interface LambdaFailure {
  logId: string;
  source: { bucket: string; key: string };
  /** The run the failed request was: `upload` for an S3 event, the re-run payload's (default `reenqueue`). */
  run: RunKind;
  requestId: string;
  at: Date;
  /** Lambda's approximate invoke count (the attempt that failed last). */
  attempt: number;
  condition: string | undefined;
  errorType: string | undefined;
  code: ErrorCode;
  message: string;
  trace: string[];
}

export type ParsedDestination = { ok: true; failures: LambdaFailure[] } | { ok: false; reason: string };

/**
 * The error code a destination message stands for: the error type when it is a logzip code,
 * `timeout` for Lambda's "Task timed out", else `internal` (crashes, out of memory, expired events).
 */
export function codeOfDestination(
  errorType: string | undefined,
  errorMessage: string | undefined,
): ErrorCode {
  if (isErrorCode(errorType)) return errorType;
  if (errorMessage !== undefined && /Task timed out/i.test(errorMessage)) return 'timeout';
  return 'internal';
}

/**
 * Reads one destination message (the SQS body or the Redis list item). Never throws: a message
 * it cannot understand comes back with the reason, for the caller to leave to the dead-letter queue.
 */
export function parseDestinationMessage(body: string, logIdPattern: RegExp): ParsedDestination {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'the message is not JSON' };
  }
  const parsed = destinationSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: `not a Lambda destination payload (${issue?.path.join('.')}: ${issue?.message})`,
    };
  }
  const payload = parsed.data;
  const response = payload.responsePayload ?? undefined;
  const condition = payload.requestContext.condition;
  const errorType = response?.errorType;
  const message =
    response?.errorMessage ??
    (condition === 'EventAgeExceeded'
      ? 'the event expired before Lambda could run it (EventAgeExceeded)'
      : `the Lambda run failed (${condition ?? 'no condition given'}) without an error message`);
  const common = {
    requestId: payload.requestContext.requestId,
    at: new Date(payload.timestamp),
    attempt: payload.requestContext.approximateInvokeCount ?? 1,
    condition,
    errorType,
    code: codeOfDestination(errorType, response?.errorMessage),
    message,
    trace: response?.trace ?? [],
  };
  return failuresOfRequest(payload.requestPayload, logIdPattern, common);
}

/** The archives the failed request named: every S3 record with a log ID, or the one re-run payload. */
function failuresOfRequest(
  request: unknown,
  logIdPattern: RegExp,
  common: Omit<LambdaFailure, 'logId' | 'source' | 'run'>,
): ParsedDestination {
  const records =
    typeof request === 'object' && request !== null ? (request as { Records?: unknown }).Records : undefined;
  if (Array.isArray(records)) {
    const failures: LambdaFailure[] = [];
    for (const raw of records) {
      const source = archiveOfS3Record(raw);
      if (source === undefined) continue;
      try {
        failures.push({ ...common, logId: parseLogId(source.key, logIdPattern), source, run: 'upload' });
      } catch {}
    }
    if (failures.length === 0) return { ok: false, reason: 'the S3 event names no archive with a log ID' };
    return { ok: true, failures };
  }
  // Loose: a payload the function accepted is echoed as it was sent.
  const rerun = rerunPayloadSchema.loose().safeParse(request);
  if (rerun.success) {
    const { logId, bucket, key, run } = rerun.data;
    return {
      ok: true,
      failures: [{ ...common, logId, source: { bucket, key }, run: run ?? 'reenqueue' }],
    };
  }
  return { ok: false, reason: 'the request payload is neither an S3 event nor a re-run payload' };
}
