/**
 * An HTTP proxy in front of an S3-compatible server (moto) that injects the failures S3 really
 * produces: 500 InternalError, 503 SlowDown, any other S3 error, a connection reset before the
 * response or in the middle of its body, and latency. Point an S3 client's endpoint at `proxy.url`
 * (path-style addressing) and change the rules while tests run.
 *
 * Requests are forwarded byte for byte (the Host header included, so signatures stay valid).
 *
 * @example
 * ```ts
 * const proxy = await startS3FaultProxy({ target: requireMoto() });
 * const client = createMotoS3Client({ endpoint: proxy.url, maxAttempts: 1 });
 * proxy.setRules([{ method: 'GET', path: `/${bucket}/`, times: 1, fault: { kind: 'slow-down' } }]);
 * await expect(store.get(bucket, 'a.txt')).rejects.toMatchObject({ code: 'storage_unavailable' });
 * expect(proxy.stats.faults).toBe(1);
 * await proxy.close();
 * ```
 */
import { randomBytes } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What to do to a request a rule matched. */
export type S3Fault =
  /** 500 with S3's `InternalError` XML body ("We encountered an internal error. Please try again."). */
  | { kind: 'internal-error' }
  /** 503 with S3's `SlowDown` XML body ("Please reduce your request rate."). */
  | { kind: 'slow-down' }
  /** Any S3 error response, e.g. `{ status: 403, code: 'AccessDenied', message: 'Access Denied' }`. */
  | { kind: 's3-error'; status: number; code: string; message?: string }
  /**
   * Forwards the request, sends the real status line and headers and the first `afterBytes` bytes of
   * the real body (default: half of it, at least 1 byte), then resets the TCP connection (RST): the
   * client sees ECONNRESET mid-body. With an empty body the reset follows the headers.
   */
  | { kind: 'reset-mid-body'; afterBytes?: number }
  /** Resets the connection before any response (the client sees ECONNRESET / "socket hang up"). */
  | { kind: 'reset' }
  /** Forwards the request after `ms` milliseconds. */
  | { kind: 'latency'; ms: number }
  /**
   * Answers with this response instead of the server's (after reading the request body): e.g. a 200
   * DeleteObjects result that lists per-key `<Error>`s.
   */
  | { kind: 'response'; status: number; body: string; headers?: Record<string, string> };

export type S3FaultKind = S3Fault['kind'];

/** A request as the rules see it. */
export interface ProxiedRequest {
  method: string;
  /** Decoded path: `/bucket/key` with path-style addressing. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** 1-based number of this request since the proxy started (or since resetStats()). */
  sequence: number;
}

/**
 * When and how to inject a fault. Every condition given must hold; rules are tried in order and the
 * first one that fires decides. A rule that matches but does not fire (inside `skip`, past `times`,
 * or losing its `probability` draw) lets later rules try.
 */
export interface FaultRule {
  /** Shown in `requests` and `stats.byRule`; defaults to the fault's kind. */
  name?: string;
  /** HTTP method(s), e.g. 'GET' or ['PUT', 'POST']. */
  method?: string | readonly string[];
  /** A string matches paths starting with it (`/bucket/` or `/bucket/key`); a RegExp is tested on the path. */
  path?: string | RegExp;
  /** A query parameter that must be present: 'uploadId' (multipart), 'list-type' (ListObjectsV2), 'delete'. */
  query?: string;
  /** Any other condition. */
  when?: (request: ProxiedRequest) => boolean;
  /** Let the first `skip` matching requests through untouched (fault the N+1th...). */
  skip?: number;
  /** Inject at most this many times (default: every matching request). */
  times?: number;
  /** Chance (0–1) that an otherwise eligible request gets the fault (default 1). */
  probability?: number;
  /** Extra latency before the fault (or before forwarding, for `latency`). */
  delayMs?: number;
  fault: S3Fault;
}

/** One request the proxy handled. */
export interface ProxyRecord {
  sequence: number;
  method: string;
  path: string;
  query: string;
  headers: IncomingHttpHeaders;
  /** The rule's name when a fault was injected. */
  fault?: string;
}

export interface S3FaultProxyStats {
  /** Requests received. */
  requests: number;
  /** Faults injected (latency included). */
  faults: number;
  /** Faults injected, by kind. */
  byKind: Partial<Record<S3FaultKind, number>>;
  /** Faults injected, by rule name. */
  byRule: Record<string, number>;
}

export interface S3FaultProxy {
  /** `http://127.0.0.1:PORT`: use it as the S3 endpoint. */
  readonly url: string;
  readonly port: number;
  /** Live counters (read them after the calls you made). */
  readonly stats: S3FaultProxyStats;
  /** Every request handled, oldest first (the last 10,000). */
  readonly requests: readonly ProxyRecord[];
  /** Replaces the rules; their counters start from zero. */
  setRules(rules: readonly FaultRule[]): void;
  /** Appends a rule. */
  addRule(rule: FaultRule): void;
  /** No faults: a plain proxy. */
  clearRules(): void;
  /** Zeroes `stats` and empties `requests` (rules keep their counters). */
  resetStats(): void;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

export interface S3FaultProxyOptions {
  /** The real server, e.g. the run's moto URL. */
  target: string;
  rules?: readonly FaultRule[];
  /** Default 127.0.0.1. */
  host?: string;
  /** Default: a free port. */
  port?: number;
  /** Random source for `probability` (default Math.random), for reproducible runs. */
  random?: () => number;
}

const MAX_RECORDS = 10_000;

const S3_MESSAGES: Record<string, string> = {
  InternalError: 'We encountered an internal error. Please try again.',
  SlowDown: 'Please reduce your request rate.',
  ServiceUnavailable: 'Service is unable to handle request.',
  AccessDenied: 'Access Denied',
};

interface RuleState {
  rule: FaultRule;
  matched: number;
  fired: number;
}

/** Starts the proxy; see the module comment and {@link FaultRule}. */
export async function startS3FaultProxy(options: S3FaultProxyOptions): Promise<S3FaultProxy> {
  const target = new URL(options.target);
  if (target.protocol !== 'http:')
    throw new Error(`the fault proxy forwards to http:// targets only, got ${options.target}`);
  const random = options.random ?? Math.random;
  const agent = new Agent({ keepAlive: true });
  let rules: RuleState[] = [];
  const stats: S3FaultProxyStats = { requests: 0, faults: 0, byKind: {}, byRule: {} };
  const requests: ProxyRecord[] = [];

  const setRules = (next: readonly FaultRule[]) => {
    rules = next.map((rule) => ({ rule, matched: 0, fired: 0 }));
  };
  setRules(options.rules ?? []);

  const chooseRule = (request: ProxiedRequest): FaultRule | undefined => {
    for (const state of rules) {
      if (!matches(state.rule, request)) continue;
      state.matched += 1;
      if (state.matched <= (state.rule.skip ?? 0)) continue;
      if (state.rule.times !== undefined && state.fired >= state.rule.times) continue;
      if (state.rule.probability !== undefined && random() >= state.rule.probability) continue;
      state.fired += 1;
      return state.rule;
    }
    return undefined;
  };

  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    onResponse?: (upstream: IncomingMessage) => void,
  ) => {
    const headers: OutgoingHttpHeaders = { ...req.headers };
    // Node's server already answered "100 Continue"; upstream gets the body without waiting.
    delete headers['expect'];
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent },
      (upstreamRes) => {
        if (onResponse !== undefined) {
          onResponse(upstreamRes);
          return;
        }
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, upstreamRes.rawHeaders);
        upstreamRes.pipe(res);
        upstreamRes.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => destroy(res.socket, true));
    req.pipe(upstream);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy.invalid');
    stats.requests += 1;
    const request: ProxiedRequest = {
      method: req.method ?? 'GET',
      path: safeDecode(url.pathname),
      query: url.searchParams,
      headers: req.headers,
      sequence: stats.requests,
    };
    const rule = chooseRule(request);
    const record: ProxyRecord = {
      sequence: request.sequence,
      method: request.method,
      path: request.path,
      query: url.search,
      headers: req.headers,
    };
    requests.push(record);
    if (requests.length > MAX_RECORDS) requests.shift();
    if (rule === undefined) {
      forward(req, res);
      return;
    }
    const name = rule.name ?? rule.fault.kind;
    record.fault = name;
    stats.faults += 1;
    stats.byKind[rule.fault.kind] = (stats.byKind[rule.fault.kind] ?? 0) + 1;
    stats.byRule[name] = (stats.byRule[name] ?? 0) + 1;
    const delay = (rule.delayMs ?? 0) + (rule.fault.kind === 'latency' ? rule.fault.ms : 0);
    const act = () => inject(rule.fault, req, res, forward);
    if (delay > 0) setTimeout(act, delay);
    else act();
  });
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    stats,
    requests,
    setRules,
    addRule: (rule) => {
      rules.push({ rule, matched: 0, fired: 0 });
    },
    clearRules: () => setRules([]),
    resetStats: () => {
      stats.requests = 0;
      stats.faults = 0;
      stats.byKind = {};
      stats.byRule = {};
      requests.length = 0;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

function matches(rule: FaultRule, request: ProxiedRequest): boolean {
  if (rule.method !== undefined) {
    const methods = typeof rule.method === 'string' ? [rule.method] : rule.method;
    if (!methods.some((m) => m.toUpperCase() === request.method)) return false;
  }
  if (rule.path !== undefined) {
    if (typeof rule.path === 'string' ? !request.path.startsWith(rule.path) : !rule.path.test(request.path)) {
      return false;
    }
  }
  if (rule.query !== undefined && !request.query.has(rule.query)) return false;
  if (rule.when !== undefined && !rule.when(request)) return false;
  return true;
}

function inject(
  fault: S3Fault,
  req: IncomingMessage,
  res: ServerResponse,
  forward: (
    req: IncomingMessage,
    res: ServerResponse,
    onResponse?: (upstream: IncomingMessage) => void,
  ) => void,
): void {
  switch (fault.kind) {
    case 'latency':
      forward(req, res);
      return;
    case 'reset':
      destroy(req.socket, true);
      return;
    case 'internal-error':
      sendS3Error(req, res, 500, 'InternalError');
      return;
    case 'slow-down':
      sendS3Error(req, res, 503, 'SlowDown');
      return;
    case 's3-error':
      sendS3Error(req, res, fault.status, fault.code, fault.message);
      return;
    case 'reset-mid-body':
      forward(req, res, (upstream) => resetMidBody(upstream, res, fault.afterBytes));
      return;
    case 'response':
      afterBody(req, res, () => {
        res.writeHead(fault.status, {
          'content-type': 'application/xml',
          ...fault.headers,
          'content-length': Buffer.byteLength(fault.body),
        });
        res.end(req.method === 'HEAD' ? undefined : fault.body);
      });
      return;
  }
}

/** Real headers and the first bytes of the real body, then an RST. */
function resetMidBody(upstream: IncomingMessage, res: ServerResponse, afterBytes: number | undefined): void {
  const declared = Number(upstream.headers['content-length'] ?? Number.NaN);
  const limit = afterBytes ?? (Number.isFinite(declared) ? Math.max(1, Math.floor(declared / 2)) : 1);
  res.writeHead(upstream.statusCode ?? 502, upstream.statusMessage, upstream.rawHeaders);
  const kill = () => {
    upstream.destroy();
    destroy(res.socket, true);
  };
  if (declared === 0 || limit <= 0) {
    res.flushHeaders();
    setImmediate(kill);
    return;
  }
  let sent = 0;
  upstream.on('data', (chunk: Buffer) => {
    if (sent >= limit) return;
    const part = chunk.subarray(0, limit - sent);
    sent += part.length;
    if (sent >= limit) {
      upstream.pause();
      res.write(part, () => setImmediate(kill));
    } else {
      res.write(part);
    }
  });
  upstream.on('end', () => {
    if (sent < limit) res.write(Buffer.alloc(0), () => setImmediate(kill));
  });
}

/** An S3 error response, after reading the request body (so the client is not cut off mid-upload). */
function sendS3Error(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  message?: string,
): void {
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  const body =
    req.method === 'HEAD'
      ? ''
      : '<?xml version="1.0" encoding="UTF-8"?>\n' +
        `<Error><Code>${code}</Code><Message>${escapeXml(message ?? S3_MESSAGES[code] ?? code)}</Message>` +
        `<RequestId>${requestId}</RequestId><HostId>${randomBytes(24).toString('base64')}</HostId></Error>`;
  const respond = () => {
    res.writeHead(status, {
      'content-type': 'application/xml',
      'content-length': Buffer.byteLength(body),
      'x-amz-request-id': requestId,
      ...(status === 503 ? { 'retry-after': '1' } : {}),
    });
    res.end(body);
  };
  afterBody(req, res, respond);
}

/** Runs `respond` once the request body has been read (and dropped). */
function afterBody(req: IncomingMessage, res: ServerResponse, respond: () => void): void {
  if (req.complete) {
    respond();
    return;
  }
  req.on('end', respond);
  req.on('error', () => res.destroy());
  req.resume();
}

function destroy(socket: Socket | null, reset: boolean): void {
  if (socket === null || socket.destroyed) return;
  if (reset && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
