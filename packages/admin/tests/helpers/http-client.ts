import { request as httpRequest } from 'node:http';
import { csrfTokenOf } from './browser-session.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** `name=value` of every Set-Cookie (attributes dropped). */
  setCookies: Map<string, string>;
}

export interface RawRequest {
  method: string;
  /** Sent verbatim: no URL parser normalises `//`, `/./`, `%2F` or `;` on the way. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** One HTTP/1.1 request over a real socket to a listening server, the path exactly as given. */
export function sendRaw(base: string, req: RawRequest): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: url.hostname,
        port: Number(url.port),
        method: req.method,
        path: req.path,
        headers: {
          connection: 'close',
          ...(req.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(req.body)) }),
          ...req.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const setCookies = new Map<string, string>();
          for (const line of res.headers['set-cookie'] ?? []) {
            const [pair = ''] = line.split(';');
            const at = pair.indexOf('=');
            if (at > 0) setCookies.set(pair.slice(0, at), pair.slice(at + 1));
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            setCookies,
          });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}

/** A browser's cookie jar over real HTTP: what an operator's signed-in browser would send. */
export class HttpSession {
  readonly cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async send(req: RawRequest): Promise<RawResponse> {
    const response = await sendRaw(this.base, {
      ...req,
      headers: { cookie: this.cookieHeader(), accept: 'text/html', ...req.headers },
    });
    for (const [name, value] of response.setCookies) {
      if (value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  get(path: string): Promise<RawResponse> {
    return this.send({ method: 'GET', path });
  }

  postForm(path: string, form: Record<string, string>): Promise<RawResponse> {
    return this.send({
      method: 'POST',
      path,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  }

  /** The CSRF token of the forms on a page. */
  async csrf(path: string): Promise<string> {
    const page = await this.get(path);
    return csrfTokenOf(page.body, `${path} (${page.status})`);
  }

  async login(token: string, operator: string): Promise<RawResponse> {
    const csrf = await this.csrf('/login');
    const answer = await this.postForm('/login', { _csrf: csrf, operator, token, next: '/' });
    if (answer.status !== 303) throw new Error(`login failed: ${answer.status} ${answer.body.slice(0, 200)}`);
    return answer;
  }
}
