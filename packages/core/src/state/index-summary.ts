import type { FailureSummary, ManifestSummary } from '../ports/failure-index.js';
import { upgradeFailureRecord } from './failures.js';
import { isAuditEntry, isFailureRecord, isManifest } from './object-state-store.js';
import type { AuditEntry, FailureRecord, Manifest } from './types.js';

/** A summary's message is cut here: the page re-reads the record for the full text. */
export const SUMMARY_MESSAGE_CHARS = 160;
/** A summary's archive key is cut here (keys can reach 1,024 bytes). */
export const SUMMARY_KEY_CHARS = 160;

/** The index's view of a failure record (pure). */
export function summarizeFailure(record: FailureRecord): FailureSummary {
  return {
    logId: record.logId,
    state: record.state,
    code: record.code,
    route: record.route,
    message: record.message.slice(0, SUMMARY_MESSAGE_CHARS),
    sourceKey: record.source.key.slice(0, SUMMARY_KEY_CHARS),
    attemptCount: record.attempts.length,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...(record.resolvedAt === undefined ? {} : { resolvedAt: record.resolvedAt }),
  };
}

/** The index's view of a current manifest (pure). */
export function summarizeManifest(manifest: Manifest): ManifestSummary {
  return {
    logId: manifest.logId,
    sourceKey: manifest.source.key.slice(0, SUMMARY_KEY_CHARS),
    etag: manifest.source.etag,
    files: manifest.entries.length,
    bytes: manifest.bytes,
    finishedAt: manifest.finishedAt,
    ...(manifest.route === undefined ? {} : { route: manifest.route }),
  };
}

/** Whether the index's summary says what the object says (the fields views filter and sort on). */
export function sameFailureSummary(a: FailureSummary | undefined, b: FailureSummary): boolean {
  return (
    a !== undefined &&
    a.state === b.state &&
    a.code === b.code &&
    a.route === b.route &&
    Date.parse(a.updatedAt) === Date.parse(b.updatedAt) &&
    a.attemptCount === b.attemptCount
  );
}

export type StateObjectKind = 'manifests' | 'failures' | 'audit';

export type ParsedStateObject =
  | { kind: 'manifests'; value: Manifest }
  | { kind: 'failures'; value: FailureRecord }
  | { kind: 'audit'; value: AuditEntry }
  | { kind: 'invalid'; reason: string };

/**
 * Reads one object of the state prefix as the rebuild sees it (pure): the shape this version
 * writes, or the reason it is not one (damaged JSON, a foreign object, a log ID that is not its
 * name). Version 1 objects of earlier releases parse unchanged.
 */
export function parseStateObject(kind: StateObjectKind, key: string, body: Buffer): ParsedStateObject {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return {
      kind: 'invalid',
      reason: `not JSON (${error instanceof Error ? error.message : String(error)})`,
    };
  }
  if (kind === 'audit') {
    return isAuditEntry(value)
      ? { kind, value: value as AuditEntry }
      : { kind: 'invalid', reason: 'not an audit entry (no "at" and "action")' };
  }
  const check = kind === 'manifests' ? isManifest : isFailureRecord;
  if (!check(value)) {
    return {
      kind: 'invalid',
      reason: `not a version 1 ${kind === 'manifests' ? 'manifest' : 'failure record'}`,
    };
  }
  const logId = (value as { logId: string }).logId;
  const named = key.slice(key.lastIndexOf('/') + 1, -'.json'.length);
  if (named !== logId) return { kind: 'invalid', reason: `holds log ID "${logId}" but is named "${named}"` };
  if (kind === 'failures' && Number.isNaN(Date.parse((value as FailureRecord).updatedAt))) {
    return { kind: 'invalid', reason: 'updatedAt is not a time' };
  }
  return kind === 'manifests'
    ? { kind, value: value as Manifest }
    : { kind, value: upgradeFailureRecord(value as FailureRecord) };
}
