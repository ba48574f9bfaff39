/**
 * The standard OpenTelemetry variables logzip reads, parsed once at an entry file. No endpoint (or
 * OTEL_SDK_DISABLED=true, or OTEL_TRACES_EXPORTER=none) means tracing off: the SDK is then never
 * imported.
 */
export interface TracingSettings {
  /** Where spans are POSTed (OTLP/HTTP, JSON): OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
  url: string;
  headers: Record<string, string>;
  serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES, besides service.name. */
  resourceAttributes: Record<string, string>;
  sampler: { name: TracesSampler; ratio: number };
  /** OTEL_EXPORTER_OTLP_TIMEOUT (ms). */
  timeoutMs: number;
}

export const TRACES_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type TracesSampler = (typeof TRACES_SAMPLERS)[number];

export type TracingSettingsResult =
  | { settings: TracingSettings | undefined; errors: [] }
  | { settings: undefined; errors: string[] };

/** `a=b,c=d` (OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES), values percent-decoded. */
function keyValues(text: string | undefined, name: string, errors: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? '').split(',')) {
    if (part.trim() === '') continue;
    const at = part.indexOf('=');
    if (at <= 0) {
      errors.push(`${name}: "${part.trim().slice(0, 40)}" is not key=value`);
      continue;
    }
    try {
      out[part.slice(0, at).trim()] = decodeURIComponent(part.slice(at + 1).trim());
    } catch {
      errors.push(`${name}: the value of ${part.slice(0, at).trim()} is not percent-encoded`);
    }
  }
  return out;
}

/**
 * @example
 * const { settings } = readTracingSettings(process.env, 'logzip-worker');
 * const tracer = settings === undefined ? noopTracer : await (await import('@logzip/core/otel')).createOtelTracer(settings);
 */
export function readTracingSettings(
  env: Record<string, string | undefined>,
  defaultServiceName: string,
): TracingSettingsResult {
  const errors: string[] = [];
  const base = env['OTEL_EXPORTER_OTLP_ENDPOINT'] || undefined;
  const tracesEndpoint = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] || undefined;
  const off =
    env['OTEL_SDK_DISABLED']?.toLowerCase() === 'true' ||
    env['OTEL_TRACES_EXPORTER']?.toLowerCase() === 'none' ||
    (base === undefined && tracesEndpoint === undefined);
  if (off) return { settings: undefined, errors: [] };
  // The signal-specific variable is the full URL; the general one is a base the path is added to.
  const url = tracesEndpoint ?? `${(base as string).replace(/\/+$/, '')}/v1/traces`;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    errors.push(
      `${tracesEndpoint === undefined ? 'OTEL_EXPORTER_OTLP_ENDPOINT' : 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'}: "${url}" is not an http(s) URL`,
    );
  }
  const protocol = env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] || env['OTEL_EXPORTER_OTLP_PROTOCOL'];
  if (protocol !== undefined && protocol !== 'http/json') {
    errors.push(
      `OTEL_EXPORTER_OTLP_PROTOCOL: logzip sends OTLP over HTTP as JSON ("http/json"), not "${protocol}"; every OTLP/HTTP receiver takes it`,
    );
  }
  const samplerName = (env['OTEL_TRACES_SAMPLER'] || 'parentbased_always_on').toLowerCase();
  if (!(TRACES_SAMPLERS as readonly string[]).includes(samplerName)) {
    errors.push(`OTEL_TRACES_SAMPLER: "${samplerName}" is not one of ${TRACES_SAMPLERS.join(', ')}`);
  }
  const ratioText = env['OTEL_TRACES_SAMPLER_ARG'];
  const ratio = ratioText === undefined || ratioText === '' ? 1 : Number(ratioText);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    errors.push(`OTEL_TRACES_SAMPLER_ARG: "${ratioText}" is not a ratio between 0 and 1`);
  }
  const timeoutText = env['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT'] || env['OTEL_EXPORTER_OTLP_TIMEOUT'];
  const timeoutMs = timeoutText === undefined ? 10_000 : Number(timeoutText);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    errors.push(`OTEL_EXPORTER_OTLP_TIMEOUT: "${timeoutText}" is not a number of milliseconds`);
  }
  const headers = {
    ...keyValues(env['OTEL_EXPORTER_OTLP_HEADERS'], 'OTEL_EXPORTER_OTLP_HEADERS', errors),
    ...keyValues(env['OTEL_EXPORTER_OTLP_TRACES_HEADERS'], 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', errors),
  };
  const resourceAttributes = keyValues(env['OTEL_RESOURCE_ATTRIBUTES'], 'OTEL_RESOURCE_ATTRIBUTES', errors);
  if (errors.length > 0) return { settings: undefined, errors };
  return {
    settings: {
      url,
      headers,
      serviceName: env['OTEL_SERVICE_NAME'] || resourceAttributes['service.name'] || defaultServiceName,
      resourceAttributes,
      sampler: { name: samplerName as TracesSampler, ratio },
      timeoutMs,
    },
    errors: [],
  };
}
