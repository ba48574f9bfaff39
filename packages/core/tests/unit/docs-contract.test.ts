import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, sharedEnvSchema } from '@logzip/core';
import { describe, expect, it } from 'vitest';
// This test checks the whole repository (it belongs in a top-level tests/ project), so it reads the
// admin's command table and API codes from their sources rather than through a package export.
import { COMMANDS } from '../../../admin/src/cli/commands.js';
import { adminEnvSchema } from '../../../admin/src/config.js';
import { API_ERRORS } from '../../../admin/src/errors.js';
import { lambdaEnvSchema } from '../../../lambda/src/config.js';
import { workerEnvSchema } from '../../../worker/src/config.js';

// The docs are split by reader (README → docs/*.md). Each contract the code knows must be on the
// page its reader opens: every environment variable in docs/configuration.md, every CLI command and
// flag in docs/cli.md, every error code in docs/error-codes.md. Names are collected from the code,
// so a new variable, flag or code without documentation fails here. The repository must also stand
// on its own: relative links resolve, and no file cites working notes that live outside it.

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const THIS_FILE = relative(ROOT, fileURLToPath(import.meta.url));
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

const REQUIRED_PAGES = [
  'docs/getting-started.md',
  'docs/operations.md',
  'docs/deployment.md',
  'docs/configuration.md',
  'docs/cli.md',
  'docs/http-api.md',
  'docs/error-codes.md',
  'docs/architecture.md',
  'docs/benchmarks.md',
  'docs/reliability.md',
  'docs/development.md',
];
const README_MAX_LINES = 250;
/** Working notes kept outside the repository: a reader of the repository cannot open them. */
const OUTSIDE_CITATIONS = [
  'ARCHITECTURE.md',
  'FIELD-NOTES.md',
  'STYLE.md',
  'REDESIGN.md',
  'HELPERS.md',
  '../shared',
  '/work/shared',
];

/** Tracked files and new ones not ignored, as git sees them (deleted files left out). */
function repositoryFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return out.split('\0').filter((path) => path !== '' && existsSync(join(ROOT, path)));
}

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

const VARIABLE = /\b(?:LOGZIP_[A-Z0-9_]+|AWS_ENDPOINT_URL_[A-Z0-9]+|REDIS_URL|LOG_LEVEL)\b/g;

/** Every env variable in the config schemas and named in the sources of every package and the scripts. */
function envVariablesInCode(): string[] {
  const names = new Set<string>(
    [sharedEnvSchema, workerEnvSchema, adminEnvSchema, lambdaEnvSchema].flatMap((s) => Object.keys(s.shape)),
  );
  const files = [
    ...readdirSync(join(ROOT, 'packages')).flatMap((pkg) => {
      const src = join(ROOT, 'packages', pkg, 'src');
      return existsSync(src) ? sourceFiles(src, ['.ts', '.mts']) : [];
    }),
    ...sourceFiles(join(ROOT, 'scripts'), ['.mjs', '.js']),
  ];
  for (const file of files) {
    for (const match of readFileSync(file, 'utf8').matchAll(VARIABLE)) {
      // `LOGZIP_MAX_*` in prose names a family, not a variable.
      if (!match[0].endsWith('_')) names.add(match[0]);
    }
  }
  return [...names].sort();
}

/** The flags a command accepts: those of its usage line and those its parseArgs options declare. */
function flagsOf(command: string): string[] {
  const flags = new Set<string>();
  for (const match of COMMANDS[command]!.usage.matchAll(/--([a-z][a-z-]*)/g)) flags.add(match[1]!);
  const source = read(`packages/admin/src/cli/commands/${command}.ts`);
  const option = /(?:'([a-z][a-z-]*)'|\b([a-z][a-z-]*)):\s*\{\s*type:\s*'(?:string|boolean)'/g;
  for (const match of source.matchAll(option)) flags.add((match[1] ?? match[2])!);
  return [...flags].sort();
}

/** Level-2 sections of a Markdown page, by heading text (code blocks kept: examples document flags too). */
function sections(markdown: string): Map<string, string> {
  const result = new Map<string, string>();
  let heading: string | undefined;
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^(```|~~~)/.test(line)) fenced = !fenced;
    if (!fenced && line.startsWith('## ')) {
      heading = line.slice(3).trim();
      result.set(heading, '');
    } else if (heading !== undefined) result.set(heading, `${result.get(heading)}${line}\n`);
  }
  return result;
}

/** The lines of the Markdown tables of a page. */
function tableRows(markdown: string): string {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .join('\n');
}

/** The names of `names` that `text` does not mention as a whole word (`format(name)` is what to look for). */
function missingFrom(text: string, names: readonly string[], format: (name: string) => string): string[] {
  return names.filter((name) => {
    const escaped = format(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return !new RegExp(`(?<![A-Za-z0-9_-])${escaped}(?![A-Za-z0-9_-])`).test(text);
  });
}

/** Markdown without fenced code blocks (links and headings in them are examples, not links). */
function withoutCode(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slugOf(heading: string): string {
  return heading
    .replace(/`/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a Markdown page offers (a repeated heading gets -1, -2… as on GitHub). */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of withoutCode(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = slugOf(match[1]!);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  for (const match of markdown.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(match[1]!);
  return anchors;
}

/** Relative links of a Markdown file that do not resolve to a file (and an anchor in it). */
function brokenLinks(
  file: string,
  markdown: string,
  readPage: (path: string) => string | undefined,
): string[] {
  const broken: string[] = [];
  const text = withoutCode(markdown).replace(/`[^`\n]*`/g, '');
  for (const match of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = match[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:…
    const [path = '', anchor] = target.split('#', 2);
    const resolved = path === '' ? file : relative(ROOT, resolve(ROOT, dirname(file), path));
    const page = path === '' ? markdown : readPage(resolved);
    if (page === undefined) broken.push(`${file}: ${target} (no such file)`);
    else if (anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(page).has(anchor))
      broken.push(`${file}: ${target} (no such heading)`);
  }
  return broken;
}

/** Files that cite notes outside the repository, with what they cite. */
function outsideCitations(files: readonly string[], readText: (path: string) => string): string[] {
  return files.flatMap((file) =>
    OUTSIDE_CITATIONS.filter((name) => readText(file).includes(name)).map((name) => `${file}: ${name}`),
  );
}

function readIfExists(path: string): string | undefined {
  const full = join(ROOT, path);
  if (!existsSync(full)) return undefined;
  return statSync(full).isDirectory() ? '' : readFileSync(full, 'utf8');
}

const variables = envVariablesInCode();
const commands = Object.keys(COMMANDS);
const apiCodes = Object.keys(API_ERRORS);
const archiveCodes = Object.keys(ERROR_CODES);
const configuration = read('docs/configuration.md');
const cli = read('docs/cli.md');
const errorCodes = read('docs/error-codes.md');
const readme = read('README.md');

describe('the docs pages document what the code knows', () => {
  it('finds the names it checks (the collectors work)', () => {
    // Assess
    expect(variables).toEqual(
      expect.arrayContaining([
        'LOGZIP_INCOMING_BUCKET',
        'LOGZIP_WORKER_SHUTDOWN_TIMEOUT',
        'LOGZIP_LAMBDA_MAX_ATTEMPTS',
        'LOGZIP_QUEUE_PREFIX',
        'LOGZIP_HOME',
        'AWS_ENDPOINT_URL_S3',
        'REDIS_URL',
        'LOG_LEVEL',
      ]),
    );
    expect(commands).toEqual(
      expect.arrayContaining(['extract', 'reenqueue', 'route', 'status', 'purge', 'sweep']),
    );
    expect(flagsOf('reenqueue')).toEqual(expect.arrayContaining(['all-failed', 'dry-run', 'via', 'json']));
    expect(flagsOf('status')).toEqual(['json']);
    expect(apiCodes).toEqual(expect.arrayContaining(['unauthorized', 'payload_too_large', 'conflict']));
    expect(archiveCodes).toContain('crc_mismatch');
  });

  it('fails when a name is missing', () => {
    // Prepare
    const without = configuration.replaceAll('LOGZIP_SWEEP_GRACE', 'LOGZIP_SWEEP_G');
    const codesWithout = errorCodes.replaceAll('`crc_mismatch`', '');
    // Act
    const missingVariables = missingFrom(tableRows(without), variables, (name) => name);
    const missingCodes = missingFrom(codesWithout, archiveCodes, (code) => `\`${code}\``);
    // Assess
    expect(missingVariables).toEqual(['LOGZIP_SWEEP_GRACE']);
    expect(missingCodes).toEqual(['crc_mismatch']);
  });

  it('lists every environment variable in the configuration table', () => {
    expect(missingFrom(tableRows(configuration), variables, (name) => name)).toEqual([]);
  });

  it("declares each variable in one schema, so it has one default (the admin port is the admin's)", () => {
    // Prepare
    const sharedFields: Record<string, unknown> = sharedEnvSchema.shape;
    const shared = new Set(Object.keys(sharedFields));
    const own = [workerEnvSchema, adminEnvSchema, lambdaEnvSchema].map((schema) => {
      const fields: Record<string, unknown> = schema.shape;
      // A shared variable the package declares again (another default) is a field other than core's.
      return Object.keys(fields).filter((name) => fields[name] !== sharedFields[name]);
    });

    // Act
    const redeclared = own.flat().filter((name) => shared.has(name));
    const inTwo = own.flat().filter((name, i, all) => all.indexOf(name) !== i);

    // Assess
    expect(redeclared).toEqual([]);
    expect(inTwo).toEqual([]);
    expect(shared.has('LOGZIP_ADMIN_PORT')).toBe(false);
    expect(Object.keys(adminEnvSchema.shape)).toContain('LOGZIP_ADMIN_PORT');
  });

  it('lists no variable in the configuration table that the code does not read', () => {
    // Prepare
    const firstCells = tableRows(configuration)
      .split('\n')
      .map((row) => row.split('|')[1] ?? '')
      .join('\n');
    // Act
    const documented = [...firstCells.matchAll(VARIABLE)].map((match) => match[0]);
    // Assess
    expect(documented.filter((name) => !variables.includes(name))).toEqual([]);
  });

  it('gives every CLI command a section of cli.md that shows each of its flags', () => {
    // Prepare
    const pages = sections(cli);
    // Act
    const missing = commands.flatMap((command) => {
      const section = pages.get(`\`logzip ${command}\``);
      if (section === undefined) return [`no section "## \`logzip ${command}\`"`];
      const text = `logzip ${command}\n${section}`;
      return missingFrom(text, flagsOf(command), (flag) => `--${flag}`).map(
        (flag) => `logzip ${command} --${flag}`,
      );
    });
    // Assess
    expect(missing).toEqual([]);
  });

  it('explains every archive error code and every API error code', () => {
    expect(missingFrom(tableRows(errorCodes), archiveCodes, (code) => `\`${code}\``)).toEqual([]);
    expect(missingFrom(tableRows(errorCodes), apiCodes, (code) => `\`${code}\``)).toEqual([]);
  });
});

describe('the docs are split by reader and the repository stands on its own', () => {
  const files = repositoryFiles();
  const markdown = files.filter((file) => file.endsWith('.md'));

  it('has every docs page, and the README links to each', () => {
    // Assess
    expect(REQUIRED_PAGES.filter((page) => !files.includes(page))).toEqual([]);
    const docsPages = markdown.filter((file) => file.startsWith('docs/'));
    expect(docsPages.filter((page) => !readme.includes(`](${page})`))).toEqual([]);
  });

  it('keeps the README short, with the quick start and the test command', () => {
    // Assess
    expect(readme.split('\n').length).toBeLessThanOrEqual(README_MAX_LINES);
    expect(readme).toContain('pnpm install && pnpm start');
    expect(readme).toContain('pnpm demo');
    expect(readme).toContain('pnpm install && pnpm test');
  });

  it('finds broken links and anchors (the checker works)', () => {
    // Prepare
    const page = '# Title\n\n## `logzip route` and more\n\n[ok](#logzip-route-and-more) [bad](#nope)\n';
    const pages: Record<string, string> = { 'docs/a.md': page };
    // Act
    const broken = brokenLinks(
      'docs/a.md',
      `${page}[gone](missing.md) [other](a.md#title)`,
      (path) => pages[path],
    );
    // Assess
    expect(broken).toEqual(['docs/a.md: #nope (no such heading)', 'docs/a.md: missing.md (no such file)']);
  });

  it('resolves every relative link of every Markdown file, anchors included', () => {
    // Act
    const broken = markdown.flatMap((file) => brokenLinks(file, read(file), readIfExists));
    // Assess
    expect(broken).toEqual([]);
  });

  it('cites no notes that live outside the repository', () => {
    // Prepare
    const texts: Record<string, string> = { 'a.ts': '// see FIELD-NOTES.md', 'b.md': 'plain' };
    // Act
    const found = outsideCitations(Object.keys(texts), (file) => texts[file]!);
    const citing = outsideCitations(
      files.filter((file) => file !== THIS_FILE),
      (file) => readFileSync(join(ROOT, file), 'utf8'),
    );
    // Assess
    expect(found).toEqual(['a.ts: FIELD-NOTES.md']);
    expect(citing).toEqual([]);
  });
});
