/**
 * The API error codes (docs/error-codes.md), with their HTTP status. Bodies are
 * `{"error":{"code","message"}}`; a 5xx body never carries internals.
 */
export const API_ERRORS = {
  unauthorized: 401,
  forbidden: 403,
  csrf_invalid: 403,
  invalid_request: 400,
  not_found: 404,
  length_required: 411,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  key_outside_prefix: 400,
  /** `reenqueue --encoding` names a code page the engine cannot read names in. */
  unknown_encoding: 400,
  conflict: 409,
  idempotency_key_reused: 422,
  /** The failure index is being rebuilt: views cannot answer truthfully yet (retry shortly). */
  index_rebuilding: 503,
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

/** An error the admin reports to its caller as is: a stable code, a status, a message for operators. */
export class AdminError extends Error {
  readonly code: ApiErrorCode;
  readonly statusCode: number;

  constructor(code: ApiErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AdminError';
    this.code = code;
    this.statusCode = API_ERRORS[code];
  }
}

/** The answer of every view while the index is not ready: never an empty list that looks true. */
export function indexRebuildingError(): AdminError {
  return new AdminError(
    'index_rebuilding',
    'the failure index is being rebuilt (Redis lost it): the worker rebuilds it, or run `logzip reindex`; try again shortly',
  );
}

export function isAdminError(error: unknown): error is AdminError {
  return error instanceof AdminError;
}

/** The JSON body of every API error. */
export interface ApiErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ApiErrorBody {
  return { error: { code, message } };
}
