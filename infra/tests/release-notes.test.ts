import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// scripts/release-notes.mjs, run as the release workflow runs it, on packages made here.

const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../../scripts/release-notes.mjs');
const dirs: string[] = [];

function makePackages(changelogs: Record<string, string | undefined>): string {
  const dir = mkdtempSync(join(tmpdir(), 'logzip-release-notes-'));
  dirs.push(dir);
  for (const [folder, changelog] of Object.entries(changelogs)) {
    mkdirSync(join(dir, folder));
    writeFileSync(join(dir, folder, 'package.json'), JSON.stringify({ name: `@logzip/${folder}` }));
    if (changelog !== undefined) writeFileSync(join(dir, folder, 'CHANGELOG.md'), changelog);
  }
  return dir;
}

function releaseNotes(...args: string[]) {
  return spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8' });
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('release-notes.mjs', () => {
  it("prints the tag's version section of every package's changelog, under the package's name", () => {
    // Prepare
    const packages = makePackages({
      core: '# @logzip/core\n\n## 0.3.0\n\n### Minor Changes\n\n- abc123: canary\n\n## 0.2.0\n\n- older\n',
      admin: '# @logzip/admin\n\n## 0.3.0\n\n### Patch Changes\n\n- Updated dependencies\n',
      lambda: '# @logzip/lambda\n\n## 0.2.0\n\n- only older\n',
      'test-utils': undefined,
    });

    // Act
    const result = releaseNotes('v0.3.0', packages);

    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      '## @logzip/admin\n\n### Patch Changes\n\n- Updated dependencies\n\n' +
        '## @logzip/core\n\n### Minor Changes\n\n- abc123: canary\n',
    );
  });

  it('fails when no package has the version (a tag pushed before `pnpm version-packages`)', () => {
    // Prepare
    const packages = makePackages({ core: '# @logzip/core\n\n## 0.2.0\n\n- older\n' });

    // Act
    const result = releaseNotes('v0.3.0', packages);

    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('pnpm version-packages');
    expect(result.stdout).toBe('');
  });

  it('refuses a tag that is not a version with the usage exit code', () => {
    // Act
    const result = releaseNotes('latest');

    // Assess
    expect(result.status).toBe(64);
    expect(result.stderr).toMatch(/^usage:/);
  });
});
