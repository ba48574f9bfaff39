import { createHash } from 'node:crypto';
import type { FailureRecord } from './types.js';

/** Frames of the stack that name a failure's cause; deeper ones are the caller's plumbing. */
export const FINGERPRINT_FRAMES = 5;

export interface Fingerprint {
  /** 16 hex digits: sha256 of the code and the normalised signature. */
  fingerprint: string;
  /** The normalised text it was computed from: the top frames, or the message when there are none. */
  signature: string;
}

/** What a fingerprint reads of a failure record. */
export interface FingerprintInput {
  code: string;
  message: string;
  logId: string;
  source: Pick<FailureRecord['source'], 'bucket' | 'key'>;
  stack?: string | undefined;
  entry?: string | undefined;
}

const FRAME_RE = /^\s*at\s+(.*)$/;

/** Values that differ per archive and per run, never per cause. */
function normaliseValues(text: string, literals: readonly string[]): string {
  let out = text;
  // Longest first, so a key that contains its log ID is replaced whole; numbers are left to the
  // number rule (a log ID "900" must not eat the digits of "900.04 seconds").
  const named = literals.filter((l) => l.length >= 2 && !/^\d+$/.test(l));
  for (const literal of named.sort((a, b) => b.length - a.length)) {
    out = out.split(literal).join('<value>');
  }
  return out
    .replace(/"[^"]*"|'[^']*'|`[^`]*`/g, '<str>')
    .replace(/(?:[A-Za-z]:)?(?:[\\/][^\\/\s:()]+)+[\\/]?/g, (path) => `<path:${basename(path)}>`)
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<id>')
    .replace(/\b(?:0x)?[0-9a-f]{8,}\b/gi, '<hex>')
    .replace(/\d+/g, '#')
    .replace(/\s+/g, ' ')
    .trim();
}

function basename(path: string): string {
  const parts = path.split(/[\\/]/).filter((p) => p !== '');
  const modules = parts.lastIndexOf('node_modules');
  // A dependency is named by its package: its version's folder layout is not the cause.
  if (modules >= 0 && modules + 1 < parts.length) {
    const name = parts[modules + 1] as string;
    return name.startsWith('@') && modules + 2 < parts.length ? `${name}/${parts[modules + 2]}` : name;
  }
  return (parts.at(-1) ?? '').replace(/\.(?:[cm]?js|[cm]?ts)$/, '');
}

/** One frame without its location's numbers, absolute prefix and dependency layout. */
function normaliseFrame(frame: string, literals: readonly string[]): string {
  const located = frame.replace(/:\d+(?::\d+)?(?=\)?$)/, '').replace(/^file:\/\//, '');
  return normaliseValues(located.replace(/\(file:\/\//, '('), literals);
}

/**
 * Names a failure's cause (pure): its code plus the top frames of its stack (the first error's,
 * not its causes'), with line and column numbers, absolute path prefixes, the layout under
 * node_modules and per-archive values (log ID, archive key, entry name, quoted text, numbers, hex
 * ids) normalised away. A record without frames (a timeout drained from the Lambda's destination)
 * is named by its normalised message instead. The same bug at another entry or log ID gets the same
 * fingerprint; two different stacks with one code get two.
 *
 * @example
 * fingerprintFailure(record).fingerprint // '3f0c9d2a41b7e605'
 */
export function fingerprintFailure(record: FingerprintInput): Fingerprint {
  const literals = [record.logId, record.source.key, record.source.bucket, record.entry ?? ''];
  const frames: string[] = [];
  for (const line of (record.stack ?? '').split('\n')) {
    // A cause's frames belong to the cause: the top error's frames name where it surfaced.
    if (line.startsWith('Caused by:')) break;
    const frame = FRAME_RE.exec(line)?.[1];
    if (frame === undefined) continue;
    frames.push(normaliseFrame(frame, literals));
    if (frames.length === FINGERPRINT_FRAMES) break;
  }
  const signature = frames.length > 0 ? frames.join('\n') : normaliseValues(record.message, literals);
  const fingerprint = createHash('sha256').update(`${record.code}\n${signature}`).digest('hex').slice(0, 16);
  return { fingerprint, signature };
}
