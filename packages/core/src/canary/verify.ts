import type { CanaryEntry } from './archive.js';

/** What a manifest entry holds that the canary checks. */
export interface ObservedEntry {
  path: string;
  size: number;
  crc32: string;
}

/**
 * Every difference between the files the canary sent and the manifest's entries: a missing or
 * extra file, a wrong size or CRC32. Empty when the extraction is right.
 */
export function compareCanaryEntries(
  expected: readonly CanaryEntry[],
  observed: readonly ObservedEntry[],
): string[] {
  const problems: string[] = [];
  const byPath = new Map(observed.map((entry) => [entry.path, entry]));
  for (const want of expected) {
    const got = byPath.get(want.path);
    if (got === undefined) {
      problems.push(`${want.path}: missing from the manifest`);
      continue;
    }
    byPath.delete(want.path);
    if (got.size !== want.size) problems.push(`${want.path}: ${got.size} bytes, expected ${want.size}`);
    if (got.crc32 !== want.crc32) problems.push(`${want.path}: CRC32 ${got.crc32}, expected ${want.crc32}`);
  }
  for (const extra of byPath.keys()) problems.push(`${extra}: not in the canary archive`);
  return problems;
}
