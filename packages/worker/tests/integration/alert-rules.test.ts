import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable, isCI, tempDir } from '@logzip/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ALERT_RULES, ALERT_TESTS, dashboardExpressions, REPO } from '../helpers/monitoring.js';

// promtool (Debian's prometheus package; .ci/run installs it) on the shipped alert rules: syntax,
// the unit tests in infra/prometheus/alerts.test.yml, and the dashboard's PromQL.

const promtool = await findExecutable('promtool');
if (promtool === undefined && !isCI())
  console.warn(
    'notice: promtool is not on PATH; the alert rule checks are not run (apt-get install prometheus)',
  );

function runPromtool(args: string[], cwd = REPO) {
  const result = spawnSync(promtool as string, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}`, error: result.error };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe.runIf(promtool !== undefined || isCI())('promtool', () => {
  it('is installed (CI=true fails without it)', () => {
    expect(promtool, 'promtool must be on PATH when CI=true: apt-get install prometheus').toBeDefined();
  });

  it('checks the alert rules clean', () => {
    // Act
    const result = runPromtool(['check', 'rules', ALERT_RULES]);

    // Assess
    expect(result.error).toBeUndefined();
    expect(result.output).toContain('SUCCESS: 7 rules found');
    expect(result.status).toBe(0);
  });

  it('passes the rules’ unit tests, which fire at least the failure-rate and worker-down alerts', () => {
    // Prepare
    const tests = parse(readFileSync(ALERT_TESTS, 'utf8')) as {
      tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
    };
    const fired = new Set(
      tests.tests.flatMap((t) =>
        (t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname),
      ),
    );

    // Act
    const result = runPromtool(['test', 'rules', ALERT_TESTS]);

    // Assess
    expect([...fired]).toEqual(expect.arrayContaining(['LogzipExtractionFailureRate', 'LogzipWorkerDown']));
    expect(result.output).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });

  it('fails the unit tests when a rule changes (the tests can fail)', async () => {
    // Prepare: the failure-rate threshold raised from 10% to 50%, so the 25% case no longer fires.
    const dir = await tempDir('promtool');
    cleanups.push(() => dir.cleanup());
    const rules = readFileSync(ALERT_RULES, 'utf8').replace('> 0.1\n', '> 0.5\n');
    expect(rules).toContain('> 0.5\n');
    writeFileSync(join(dir.path, 'logzip-alerts.yml'), rules);
    writeFileSync(join(dir.path, 'alerts.test.yml'), readFileSync(ALERT_TESTS, 'utf8'));

    // Act
    const result = runPromtool(['test', 'rules', 'alerts.test.yml'], dir.path);

    // Assess
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('alertname: LogzipExtractionFailureRate');
  });

  it('parses every PromQL expression of the Grafana dashboard', async () => {
    // Prepare: each panel query as a recording rule, with the dashboard variable filled in.
    const dir = await tempDir('promtool');
    cleanups.push(() => dir.cleanup());
    const expressions = dashboardExpressions();
    const file = join(dir.path, 'dashboard.yml');
    writeFileSync(
      file,
      stringify({
        groups: [
          {
            name: 'dashboard',
            rules: expressions.map(({ expr }, i) => ({
              record: `logzip_dashboard_query_${i}`,
              expr: expr.replaceAll('$instance', '.*'),
            })),
          },
        ],
      }),
    );

    // Act
    const result = runPromtool(['check', 'rules', file]);

    // Assess
    expect(expressions.length).toBeGreaterThan(20);
    expect(result.output).toContain(`SUCCESS: ${expressions.length} rules found`);
    expect(result.status).toBe(0);
  });
});
