// Shared by scripts/start.mjs and scripts/demo.mjs: where the local stack keeps its files, and the
// admin.env file that hands its URL and tokens to the CLI and the demo.
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is scripts/lib/local.mjs). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The local stack's folder: `--dir`, else LOGZIP_HOME, else `<repo>/.logzip`. */
export function stackHome(dirArg, env = process.env) {
  const chosen = dirArg ?? (env.LOGZIP_HOME || undefined);
  return chosen === undefined ? join(ROOT, '.logzip') : resolve(chosen);
}

/** `KEY=value` lines (blank lines and `#` comments skipped; optional quotes removed). */
export function parseEnvFile(text) {
  const values = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) {
      value = value.slice(1, -1);
    }
    values[key] = value;
  }
  return values;
}

export function readEnvFile(path) {
  if (!existsSync(path)) return undefined;
  return parseEnvFile(readFileSync(path, 'utf8'));
}

/** Writes `values` as KEY=value lines, readable by the owner only (0600), atomically. */
export function writeEnvFile(path, values, header) {
  const lines = [
    ...header.map((line) => `# ${line}`),
    ...Object.entries(values).map(([k, v]) => `${k}=${v}`),
  ];
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${lines.join('\n')}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}
