/** One log ID's line in a bulk command's answer. */
export interface BulkItem {
  logId: string;
  outcome: string;
  detail: string;
}

/** `{"results":[{"logId","outcome","detail"}],"summary":{...}}`: what bulk commands print and return. */
export interface BulkResult {
  results: BulkItem[];
  summary: BulkSummary;
}

export interface BulkSummary {
  total: number;
  dryRun: boolean;
  /** How many results had each outcome. */
  outcomes: Record<string, number>;
  /** Results that were neither done nor harmlessly skipped (not found, refused, invalid). */
  notHandled: number;
  /** Results that failed in a way a retry may fix. */
  failed: number;
}

/** Outcomes that mean "this ID was not handled" (exit 2); `error` means "retry may help" (exit 1). */
export const NOT_HANDLED_OUTCOMES = new Set(['not_found', 'refused', 'invalid_log_id', 'key_outside_prefix']);
export const FAILED_OUTCOMES = new Set(['error']);

export function summarize(results: BulkItem[], dryRun: boolean): BulkResult {
  const outcomes: Record<string, number> = {};
  let notHandled = 0;
  let failed = 0;
  for (const item of results) {
    outcomes[item.outcome] = (outcomes[item.outcome] ?? 0) + 1;
    if (NOT_HANDLED_OUTCOMES.has(item.outcome)) notHandled += 1;
    if (FAILED_OUTCOMES.has(item.outcome)) failed += 1;
  }
  return { results, summary: { total: results.length, dryRun, outcomes, notHandled, failed } };
}

/** The CLI's exit code for a bulk answer: 1 if anything may succeed on retry, 2 if an ID was not handled. */
export function bulkExitCode(result: BulkResult): number {
  if (result.summary.failed > 0) return 1;
  if (result.summary.notHandled > 0) return 2;
  return 0;
}

/** `3 enqueued, 1 not_found (4 log IDs)` */
export function summaryLine(result: BulkResult): string {
  const parts = Object.entries(result.summary.outcomes).map(([outcome, count]) => `${count} ${outcome}`);
  const total = `${result.summary.total} log ID${result.summary.total === 1 ? '' : 's'}`;
  return `${parts.length === 0 ? 'nothing to do' : parts.join(', ')} (${total}${result.summary.dryRun ? ', dry run' : ''})`;
}
