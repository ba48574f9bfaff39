import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDir {
  /** Absolute path of the new, empty folder. */
  path: string;
  /** Removes the folder and everything in it (safe to call twice). */
  cleanup(): Promise<void>;
}

/**
 * A fresh folder under the OS temp dir (`logzip-<label>-XXXXXX`).
 *
 * @example
 * ```ts
 * let dir: TempDir;
 * beforeEach(async () => { dir = await tempDir('fs-store'); });
 * afterEach(() => dir.cleanup());
 * ```
 */
export async function tempDir(label = 'test'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), `logzip-${label}-`));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}
