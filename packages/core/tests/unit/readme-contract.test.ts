import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, envSchema } from '@logzip/core';
import { describe, expect, it } from 'vitest';

// The root README is the operator's manual: every environment variable the code reads, every CLI
// command and every error code (archive and API) must appear in it. Names are collected from the
// code itself, so a new variable or command without documentation fails here.

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

function sourceFiles(dir: string, extensions: readonly string[]): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path, extensions));
    else if (extensions.some((ext) => name.endsWith(ext))) files.push(path);
  }
  return files;
}

/** Every env variable named in the sources of every package and in the root scripts. */
function envVariablesInCode(): string[] {
  const names = new Set<string>(Object.keys(envSchema.shape));
  const files = [
    ...readdirSync(join(ROOT, 'packages')).flatMap((pkg) => {
      const src = join(ROOT, 'packages', pkg, 'src');
      try {
        return sourceFiles(src, ['.ts', '.mts']);
      } catch {
        return [];
      }
    }),
    ...sourceFiles(join(ROOT, 'scripts'), ['.mjs', '.js']),
  ];
  const pattern = /\b(?:LOGZIP_[A-Z0-9_]+|AWS_ENDPOINT_URL_[A-Z0-9]+|REDIS_URL|LOG_LEVEL)\b/g;
  for (const file of files) {
    for (const match of readFileSync(file, 'utf8').matchAll(pattern)) {
      // `LOGZIP_MAX_*` in prose names a family, not a variable.
      if (!match[0].endsWith('_')) names.add(match[0]);
    }
  }
  return [...names].sort();
}

/** The keys of an object literal `export const NAME = { key: …, … }` in a source file. */
function objectKeys(file: string, constName: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const start = text.indexOf(`export const ${constName}`);
  if (start === -1) throw new Error(`${constName} not found in ${file}`);
  const body = text.slice(text.indexOf('{', start));
  const keys: string[] = [];
  let depth = 0;
  for (const line of body.split('\n')) {
    const key = depth === 1 ? /^\s*([a-z][a-z0-9_-]*|'[^']+'):/i.exec(line) : null;
    if (key) keys.push(key[1]!.replace(/'/g, ''));
    for (const ch of line) {
      if (ch === '{') depth += 1;
      else if (ch === '}') depth -= 1;
    }
    if (depth === 0) break;
  }
  return keys;
}

/** The names of `names` that `text` does not mention as a whole word (`format(name)` is what to look for). */
function missingFrom(text: string, names: readonly string[], format: (name: string) => string): string[] {
  return names.filter((name) => {
    const escaped = format(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return !new RegExp(`(?<![A-Za-z0-9_])${escaped}(?![A-Za-z0-9_])`).test(text);
  });
}

const variables = envVariablesInCode();
const commands = objectKeys('packages/admin/src/cli/commands.ts', 'COMMANDS');
const apiCodes = objectKeys('packages/admin/src/errors.ts', 'API_ERRORS');
const archiveCodes = Object.keys(ERROR_CODES);

describe('the README documents what the code knows', () => {
  it('finds the names it checks (the collectors work)', () => {
    // Assess
    expect(variables).toEqual(
      expect.arrayContaining([
        'LOGZIP_INCOMING_BUCKET',
        'LOGZIP_WORKER_SHUTDOWN_TIMEOUT',
        'LOGZIP_LAMBDA_MAX_ATTEMPTS',
        'LOGZIP_QUEUE_PREFIX',
        'AWS_ENDPOINT_URL_S3',
        'REDIS_URL',
        'LOG_LEVEL',
      ]),
    );
    expect(commands).toEqual(
      expect.arrayContaining(['extract', 'reenqueue', 'route', 'status', 'purge', 'sweep']),
    );
    expect(apiCodes).toEqual(expect.arrayContaining(['unauthorized', 'payload_too_large', 'conflict']));
    expect(archiveCodes).toContain('crc_mismatch');
  });

  it('fails when a name is missing', () => {
    // Prepare
    const without = README.replaceAll('LOGZIP_SWEEP_GRACE', 'LOGZIP_SWEEP_G').replaceAll(
      '`crc_mismatch`',
      '',
    );
    // Act
    const missingVariables = missingFrom(without, variables, (name) => name);
    const missingCodes = missingFrom(without, archiveCodes, (code) => `\`${code}\``);
    // Assess
    expect(missingVariables).toEqual(['LOGZIP_SWEEP_GRACE']);
    expect(missingCodes).toEqual(['crc_mismatch']);
  });

  it('names every environment variable', () => {
    expect(missingFrom(README, variables, (name) => name)).toEqual([]);
  });

  it('shows every CLI command', () => {
    expect(missingFrom(README, commands, (command) => `logzip ${command}`)).toEqual([]);
  });

  it('explains every archive error code', () => {
    expect(missingFrom(README, archiveCodes, (code) => `\`${code}\``)).toEqual([]);
  });

  it('explains every API error code', () => {
    expect(missingFrom(README, apiCodes, (code) => `\`${code}\``)).toEqual([]);
  });
});
