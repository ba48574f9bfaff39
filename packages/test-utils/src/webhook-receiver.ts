import { createServer, type Server } from 'node:http';

export type WebhookMode = 'ok' | 'error' | 'hang' | 'gone';

/** One POST the receiver got. */
export interface WebhookRequest {
  path: string;
  contentType: string | undefined;
  body: Record<string, unknown>;
}

/** A webhook receiver (Slack-style) on a free loopback port. */
export interface WebhookReceiver {
  /** `http://127.0.0.1:PORT/services/T1/B1/<secret>`: the path holds a secret, as Slack's does. */
  url: string;
  /** How to answer: 200, 500 (`error`), 404 (`gone`), or never (`hang`). Change it at any time. */
  mode: WebhookMode;
  /** Every POSTed JSON body, oldest first. */
  posts: Array<Record<string, unknown>>;
  /** The same POSTs with their path and content type. */
  requests: WebhookRequest[];
  close(): Promise<void>;
}

/**
 * Starts a receiver for alert tests: records each POSTed JSON body and answers as `mode` says.
 *
 * @example
 * const receiver = await startWebhookReceiver('WORKERSECRET');
 * env.LOGZIP_ALERT_WEBHOOK_URL = receiver.url;
 */
export async function startWebhookReceiver(secret = 'SECRETPATHTOKEN'): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = { url: '', mode: 'ok', posts: [], requests: [], close: async () => {} };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      receiver.posts.push(body);
      receiver.requests.push({ path: request.url ?? '', contentType: request.headers['content-type'], body });
      if (receiver.mode === 'hang') return;
      const status = receiver.mode === 'ok' ? 200 : receiver.mode === 'gone' ? 404 : 500;
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no_service');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  receiver.url = `http://127.0.0.1:${port}/services/T1/B1/${secret}`;
  receiver.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return receiver;
}
