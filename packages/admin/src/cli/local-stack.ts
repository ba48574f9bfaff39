import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Commands that talk to a running logzip (`extract` works on files and needs none of this). */
const STACK_COMMANDS = new Set([
  'upload',
  'reenqueue',
  'route',
  'status',
  'failures',
  'purge',
  'sweep',
  'canary',
]);

/** `KEY=value` lines; blank lines and `#` comments skipped, one level of quotes removed. */
export function parseEnvLines(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) {
      value = value.slice(1, -1);
    }
    values[line.slice(0, eq).trim()] = value;
  }
  return values;
}

/**
 * The environment of a CLI run, completed from the local stack's `admin.env` (written by
 * `pnpm start` in `$LOGZIP_HOME`, default `<cwd>/.logzip`) when the environment configures no
 * logzip itself: no `LOGZIP_ADMIN_URL` and no `LOGZIP_INCOMING_BUCKET`. Then `pnpm logzip route`
 * reaches the local admin service with its token. Variables already set always win; an operator's
 * own configuration is never mixed with the local stack's.
 *
 * @example
 * const { env, file } = withLocalStack(process.argv.slice(2), process.env, process.cwd());
 */
export function withLocalStack(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  cwd: string,
): { env: Record<string, string | undefined>; file: string | undefined } {
  const command = argv[0];
  if (command === undefined || !STACK_COMMANDS.has(command)) return { env, file: undefined };
  if (env['LOGZIP_ADMIN_URL'] || env['LOGZIP_INCOMING_BUCKET']) return { env, file: undefined };
  const home = env['LOGZIP_HOME'] ? resolve(cwd, env['LOGZIP_HOME']) : join(cwd, '.logzip');
  const file = join(home, 'admin.env');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { env, file: undefined };
  }
  const merged: Record<string, string | undefined> = { ...parseEnvLines(text) };
  for (const [key, value] of Object.entries(env)) if (value !== undefined) merged[key] = value;
  return { env: merged, file };
}
