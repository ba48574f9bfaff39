/**
 * The tracing port: what the routes and the engine need to leave one trace per archive, and nothing
 * of OpenTelemetry. Core (and the Lambda bundle's eager path) holds only this and the no-op tracer;
 * the SDK lives in `@logzip/core/otel`, which entry files import dynamically when `OTEL_*` says so.
 *
 * Parents are passed by hand (a span of this process, or a W3C `traceparent` from another: the
 * archive's S3 metadata, the job's data) instead of through an async context manager, so nothing
 * has to be registered globally and tracing off costs one no-op object per phase.
 */
export type SpanAttributeValue = string | number | boolean;
export type SpanAttributes = Record<string, SpanAttributeValue | undefined>;

export interface TraceSpan {
  /** This span as a W3C traceparent, for the next process; undefined when not recorded. */
  readonly traceparent: string | undefined;
  setAttributes(attributes: SpanAttributes): void;
  /** Marks the span failed: status ERROR, `logzip.error.code`, the exception as an event. */
  fail(error: unknown): void;
  end(): void;
}

export interface StartSpanOptions {
  /** The parent: a span of this process, or a traceparent another process handed on. */
  parent?: TraceSpan | string | undefined;
  /** Traces this one follows from without being their child. */
  links?: readonly string[];
  kind?: 'internal' | 'server' | 'client' | 'producer' | 'consumer';
  attributes?: SpanAttributes;
}

export interface Tracer {
  /** False for the no-op tracer: callers skip work done only for traces (a HEAD for metadata). */
  readonly enabled: boolean;
  startSpan(name: string, options?: StartSpanOptions): TraceSpan;
  /** Sends the spans still buffered (Lambda: before the handler returns; the container may freeze). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** The S3 metadata key (`x-amz-meta-traceparent`) and job field carrying the trace on. */
export const TRACEPARENT = 'traceparent';

const noopSpan: TraceSpan = {
  traceparent: undefined,
  setAttributes() {},
  fail() {},
  end() {},
};

/** Tracing off: every call returns at once, nothing is allocated per span. */
export const noopTracer: Tracer = {
  enabled: false,
  startSpan: () => noopSpan,
  flush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

const TRACEPARENT_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A W3C traceparent's parts, or undefined for anything else (all-zero ids included). */
export function parseTraceparent(
  value: string | undefined,
): { traceId: string; spanId: string; flags: number } | undefined {
  const match = value === undefined ? null : TRACEPARENT_RE.exec(value.trim());
  if (match === null) return undefined;
  const [, traceId, spanId, flags] = match as unknown as [string, string, string, string];
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, flags: Number.parseInt(flags, 16) };
}

/**
 * Runs `fn` in a span that ends when it settles, failed when it throws.
 *
 * @example
 * const directory = await inSpan(tracer, 'read directory', { parent }, () => readZipDirectory(reader));
 */
export async function inSpan<T>(
  tracer: Tracer,
  name: string,
  options: StartSpanOptions,
  fn: (span: TraceSpan) => Promise<T>,
): Promise<T> {
  const span = tracer.startSpan(name, options);
  try {
    return await fn(span);
  } catch (error) {
    span.fail(error);
    throw error;
  } finally {
    span.end();
  }
}

/** The attribute names logzip's spans use (OpenTelemetry's own where one exists). */
export const SPAN_ATTRIBUTES = {
  logId: 'logzip.log_id',
  route: 'logzip.route',
  entries: 'logzip.entries',
  bytes: 'logzip.bytes',
  errorCode: 'logzip.error.code',
  s3RequestId: 'aws.s3.request_id',
  awsRequestId: 'faas.invocation_id',
  jobId: 'messaging.message.id',
  attempt: 'logzip.attempt',
  status: 'logzip.status',
  bucket: 'aws.s3.bucket',
  key: 'aws.s3.key',
} as const;
