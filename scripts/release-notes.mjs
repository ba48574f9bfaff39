#!/usr/bin/env node
// Prints the release notes of one version: the `## <version>` section of every package's
// CHANGELOG.md (written by `changeset version`), under the package's name. The release workflow
// uses it for the GitHub release's body; it exits 1 when no package has that version, so a tag
// pushed without `pnpm version-packages` fails before anything is published.
//
//   node scripts/release-notes.mjs v0.2.0 [packages-dir] > notes.md
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The body of the `## <version>` section of a changesets CHANGELOG.md (up to the next `## `), or
 * undefined when the file has no such section.
 */
export function readChangelogSection(changelog, version) {
  const lines = changelog.split(/\r?\n/);
  const start = lines.findIndex((line) => line.trim() === `## ${version}`);
  if (start === -1) return undefined;
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => line.startsWith('## '));
  return (end === -1 ? rest : rest.slice(0, end)).join('\n').trim();
}

/** Release notes for `version` from the packages under `packagesDir`; undefined when none has it. */
export function collectReleaseNotes(packagesDir, version) {
  const sections = [];
  for (const folder of readdirSync(packagesDir).sort()) {
    const changelog = join(packagesDir, folder, 'CHANGELOG.md');
    const manifest = join(packagesDir, folder, 'package.json');
    if (!existsSync(changelog) || !existsSync(manifest)) continue;
    const section = readChangelogSection(readFileSync(changelog, 'utf8'), version);
    if (section === undefined) continue;
    const name = JSON.parse(readFileSync(manifest, 'utf8')).name;
    sections.push(`## ${name}\n\n${section || '(no changes of its own)'}`);
  }
  return sections.length === 0 ? undefined : `${sections.join('\n\n')}\n`;
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const tag = process.argv[2];
  if (tag === undefined || !/^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/.test(tag)) {
    process.stderr.write('usage: release-notes.mjs v<major>.<minor>.<patch> [packages-dir]\n');
    process.exit(64);
  }
  const version = tag.replace(/^v/, '');
  const packagesDir = process.argv[3] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'packages');
  const notes = collectReleaseNotes(packagesDir, version);
  if (notes === undefined) {
    process.stderr.write(
      `no packages/*/CHANGELOG.md has a "## ${version}" section: run \`pnpm version-packages\` and commit before tagging\n`,
    );
    process.exit(1);
  }
  process.stdout.write(notes);
}
