import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as an OTLP/HTTP JSON export carries it, flattened with its resource's service name. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean>;
  /** 0 unset, 1 ok, 2 error. */
  status: number;
  links: Array<{ traceId: string; spanId: string }>;
}

export interface OtlpReceiver {
  /** The base URL, for OTEL_EXPORTER_OTLP_ENDPOINT (spans are POSTed to `<url>/v1/traces`). */
  url: string;
  spans: ReceivedSpan[];
  /** Requests that were not OTLP JSON (their content type), to fail a test that expected spans. */
  rejected: string[];
  close(): Promise<void>;
}

interface AnyValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
}

function anyValue(value: AnyValue | undefined): string | number | boolean {
  if (value === undefined) return '';
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  return '';
}

function attributesOf(list: Array<{ key: string; value: AnyValue }> | undefined) {
  return Object.fromEntries((list ?? []).map((a) => [a.key, anyValue(a.value)]));
}

/**
 * A local OTLP/HTTP receiver (what the OpenTelemetry Collector, Jaeger or Tempo expose on
 * :4318/v1/traces), decoding the JSON encoding the exporter sends, as the specification defines it
 * (ids in hex, attributes as AnyValue), so tests check span trees as a trace viewer would show them.
 *
 * @example
 * const receiver = await startOtlpReceiver();
 * env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const rejected: string[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const type = request.headers['content-type'] ?? '';
      if (request.method !== 'POST' || request.url !== '/v1/traces' || !type.startsWith('application/json')) {
        rejected.push(`${request.method} ${request.url} ${type}`);
        response.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans?: Array<{
          resource?: { attributes?: Array<{ key: string; value: AnyValue }> };
          scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }>;
        }>;
      };
      for (const resource of body.resourceSpans ?? []) {
        const service = String(attributesOf(resource.resource?.attributes)['service.name'] ?? '');
        for (const scope of resource.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            const parent = span['parentSpanId'] as string | undefined;
            spans.push({
              service,
              traceId: span['traceId'] as string,
              spanId: span['spanId'] as string,
              parentSpanId: parent === undefined || parent === '' ? undefined : parent,
              name: span['name'] as string,
              kind: span['kind'] as number,
              attributes: attributesOf(span['attributes'] as Array<{ key: string; value: AnyValue }>),
              status: ((span['status'] as { code?: number } | undefined)?.code ?? 0) as number,
              links: ((span['links'] as Array<{ traceId: string; spanId: string }>) ?? []).map((l) => ({
                traceId: l.traceId,
                spanId: l.spanId,
              })),
            });
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    rejected,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
