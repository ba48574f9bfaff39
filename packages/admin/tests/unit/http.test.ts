import { LogzipError } from '@logzip/core';
import { describe, expect, it } from 'vitest';
import { AdminError } from '../../src/errors.js';
import { safeNext, tokenMatches } from '../../src/http/auth.js';
import { mapError } from '../../src/http/errors.js';
import { redactUrl } from '../../src/http/request-log.js';
import { adviseOn } from '../../src/operations/failure-advice.js';
import { html, raw } from '../../src/ui/html.js';

describe('mapError', () => {
  it('keeps the code and message of admin errors and client errors', () => {
    // Act
    const outside = mapError(new AdminError('key_outside_prefix', 'outside'), 'req-1');
    const csrf = mapError(
      Object.assign(new Error('Invalid csrf token'), { code: 'FST_CSRF_INVALID_TOKEN', statusCode: 403 }),
      'req-1',
    );
    const validation = mapError(
      Object.assign(new Error('body/route must be equal to one of the allowed values'), {
        validation: [],
        statusCode: 400,
      }),
      'req-1',
    );
    const media = mapError(
      Object.assign(new Error('x'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }),
      'r',
    );

    // Assess
    expect(outside).toEqual({ status: 400, code: 'key_outside_prefix', message: 'outside' });
    expect(csrf).toMatchObject({ status: 403, code: 'csrf_invalid' });
    expect(validation).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(media).toMatchObject({ status: 415, code: 'unsupported_media_type' });
  });

  it('never lets a 5xx carry internals', () => {
    // Act
    const internal = mapError(new Error('ENOENT /srv/secret/path.json'), 'req-7');
    const storage = mapError(
      new LogzipError('storage_unavailable', 'S3 at http://10.0.0.3 said 503'),
      'req-8',
    );

    // Assess
    expect(internal).toEqual({ status: 500, code: 'internal', message: 'internal error (request req-7)' });
    expect(storage.status).toBe(503);
    expect(storage.code).toBe('storage_unavailable');
    expect(storage.message).not.toContain('10.0.0.3');
  });
});

describe('html', () => {
  it('escapes every interpolated value and keeps trusted markup', () => {
    // Act
    const page = html`<td>${'<script>alert("x")</script>'}</td>${[html`<b>${'a&b'}</b>`, "'"]}${raw('<hr>')}${undefined}`;

    // Assess
    expect(page.value).toBe(
      '<td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</td><b>a&amp;b</b>&#39;<hr>',
    );
  });
});

describe('auth helpers', () => {
  it('compares tokens in full', () => {
    // Assess
    expect(tokenMatches('a'.repeat(40), 'a'.repeat(40))).toBe(true);
    expect(tokenMatches('a'.repeat(39), 'a'.repeat(40))).toBe(false);
    expect(tokenMatches('', 'a'.repeat(40))).toBe(false);
  });

  it('only follows same-site relative `next` paths after login', () => {
    // Assess
    expect(safeNext('/failures?code=not_zip')).toBe('/failures?code=not_zip');
    expect(safeNext('//evil.example/')).toBe('/');
    expect(safeNext('https://evil.example/')).toBe('/');
    expect(safeNext('/\\evil.example')).toBe('/');
    expect(safeNext(undefined)).toBe('/');
    // Regression (issue 17): browsers drop tabs and newlines from a Location, so `/\t/evil.test`
    // was `//evil.test`; a newline or a character over U+00FF was a 500 (ERR_INVALID_CHAR).
    expect(safeNext('/\t/evil.test')).toBe('/');
    expect(safeNext('/\r\nSet-Cookie: a=b')).toBe('/');
    expect(safeNext('/a\\b')).toBe('/');
    expect(safeNext('/archives/ü?x=ü')).toBe('/archives/%C3%BC?x=%C3%BC');
    expect(safeNext('/x/../../evil')).toBe('/evil');
  });

  it('redacts secrets in logged query strings, keeping the rest', () => {
    // Assess
    expect(redactUrl('/api/route?token=abc&limit=5')).toBe('/api/route?token=[redacted]&limit=5');
    expect(redactUrl('/x?X-Amz-Signature=s&access_token=t&next=%2F')).toBe(
      '/x?X-Amz-Signature=[redacted]&access_token=[redacted]&next=%2F',
    );
    expect(redactUrl('/failures?code=not_zip')).toBe('/failures?code=not_zip');
  });

  it('shows bidi overrides and control characters in UI text as [U+XXXX]', () => {
    // Assess
    expect(html`<td>${'invoice\u202Efdp.exe'}</td>`.value).toBe('<td>invoice[U+202E]fdp.exe</td>');
    expect(html`${'a\u0007b\u2066c\u200Bd'}`.value).toBe('a[U+0007]b[U+2066]c[U+200B]d');
    expect(html`${'line\n\tnext 日本語'}`.value).toBe('line\n\tnext 日本語');
  });
});

describe('adviseOn', () => {
  it('calls archive defects permanent (ask the uploader) and dependency failures transient', () => {
    // Assess
    expect(adviseOn('crc_mismatch')).toMatchObject({
      kind: 'permanent',
      advice: expect.stringContaining('uploader'),
    });
    expect(adviseOn('too_large_for_lambda')).toMatchObject({
      kind: 'permanent',
      advice: expect.stringContaining('queue'),
    });
    expect(adviseOn('storage_unavailable')).toMatchObject({
      kind: 'transient',
      advice: expect.stringContaining('re-enqueue'),
    });
    expect(adviseOn('timeout').kind).toBe('transient');
  });
});
