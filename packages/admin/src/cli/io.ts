import type { Writable } from 'node:stream';
import { formatBytes } from '../format.js';

/** Where a command writes: stdout for results only (one JSON value with --json), stderr for the rest. */
export interface CliIo {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean; columns?: number };
  stdin: NodeJS.ReadableStream;
  env: Record<string, string | undefined>;
  cwd: string;
}

export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value)}\n`);
}

/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal; `unit: 'bytes'` shows
 * the counts as `1.5 MiB/12 MiB`.
 */
export function createProgressBar(
  io: CliIo,
  label: string,
  options: { unit?: 'count' | 'bytes' } = {},
): { update(done: number, total: number, detail?: string): void; end(): void } {
  if (!io.stderr.isTTY) return { update() {}, end() {} };
  let last = 0;
  let drawn = false;
  const show = options.unit === 'bytes' ? formatBytes : String;
  return {
    update(done, total, detail) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const width = Math.max(10, Math.min(40, (io.stderr.columns ?? 80) - label.length - 30));
      const ratio = total > 0 ? Math.min(1, done / total) : 1;
      const filled = Math.round(ratio * width);
      io.stderr.write(
        `\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}% ${show(done)}/${show(total)}${detail === undefined ? '' : ` ${detail}`}\x1b[K`,
      );
      drawn = true;
    },
    end() {
      if (drawn) io.stderr.write('\n');
    },
  };
}

/** A duration for a progress line: `42s`, `3m07s`, `2h05m`. */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  return m < 60
    ? `${m}m${String(seconds % 60).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
