import { execFile } from 'node:child_process';
import { mkdir, readdir, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));
export const BUNDLE_PATH = join(PACKAGE_DIR, 'dist', 'index.mjs');
const SOURCE_DIRS = [join(PACKAGE_DIR, 'src'), join(PACKAGE_DIR, '..', 'core', 'src')];

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

async function isFresh(): Promise<boolean> {
  const bundle = await stat(BUNDLE_PATH).catch(() => undefined);
  if (bundle === undefined) return false;
  const sources = await Promise.all(SOURCE_DIRS.map(newestMtime));
  return Math.max(...sources) <= bundle.mtimeMs;
}

/**
 * Builds dist/index.mjs (esbuild only, as `pnpm build` does after tsc) when it is missing or older
 * than the sources it bundles. A lock folder keeps two test files from building at once.
 */
export async function ensureBundle(): Promise<string> {
  const lock = join(PACKAGE_DIR, 'dist', '.bundle-lock');
  await mkdir(join(PACKAGE_DIR, 'dist'), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch {
      // A lock left by a killed run is older than any build.
      const held = await stat(lock).catch(() => undefined);
      if (held !== undefined && Date.now() - held.mtimeMs > 120_000) await rmdir(lock).catch(() => {});
      if (Date.now() > deadline) throw new Error(`${lock} is held for more than 2 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    if (!(await isFresh())) {
      await promisify(execFile)(process.execPath, ['scripts/build.mjs'], { cwd: PACKAGE_DIR });
    }
  } finally {
    await rmdir(lock);
  }
  return BUNDLE_PATH;
}
