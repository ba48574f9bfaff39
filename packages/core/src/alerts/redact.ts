const REDACTED = '[redacted]';

/**
 * Shapes of credentials that can end up in an error message or a stack: passwords in URLs,
 * presigned-URL signatures and tokens, bearer tokens, AWS access key ids.
 */
const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  // scheme://user:password@host → scheme://[redacted]@host
  [/([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]*:[^\s/@]*@/gi, `$1${REDACTED}@`],
  [
    /([?&](?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|AWSAccessKeyId|token|access_token|sig)=)[^&\s"'<>]+/gi,
    `$1${REDACTED}`,
  ],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${REDACTED}`],
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, REDACTED],
];

/** Secrets shorter than this are not searched for (they would match ordinary text). */
const MIN_SECRET_LENGTH = 8;

/**
 * `text` with every known secret value and every credential-shaped string replaced by
 * `[redacted]`. Alerts go to chat rooms and mailboxes: nothing in them may let a reader in.
 */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= MIN_SECRET_LENGTH) out = out.split(secret).join(REDACTED);
  }
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** The variables whose values are secrets (a validated config's `env` fits). */
export interface SecretEnv {
  LOGZIP_ADMIN_TOKEN?: string | undefined;
  LOGZIP_INGEST_TOKEN?: string | undefined;
  LOGZIP_ALERT_WEBHOOK_URL?: string | undefined;
  REDIS_URL?: string | undefined;
}

/**
 * The secret values of a configuration, for scrubSecrets: the admin and ingest tokens, the webhook
 * URL (its path is the credential of Slack-style webhooks) and the password in REDIS_URL.
 */
export function secretsOf(env: SecretEnv): string[] {
  const secrets: string[] = [];
  for (const value of [env.LOGZIP_ADMIN_TOKEN, env.LOGZIP_INGEST_TOKEN]) {
    if (value !== undefined && value !== '') secrets.push(value);
  }
  const webhook = parseUrl(env.LOGZIP_ALERT_WEBHOOK_URL);
  if (webhook !== undefined) {
    secrets.push(env.LOGZIP_ALERT_WEBHOOK_URL as string);
    const path = `${webhook.pathname}${webhook.search}`;
    if (path.length > 1) secrets.push(path);
  }
  const redis = parseUrl(env.REDIS_URL);
  if (redis !== undefined && redis.password !== '') {
    secrets.push(redis.password, decodeURIComponent(redis.password));
  }
  return [...new Set(secrets)];
}

/**
 * A URL as logs may show it: scheme and host only (`https://hooks.slack.com/…`). A webhook's
 * path and query are its credential.
 */
export function describeUrl(url: string): string {
  const parsed = parseUrl(url);
  if (parsed === undefined) return '(not a URL)';
  const hasMore = parsed.pathname.length > 1 || parsed.search !== '';
  return `${parsed.protocol}//${parsed.host}${hasMore ? '/…' : ''}`;
}

function parseUrl(value: string | undefined): URL | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
