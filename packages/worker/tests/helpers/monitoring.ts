import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
// The admin's registry too (a test-only reach across packages, as core's docs-contract test does):
// the dashboard and the rules read both services.
import { createAdminMetrics } from '../../../admin/src/http/metrics.js';
import { registerCanaryMetrics } from '../../src/canary-metrics.js';
import { createWorkerMetrics } from '../../src/metrics.js';

// The monitoring files shipped in infra/ and what the worker really exports, for the tests that
// hold the two together.

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const ALERT_RULES = join(REPO, 'infra/prometheus/logzip-alerts.yml');
export const ALERT_TESTS = join(REPO, 'infra/prometheus/alerts.test.yml');
export const DASHBOARD = join(REPO, 'infra/grafana/logzip-dashboard.json');

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: Array<{ refId: string; expr: string; datasource?: { uid: string } }>;
}

export function readDashboard(): {
  uid: string;
  panels: DashboardPanel[];
  templating: { list: Array<{ name: string }> };
} {
  return JSON.parse(readFileSync(DASHBOARD, 'utf8'));
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function readAlertRules(): AlertRule[] {
  const doc = parse(readFileSync(ALERT_RULES, 'utf8')) as { groups: Array<{ rules: AlertRule[] }> };
  return doc.groups.flatMap((group) => group.rules);
}

/** Every PromQL expression of the dashboard, with the panel it belongs to. */
export function dashboardExpressions(): Array<{ panel: string; expr: string }> {
  return readDashboard().panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })),
  );
}

/** The logzip metric names an expression reads (Prometheus' own `up` aside). */
export function metricNamesIn(expr: string): string[] {
  return [...new Set(expr.match(/\blogzip_[a-z0-9_]+\b/g) ?? [])];
}

/**
 * The sample names a worker with the canary on, and the admin, expose on /metrics (histograms as
 * _bucket, _sum, _count), read from their own registries rather than from a list kept by hand.
 */
export async function exportedMetricNames(): Promise<Set<string>> {
  const metrics = createWorkerMetrics({
    queueCounts: async () => ({ waiting: 1 }),
    lastSweep: async () => undefined,
    heartbeats: async () => [
      {
        name: 'host:1',
        host: 'host',
        pid: 1,
        startedAt: new Date().toISOString(),
        at: new Date().toISOString(),
        concurrency: 2,
        activeJobs: 0,
      },
    ],
    oldestWaiting: async () => undefined,
    activity: async () => ({
      lastExtracted: { lambda: new Date().toISOString(), queue: new Date().toISOString() },
      lastFailed: { lambda: null, queue: null },
      window: { minutes: 60, extracted: { lambda: 0, queue: 0 }, failed: { lambda: 0, queue: 0 } },
      hours: [],
    }),
  });
  const canary = registerCanaryMetrics(metrics.registry, async () => ({
    lastSuccessAt: new Date().toISOString(),
    lastDurationSeconds: 1,
    lastOutcome: 'ok',
  }));
  // Labelled series appear once they have a value.
  metrics.jobsCompleted.inc({ status: 'extracted' });
  metrics.jobsFailed.inc({ code: 'corrupt', final: 'true' });
  metrics.jobDuration.observe({ outcome: 'extracted' }, 1);
  metrics.lambdaFailures.inc({ code: 'timeout' });
  metrics.sweeps.inc({ outcome: 'ok' });
  metrics.sweepEnqueued.inc({ route: 'queue' });
  canary.runs.inc({ outcome: 'ok' });
  const admin = createAdminMetrics({
    routes: { get: async () => 'queue', set: async () => {} },
    operations: {
      store: { list: async () => [] } as never,
      enqueueRun: async () => {},
    },
  });
  const labels = { method: 'GET', route: '/api/route', status: '200' };
  admin.httpRequests.inc(labels);
  admin.httpDuration.observe(labels, 0.01);
  admin.ingested({ endpoint: 'put', route: 'queue', bytes: 1 });
  const text = `${await metrics.registry.metrics()}\n${await admin.registry.metrics()}`;
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    names.add(line.split(/[{ ]/, 1)[0] as string);
  }
  return names;
}
