export const ROUTES = ['lambda', 'queue'] as const;
export type Route = (typeof ROUTES)[number];

/** The desired route (the feature flag). `undefined` means nobody decided yet: never guess. */
export interface RouteStore {
  get(): Promise<Route | undefined>;
  set(route: Route): Promise<void>;
}

export interface TriggerFilter {
  prefix: string;
  suffix: string;
}

/** What is actually configured, read back from the platform. */
export interface TriggerState {
  /** Whether the trigger that invokes the function is in place. */
  enabled: boolean;
  filter?: TriggerFilter;
  /** Everything else the platform reports (function state, concurrency, retries, destination...). */
  details: Record<string, unknown>;
  /** Problems that keep the trigger from working even if it is present. */
  problems: string[];
  /**
   * Disagreements with the configuration whatever the route (buffered mode: the notification
   * entry, the queue policy or the event source mapping missing). Shown as drift, not as warnings.
   */
  drift?: string[];
}

/** Turns the S3 trigger on and off for real (AWS) or for the local emulator. */
export interface TriggerControl {
  read(): Promise<TriggerState>;
  enable(): Promise<TriggerState>;
  disable(): Promise<TriggerState>;
}
