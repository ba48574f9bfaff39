import type { BulkResult } from '../operations/bulk.js';
import { summaryLine } from '../operations/bulk.js';

/** A plain-text table: padded columns, the last one free-width. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(Math.min(widths[i] ?? 0, 60))))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(Math.min(w, 60)))), ...rows.map(line)].join('\n');
}

/** The per-ID table and the summary line of a bulk command. */
export function renderBulk(result: BulkResult): string {
  const rows = result.results.map((r) => [r.logId, r.outcome, r.detail]);
  const body = rows.length === 0 ? '' : `${table(['LOG ID', 'OUTCOME', 'DETAIL'], rows)}\n\n`;
  return `${body}${summaryLine(result)}\n`;
}
