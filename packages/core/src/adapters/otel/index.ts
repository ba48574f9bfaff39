import {
  type Attributes,
  type Context,
  context as contextApi,
  type Link,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { toLogzipError } from '../../errors.js';
import {
  parseTraceparent,
  SPAN_ATTRIBUTES,
  type SpanAttributes,
  type StartSpanOptions,
  type Tracer,
  type TraceSpan,
} from '../../ports/tracer.js';
import type { TracingSettings } from '../../tracing-config.js';

const KINDS = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
} as const;

/** How long a flush may hold up its caller (Lambda's handler, a shutdown). */
const FLUSH_TIMEOUT_MS = 2_000;

function samplerOf(settings: TracingSettings['sampler']): Sampler {
  const ratio = new TraceIdRatioBasedSampler(settings.ratio);
  switch (settings.name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

function remoteContext(traceparent: string): SpanContext | undefined {
  const parsed = parseTraceparent(traceparent);
  if (parsed === undefined) return undefined;
  return { traceId: parsed.traceId, spanId: parsed.spanId, traceFlags: parsed.flags & 1, isRemote: true };
}

function attributesOf(attributes: SpanAttributes | undefined): Attributes {
  const out: Attributes = {};
  for (const [name, value] of Object.entries(attributes ?? {})) if (value !== undefined) out[name] = value;
  return out;
}

class OtelSpan implements TraceSpan {
  constructor(readonly span: Span) {}

  get traceparent(): string | undefined {
    const ctx = this.span.spanContext();
    if (!trace.isSpanContextValid(ctx)) return undefined;
    return `00-${ctx.traceId}-${ctx.spanId}-${(ctx.traceFlags & 1).toString(16).padStart(2, '0')}`;
  }

  setAttributes(attributes: SpanAttributes): void {
    this.span.setAttributes(attributesOf(attributes));
  }

  fail(error: unknown): void {
    const failure = toLogzipError(error);
    this.span.setAttribute(SPAN_ATTRIBUTES.errorCode, failure.code);
    this.span.recordException(failure);
    this.span.setStatus({ code: SpanStatusCode.ERROR, message: `${failure.code}: ${failure.message}` });
  }

  end(): void {
    this.span.end();
  }
}

/**
 * The OpenTelemetry SDK behind the tracing port: a tracer provider of its own (nothing registered
 * globally), a batch processor and the OTLP/HTTP JSON exporter. Imported only by entry files that
 * found an endpoint in `OTEL_*` (readTracingSettings), so a process without tracing never loads it.
 *
 * @example
 * const tracer = createOtelTracer(settings, { version: '0.1.0' });
 */
export function createOtelTracer(settings: TracingSettings, options: { version?: string } = {}): Tracer {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      ...settings.resourceAttributes,
      [ATTR_SERVICE_NAME]: settings.serviceName,
      ...(options.version === undefined ? {} : { [ATTR_SERVICE_VERSION]: options.version }),
    }),
    sampler: samplerOf(settings.sampler),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({
          url: settings.url,
          headers: settings.headers,
          timeoutMillis: settings.timeoutMs,
        }),
      }),
    ],
  });
  const tracer = provider.getTracer('logzip', options.version);
  return {
    enabled: true,
    startSpan(name: string, start: StartSpanOptions = {}): TraceSpan {
      let parentContext: Context = contextApi.active();
      const parent = start.parent;
      if (parent instanceof OtelSpan) parentContext = trace.setSpan(parentContext, parent.span);
      else if (typeof parent === 'string') {
        const remote = remoteContext(parent);
        if (remote !== undefined) parentContext = trace.setSpanContext(parentContext, remote);
      }
      const links: Link[] = [];
      for (const link of start.links ?? []) {
        const remote = remoteContext(link);
        if (remote !== undefined) links.push({ context: remote });
      }
      const span = tracer.startSpan(
        name,
        { kind: KINDS[start.kind ?? 'internal'], attributes: attributesOf(start.attributes), links },
        parentContext,
      );
      return new OtelSpan(span);
    },
    flush: () => withTimeout(provider.forceFlush()),
    shutdown: () => withTimeout(provider.shutdown()),
  };
}

/** An unreachable receiver never holds up the caller for long; its spans are lost, not its work. */
function withTimeout(promise: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, FLUSH_TIMEOUT_MS);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}
