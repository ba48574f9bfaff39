import { LogzipError } from '../../errors.js';

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
 * A trigger read or switch that could not be done: a LogzipError like every error that leaves
 * core, `storage_unavailable` when trying again later can help (throttling, 5xx, network), else
 * `internal` (not retryable: the platform's configuration must change). It is about the platform,
 * not an archive, so `failure` and `step` say what went wrong. `message` is written for operators
 * (it names the step, the resource and the platform's error name) and never carries a stack or
 * credentials.
 */
export class TriggerControlError extends LogzipError {
  readonly step: TriggerStep;
  readonly failure: TriggerFailure;
  /** The platform's error name (e.g. `AccessDenied`), when there is one. */
  readonly platformError: string | undefined;

  constructor(
    step: TriggerStep,
    failure: TriggerFailure,
    message: string,
    options: ErrorOptions & { retryable?: boolean; platformError?: string } = {},
  ) {
    const retryable = options.retryable ?? false;
    super(retryable ? 'storage_unavailable' : 'internal', message, {
      retryable,
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.name = 'TriggerControlError';
    this.step = step;
    this.failure = failure;
    this.platformError = options.platformError;
  }
}

export function isTriggerControlError(error: unknown): error is TriggerControlError {
  return error instanceof TriggerControlError;
}
