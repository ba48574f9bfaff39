import { describe, expect, it } from 'vitest';
import { LogzipError } from '../../src/errors.js';
import { inSpan, noopTracer, parseTraceparent } from '../../src/ports/tracer.js';
import { readTracingSettings } from '../../src/tracing-config.js';

describe('readTracingSettings', () => {
  it('is off without an endpoint, and when disabled whatever the endpoint', () => {
    // Act
    const results = [
      readTracingSettings({}, 'svc'),
      readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }, 'svc'),
      readTracingSettings(
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' },
        'svc',
      ),
    ];

    // Assess
    for (const result of results) expect(result).toEqual({ settings: undefined, errors: [] });
  });

  it('reads the standard variables: base endpoint + /v1/traces, headers, service, sampler', () => {
    // Act
    const { settings } = readTracingSettings(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
        OTEL_EXPORTER_OTLP_HEADERS: 'api-key=s%20ecret,x-team=logs',
        OTEL_SERVICE_NAME: 'logzip-worker-eu',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      },
      'logzip-worker',
    );

    // Assess
    expect(settings).toEqual({
      url: 'http://collector:4318/v1/traces',
      headers: { 'api-key': 's ecret', 'x-team': 'logs' },
      serviceName: 'logzip-worker-eu',
      resourceAttributes: { 'deployment.environment': 'prod' },
      sampler: { name: 'parentbased_traceidratio', ratio: 0.25 },
      timeoutMs: 10_000,
    });
  });

  it('takes the traces endpoint as the full URL, and the default service name', () => {
    // Act
    const { settings } = readTracingSettings(
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otlp.example/api/traces' },
      'logzip-admin',
    );

    // Assess
    expect(settings).toMatchObject({ url: 'https://otlp.example/api/traces', serviceName: 'logzip-admin' });
  });

  it('names every bad value', () => {
    // Act
    const { settings, errors } = readTracingSettings(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://nope',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_TRACES_SAMPLER: 'sometimes',
        OTEL_TRACES_SAMPLER_ARG: '2',
      },
      'svc',
    );

    // Assess
    expect(settings).toBeUndefined();
    expect(errors.join('\n')).toMatch(
      /OTEL_EXPORTER_OTLP_ENDPOINT[\s\S]*PROTOCOL[\s\S]*SAMPLER:[\s\S]*SAMPLER_ARG/,
    );
  });
});

describe('the tracer port', () => {
  it('parses W3C traceparents and refuses malformed or all-zero ones', () => {
    // Act
    const good = parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');

    // Assess
    expect(good).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      flags: 1,
    });
    expect(parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01')).toBeUndefined();
    expect(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7')).toBeUndefined();
    expect(parseTraceparent(undefined)).toBeUndefined();
  });

  it('runs work in a no-op span that carries no context and passes errors through', async () => {
    // Act
    const value = await inSpan(noopTracer, 'phase', {}, async (span) => span.traceparent ?? 'none');
    const failed = inSpan(noopTracer, 'phase', {}, async () => {
      throw new LogzipError('corrupt', 'bad');
    });

    // Assess
    expect(value).toBe('none');
    expect(noopTracer.enabled).toBe(false);
    await expect(failed).rejects.toMatchObject({ code: 'corrupt' });
  });
});
