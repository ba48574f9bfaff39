/**
 * Every error code logzip reports, with whether a retry can help. These are contracts
 * (docs/error-codes.md): failure records, the admin, the API and the CLI all show them.
 */
export const ERROR_CODES = {
  not_zip: { retryable: false, summary: 'the source is not a ZIP archive' },
  corrupt: { retryable: false, summary: 'the archive structure is damaged, truncated or inconsistent' },
  crc_mismatch: { retryable: false, summary: "an entry's data does not match its CRC32" },
  encrypted: { retryable: false, summary: 'an entry is encrypted' },
  unsupported_method: {
    retryable: false,
    summary: 'an entry uses a compression method other than stored or deflate',
  },
  limits_exceeded: { retryable: false, summary: 'entry count, sizes or compression ratio exceed the limits' },
  unsafe_path: {
    retryable: false,
    summary: 'an entry name is absolute, escapes its folder, or is a special file',
  },
  duplicate_entry: { retryable: false, summary: 'two entries map to the same key' },
  name_mismatch: {
    retryable: false,
    summary:
      "an entry's name records (local header, central directory, Unicode Path field) name different files",
  },
  undecodable_name: {
    retryable: false,
    summary: 'an entry name is neither UTF-8 nor valid in the fallback encoding (LOGZIP_FALLBACK_ENCODING)',
  },
  key_too_long: { retryable: false, summary: 'a destination key is longer than 1,024 bytes' },
  invalid_key: { retryable: false, summary: 'the archive key does not yield a log ID' },
  source_not_found: { retryable: false, summary: 'the archive does not exist' },
  too_large_for_lambda: { retryable: false, summary: 'the archive is too large or slow for a Lambda run' },
  storage_unavailable: { retryable: true, summary: 'storage failed, throttled or could not be reached' },
  timeout: { retryable: true, summary: 'the run ran out of time' },
  internal: { retryable: true, summary: 'an unexpected internal error' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export const ARCHIVE_ERROR_CODES = Object.keys(ERROR_CODES) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

export interface LogzipErrorOptions extends ErrorOptions {
  /** The archive entry the error is about, when there is one. */
  entry?: string;
  /** Overrides the code's default retryability (rarely needed). */
  retryable?: boolean;
}

/** The one error type of logzip: a stable `code`, whether a retry can help, and the entry concerned. */
export class LogzipError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly entry: string | undefined;

  constructor(code: ErrorCode, message: string, options: LogzipErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LogzipError';
    this.code = code;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
    this.entry = options.entry;
  }

  toJSON(): { code: ErrorCode; message: string; retryable: boolean; entry?: string } {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.entry === undefined ? {} : { entry: this.entry }),
    };
  }
}

export function isLogzipError(error: unknown): error is LogzipError {
  return error instanceof LogzipError;
}

/**
 * Turns anything thrown into a LogzipError. Unknown errors become `internal` (retryable):
 * malformed input must never reach this path, so an `internal` in a record is a bug to fix.
 */
export function toLogzipError(error: unknown): LogzipError {
  if (error instanceof LogzipError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const wrapped = new LogzipError('internal', message, { cause: error });
  if (error instanceof Error && error.stack) wrapped.stack = error.stack;
  return wrapped;
}
