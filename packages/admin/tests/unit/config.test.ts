import { describe, expect, it } from 'vitest';
import { readAdminConfig, readIngestGrants } from '../../src/config.js';

const BASE_ENV = {
  LOGZIP_ADMIN_TOKEN: 'admin-token-0123456789abcdef-0123456789',
  LOGZIP_INCOMING_BUCKET: 'logs',
};

describe('readIngestGrants (LOGZIP_INGEST_TOKENS)', () => {
  it('reads name:prefix:token entries separated by commas or newlines; * is every log ID', () => {
    // Prepare
    const errors: string[] = [];

    // Act
    const grants = readIngestGrants(` win:W:${'a'.repeat(32)} ,\nall:*:${'b'.repeat(32)}:with-colon`, errors);

    // Assess
    expect(errors).toEqual([]);
    expect(grants).toEqual([
      { name: 'win', logIdPrefix: 'W', token: 'a'.repeat(32) },
      { name: 'all', logIdPrefix: '', token: `${'b'.repeat(32)}:with-colon` },
    ]);
  });

  it('names every bad entry without quoting its token', () => {
    // Prepare
    const errors: string[] = [];
    const secret = 's'.repeat(40);

    // Act
    readIngestGrants(
      `bad name:W:${secret},win:W/x:${secret},win:W:short,a:W:${secret},b:M:${secret}`,
      errors,
    );

    // Assess
    expect(errors).toHaveLength(4);
    expect(errors.join('\n')).not.toContain(secret);
    expect(errors[3]).toMatch(/entry 5 \(b\): this token is already used/);
  });
});

describe('readAdminConfig: client limits', () => {
  it('reads the request timeouts and the connection limit, with defaults', () => {
    // Act
    const defaults = readAdminConfig(BASE_ENV);
    const set = readAdminConfig({
      ...BASE_ENV,
      LOGZIP_ADMIN_REQUEST_TIMEOUT: '10s',
      LOGZIP_INGEST_REQUEST_TIMEOUT: '3h',
      LOGZIP_ADMIN_MAX_CONNECTIONS_PER_ADDRESS: '0',
    });
    const bad = readAdminConfig({
      ...BASE_ENV,
      LOGZIP_ADMIN_REQUEST_TIMEOUT: '10',
      LOGZIP_ADMIN_MAX_CONNECTIONS_PER_ADDRESS: '-1',
    });

    // Assess
    expect(defaults.config?.admin.clientLimits).toEqual({
      requestTimeoutMs: 30_000,
      ingestRequestTimeoutMs: 7_200_000,
      maxConnectionsPerAddress: 128,
    });
    expect(set.config?.admin.clientLimits).toEqual({
      requestTimeoutMs: 10_000,
      ingestRequestTimeoutMs: 10_800_000,
      maxConnectionsPerAddress: 0,
    });
    expect(bad.errors).toHaveLength(2);
  });
});
