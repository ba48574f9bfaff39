import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/** The CSRF token of the forms in a page's HTML. */
export function csrfTokenOf(html: string, where: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (token === undefined) throw new Error(`no CSRF token on ${where}`);
  return token;
}

/** A cookie jar over app.inject(): what a browser keeps between requests. */
export class InjectSession {
  readonly cookies = new Map<string, string>();
  constructor(private readonly app: FastifyInstance) {}

  private keep(response: LightMyRequestResponse): void {
    for (const cookie of response.cookies as Array<{
      name: string;
      value: string;
      maxAge?: number;
      expires?: Date;
    }>) {
      const expired =
        cookie.maxAge === 0 || (cookie.expires !== undefined && cookie.expires.getTime() < Date.now());
      if (expired || cookie.value === '') this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
  }

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    const response = await this.app.inject({
      method: 'GET',
      url,
      headers: { cookie: this.cookieHeader(), accept: 'text/html' },
    });
    this.keep(response);
    return response;
  }

  async post(url: string, form: Record<string, string | string[]>): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams();
    for (const [key, value] of Object.entries(form)) {
      for (const v of Array.isArray(value) ? value : [value]) body.append(key, v);
    }
    const response = await this.app.inject({
      method: 'POST',
      url,
      headers: {
        cookie: this.cookieHeader(),
        accept: 'text/html',
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: body.toString(),
    });
    this.keep(response);
    return response;
  }

  /** Opens a page and returns the CSRF token of its forms. */
  async csrf(url: string): Promise<string> {
    const page = await this.get(url);
    return csrfTokenOf(page.body, `${url} (${page.statusCode})`);
  }

  async login(token: string, operator: string): Promise<LightMyRequestResponse> {
    const csrf = await this.csrf('/login');
    return this.post('/login', { _csrf: csrf, operator, token, next: '/' });
  }
}
