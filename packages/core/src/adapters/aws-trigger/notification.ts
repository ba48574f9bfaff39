import type { LambdaFunctionConfiguration, NotificationConfiguration } from '@aws-sdk/client-s3';
import type { TriggerFilter } from '../../ports/route.js';

/** The Id of logzip's entry in the bucket's notification configuration. */
export const TRIGGER_ID = 'logzip-extract';
/** The events logzip's entry subscribes to. */
export const TRIGGER_EVENTS = ['s3:ObjectCreated:*'] as const;

/**
 * The function name inside a function reference: a name (`logzip`), a name with a qualifier
 * (`logzip:live`), a partial ARN (`123456789012:function:logzip`) or a full ARN.
 */
export function functionNameOf(reference: string): string {
  const marker = ':function:';
  const at = reference.indexOf(marker);
  const rest = at >= 0 ? reference.slice(at + marker.length) : reference;
  return rest.split(':')[0] ?? rest;
}

/** The entry's prefix/suffix filter; S3 and its emulators spell the rule names in either case. */
export function filterOf(entry: Pick<LambdaFunctionConfiguration, 'Filter'>): TriggerFilter {
  const filter: TriggerFilter = { prefix: '', suffix: '' };
  for (const rule of entry.Filter?.Key?.FilterRules ?? []) {
    const name = (rule.Name ?? '').toLowerCase();
    if (name === 'prefix') filter.prefix = rule.Value ?? '';
    if (name === 'suffix') filter.suffix = rule.Value ?? '';
  }
  return filter;
}

/** Whether an entry invokes the given function (whatever its Id: the function is logzip's). */
export function isEntryFor(entry: LambdaFunctionConfiguration, functionName: string): boolean {
  return (
    entry.LambdaFunctionArn !== undefined &&
    functionNameOf(entry.LambdaFunctionArn) === functionNameOf(functionName)
  );
}

function subscribesToCreation(entry: LambdaFunctionConfiguration): boolean {
  return (entry.Events ?? []).some(
    (event) => event === 's3:ObjectCreated:*' || event.startsWith('s3:ObjectCreated:'),
  );
}

/** Whether an entry (of any kind) sends every creation event under the expected filter. */
export function announcesCreations(
  entry: Pick<LambdaFunctionConfiguration, 'Filter' | 'Events'>,
  expected: TriggerFilter,
): boolean {
  const filter = filterOf(entry);
  return (
    (entry.Events ?? []).includes('s3:ObjectCreated:*') &&
    filter.prefix === expected.prefix &&
    filter.suffix === expected.suffix
  );
}

/** Whether an entry is exactly what `enable()` writes: creation events, the expected filter. */
export function isExpectedEntry(entry: LambdaFunctionConfiguration, expected: TriggerFilter): boolean {
  return entry.Id === TRIGGER_ID && announcesCreations(entry, expected);
}

/** An entry's `Filter` for a prefix and suffix (nothing when both are empty). */
export function keyFilterOf(filter: TriggerFilter): Pick<LambdaFunctionConfiguration, 'Filter'> {
  const rules = [];
  if (filter.prefix !== '') rules.push({ Name: 'prefix' as const, Value: filter.prefix });
  if (filter.suffix !== '') rules.push({ Name: 'suffix' as const, Value: filter.suffix });
  return rules.length === 0 ? {} : { Filter: { Key: { FilterRules: rules } } };
}

/** The entry `enable()` puts back. */
export function buildEntry(functionArn: string, filter: TriggerFilter): LambdaFunctionConfiguration {
  return {
    Id: TRIGGER_ID,
    LambdaFunctionArn: functionArn,
    Events: [...TRIGGER_EVENTS],
    ...keyFilterOf(filter),
  };
}

/** Only the parts of a GetBucketNotificationConfiguration answer that a Put takes back. */
export function writableConfiguration(read: NotificationConfiguration): NotificationConfiguration {
  const next: NotificationConfiguration = {};
  if (read.TopicConfigurations !== undefined) next.TopicConfigurations = read.TopicConfigurations;
  if (read.QueueConfigurations !== undefined) next.QueueConfigurations = read.QueueConfigurations;
  if (read.LambdaFunctionConfigurations !== undefined) {
    next.LambdaFunctionConfigurations = read.LambdaFunctionConfigurations;
  }
  if (read.EventBridgeConfiguration !== undefined)
    next.EventBridgeConfiguration = read.EventBridgeConfiguration;
  return next;
}

export interface NotificationPlan {
  /** Whether the configuration must be written (false: already as wanted, nothing to do). */
  changed: boolean;
  /** The whole configuration to write: every foreign entry kept as it was read. */
  next: NotificationConfiguration;
}

/**
 * Removes every entry that invokes the function, keeping every other entry untouched. Pure: the
 * adapter reads, plans, and writes the whole configuration back (the API replaces it whole).
 */
export function planDisable(current: NotificationConfiguration, functionName: string): NotificationPlan {
  const next = writableConfiguration(current);
  const entries = next.LambdaFunctionConfigurations ?? [];
  const kept = entries.filter((entry) => !isEntryFor(entry, functionName));
  if (kept.length === entries.length) return { changed: false, next };
  if (kept.length === 0) delete next.LambdaFunctionConfigurations;
  else next.LambdaFunctionConfigurations = kept;
  return { changed: true, next };
}

/**
 * Makes logzip's entry (Id `logzip-extract`, creation events, the filter) the only entry for the
 * function, keeping every other entry untouched. No change when it is already exactly so.
 */
export function planEnable(
  current: NotificationConfiguration,
  functionName: string,
  functionArn: string,
  filter: TriggerFilter,
): NotificationPlan {
  const next = writableConfiguration(current);
  const entries = next.LambdaFunctionConfigurations ?? [];
  const ours = entries.filter((entry) => isEntryFor(entry, functionName));
  if (ours.length === 1 && ours[0] !== undefined && isExpectedEntry(ours[0], filter)) {
    return { changed: false, next };
  }
  const kept = entries.filter((entry) => !isEntryFor(entry, functionName));
  next.LambdaFunctionConfigurations = [...kept, buildEntry(functionArn, filter)];
  return { changed: true, next };
}

/** The function's entries in a configuration, and whether any subscribes to object creation. */
export function findEntries(
  current: NotificationConfiguration,
  functionName: string,
): { entries: LambdaFunctionConfiguration[]; firing: LambdaFunctionConfiguration | undefined } {
  const entries = (current.LambdaFunctionConfigurations ?? []).filter((entry) =>
    isEntryFor(entry, functionName),
  );
  return { entries, firing: entries.find(subscribesToCreation) };
}

/** Whether the configuration makes S3 invoke the function for new objects, and for which keys. */
export interface NotificationTrigger {
  enabled: boolean;
  /** The function's entries (more than one means each event may run twice). */
  entries: LambdaFunctionConfiguration[];
  /** The entry that subscribes to object creation, when there is one. */
  firing: LambdaFunctionConfiguration | undefined;
  filter: TriggerFilter | undefined;
}

/**
 * The one definition of "this notification entry is ours and it fires": an entry whose function
 * (name, qualified name or ARN) is the function, subscribed to `s3:ObjectCreated:*` events. The
 * AWS trigger control reports it and the local trigger emulator fires by it.
 */
export function triggerOfNotification(
  current: NotificationConfiguration,
  functionName: string,
): NotificationTrigger {
  const { entries, firing } = findEntries(current, functionName);
  return {
    enabled: firing !== undefined,
    entries,
    firing,
    filter: firing === undefined ? undefined : filterOf(firing),
  };
}

/** Counts every entry of the configuration that is not the function's. */
export function countForeignEntries(current: NotificationConfiguration, functionName: string): number {
  const lambdas = (current.LambdaFunctionConfigurations ?? []).filter(
    (entry) => !isEntryFor(entry, functionName),
  );
  return (
    lambdas.length +
    (current.QueueConfigurations?.length ?? 0) +
    (current.TopicConfigurations?.length ?? 0) +
    (current.EventBridgeConfiguration === undefined ? 0 : 1)
  );
}

interface PolicyStatement {
  Effect?: string;
  Principal?: string | { Service?: string | string[] };
  Action?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function wildcardMatch(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(value);
}

/**
 * Whether a function's resource policy lets S3 invoke it for the bucket: an Allow statement for
 * principal `s3.amazonaws.com`, action `lambda:InvokeFunction` (or a wildcard), and a source ARN
 * condition that is absent or matches the bucket's ARN.
 */
export function policyAllowsBucket(policyJson: string | undefined, bucketArn: string): boolean {
  if (policyJson === undefined || policyJson === '') return false;
  let policy: { Statement?: PolicyStatement | PolicyStatement[] };
  try {
    policy = JSON.parse(policyJson) as { Statement?: PolicyStatement | PolicyStatement[] };
  } catch {
    return false;
  }
  return asArray(policy.Statement).some((statement) => {
    if (statement.Effect !== 'Allow') return false;
    const principals =
      typeof statement.Principal === 'string' ? [statement.Principal] : asArray(statement.Principal?.Service);
    if (!principals.includes('s3.amazonaws.com') && !principals.includes('*')) return false;
    const actions = asArray(statement.Action);
    if (
      !actions.some((action) => action === 'lambda:InvokeFunction' || action === 'lambda:*' || action === '*')
    ) {
      return false;
    }
    const sourceArns: string[] = [];
    for (const [operator, values] of Object.entries(statement.Condition ?? {})) {
      for (const [key, value] of Object.entries(values)) {
        if (key.toLowerCase() !== 'aws:sourcearn') continue;
        if (!/^(ArnLike|ArnEquals|StringLike|StringEquals)$/.test(operator)) return false;
        sourceArns.push(...asArray(value));
      }
    }
    return sourceArns.length === 0 || sourceArns.some((pattern) => wildcardMatch(pattern, bucketArn));
  });
}
