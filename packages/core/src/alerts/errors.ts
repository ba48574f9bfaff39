/**
 * A channel did not take an alert. Not a LogzipError: it is about a notification, not an archive,
 * and it never fails an extraction. `message` is safe to log: it never holds the webhook URL's
 * path, a token or a credential.
 */
export class AlertDeliveryError extends Error {
  readonly channel: string;
  /** Whether one more try can help (timeouts, network errors, 5xx, 429). */
  readonly retryable: boolean;
  /** The HTTP status the channel answered, when it answered. */
  readonly status: number | undefined;

  constructor(
    channel: string,
    message: string,
    options: ErrorOptions & { retryable?: boolean; status?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AlertDeliveryError';
    this.channel = channel;
    this.retryable = options.retryable ?? true;
    this.status = options.status;
  }
}

export function isAlertDeliveryError(error: unknown): error is AlertDeliveryError {
  return error instanceof AlertDeliveryError;
}
