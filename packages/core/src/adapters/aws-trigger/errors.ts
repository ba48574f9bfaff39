/** The step of a trigger read or switch that failed, so a half-done switch can say where it stopped. */
export type TriggerStep =
  | 'read_notification'
  | 'write_notification'
  | 'get_function'
  | 'get_policy'
  | 'add_permission'
  | 'route_flag'
  | 'read_queue'
  | 'find_mapping'
  | 'update_mapping';

export type TriggerFailure =
  | 'function_not_found'
  | 'function_not_active'
  | 'platform_error'
  | 'not_configured'
  | 'mapping_not_found';

/**
 * A trigger read or switch that could not be done. Not a LogzipError: it is about the platform's
 * configuration, not an archive. `message` is written for operators (it names the step, the
 * resource and the platform's error name) and never carries a stack or credentials.
 */
export class TriggerControlError extends Error {
  readonly step: TriggerStep;
  readonly failure: TriggerFailure;
  /** Whether trying again later can help (throttling, 5xx, network). */
  readonly retryable: boolean;
  /** The platform's error name (e.g. `AccessDenied`), when there is one. */
  readonly platformError: string | undefined;

  constructor(
    step: TriggerStep,
    failure: TriggerFailure,
    message: string,
    options: ErrorOptions & { retryable?: boolean; platformError?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TriggerControlError';
    this.step = step;
    this.failure = failure;
    this.retryable = options.retryable ?? false;
    this.platformError = options.platformError;
  }
}

export function isTriggerControlError(error: unknown): error is TriggerControlError {
  return error instanceof TriggerControlError;
}
