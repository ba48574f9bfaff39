import { describe, expect, it } from 'vitest';
import {
  type DashboardPanel,
  dashboardExpressions,
  exportedMetricNames,
  metricNamesIn,
  readAlertRules,
  readDashboard,
} from '../helpers/monitoring.js';

// infra/grafana/logzip-dashboard.json and infra/prometheus/logzip-alerts.yml against the metrics the
// worker and the admin really export: a renamed metric breaks this test, not an operator's dashboard.

describe('the Grafana dashboard', () => {
  it('reads only metrics the worker exports', async () => {
    // Prepare
    const exported = await exportedMetricNames();

    // Act
    const unknown = dashboardExpressions().flatMap(({ panel, expr }) =>
      metricNamesIn(expr)
        .filter((name) => !exported.has(name))
        .map((name) => `${panel}: ${name}`),
    );

    // Assess
    expect(exported.size).toBeGreaterThan(20);
    expect(unknown).toEqual([]);
  });

  it('shows every logzip metric the worker exports', async () => {
    // Prepare
    const exported = [...(await exportedMetricNames())].filter(
      (name) => name.startsWith('logzip_') && !/^logzip_(worker|admin)_(process|nodejs)_/.test(name),
    );
    const shown = new Set(dashboardExpressions().flatMap(({ expr }) => metricNamesIn(expr)));

    // Act
    const missing = exported.filter(
      (name) => !shown.has(name) && !shown.has(name.replace(/_(bucket|sum|count)$/, '_bucket')),
    );

    // Assess
    expect(missing).toEqual([]);
  });

  it('is importable: unique panel ids, a datasource variable, panels inside 24 columns', () => {
    // Prepare
    const dashboard = readDashboard();

    // Act
    const ids = dashboard.panels.map((panel) => panel.id);
    const queryPanels = dashboard.panels.filter(
      (panel): panel is DashboardPanel & { targets: unknown[] } => panel.type !== 'row',
    );

    // Assess
    expect(dashboard.uid).toBe('logzip-workers');
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'instance']);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    }
    // Grafana's own variable syntax: the datasource chosen when the dashboard is imported.
    const datasourceVariable = '$' + '{datasource}';
    for (const panel of queryPanels) {
      expect(panel.datasource?.uid, panel.title).toBe(datasourceVariable);
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
    }
  });
});

describe('the Prometheus alert rules', () => {
  it('cover failure rate, backlog age, worker down, no extraction and a silent canary', () => {
    // Act
    const names = readAlertRules().map((rule) => rule.alert);

    // Assess
    expect(names).toEqual(
      expect.arrayContaining([
        'LogzipExtractionFailureRate',
        'LogzipBacklogOld',
        'LogzipWorkerDown',
        'LogzipNoExtraction',
        'LogzipCanarySilent',
        'LogzipAdminErrors',
      ]),
    );
  });

  it('read only metrics the worker exports', async () => {
    // Prepare
    const exported = await exportedMetricNames();

    // Act
    const unknown = readAlertRules().flatMap((rule) =>
      metricNamesIn(rule.expr)
        .filter((name) => !exported.has(name))
        .map((name) => `${rule.alert}: ${name}`),
    );

    // Assess
    expect(unknown).toEqual([]);
  });

  it('say how bad and what to do', () => {
    for (const rule of readAlertRules()) {
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels?.['severity']);
      expect(rule.annotations?.['summary'], rule.alert).toBeTruthy();
      expect(rule.annotations?.['description'], rule.alert).toBeTruthy();
    }
  });
});
