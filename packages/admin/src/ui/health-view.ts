import type { ActivityView } from '@logzip/core/state';
import type { HealthReport } from '../operations/health.js';
import { html, type SafeHtml } from './html.js';
import { badge, shortAge, when } from './layout.js';

/** The dashboard's health card: every fact of the strip with its threshold, red when stale. */
export function healthCard(health: HealthReport | undefined, now: Date): SafeHtml {
  if (health === undefined) {
    return html`<div class="card" id="health"><h2>Health</h2><div class="banner danger">The health facts could not be read.</div></div>`;
  }
  const t = health.thresholds;
  const state = (stale: boolean) => (stale ? badge('stale', 'bad') : badge('ok', 'ok'));
  const workers = health.workers;
  const waiting = health.oldestWaiting;
  return html`<div class="card" id="health"><h2>Health ${health.ok ? badge('ok', 'ok') : badge(`${health.problems.length} problem(s)`, 'bad')} <span class="muted small">refreshes every 30 s</span></h2>
    ${
      health.problems.length === 0
        ? html``
        : html`<div class="banner danger" role="alert" id="health-problems"><ul>${health.problems.map((p) => html`<li>${p}</li>`)}</ul></div>`
    }
    <div class="scroll"><table id="health-facts"><thead><tr><th>fact</th><th>value</th><th>state</th><th>red after</th></tr></thead><tbody>
    ${
      workers === null
        ? html`<tr><td>workers</td><td>heartbeats cannot be read</td><td>${badge('unknown', 'bad')}</td><td></td></tr>`
        : workers.length === 0
          ? html`<tr><td>workers</td><td>none connected</td><td>${badge('none', 'bad')}</td><td></td></tr>`
          : workers.map(
              (w) =>
                html`<tr class="worker" data-worker="${w.name}"><td>worker <code>${w.name}</code></td><td>last heartbeat ${shortAge(w.ageMs)} ago · ${w.activeJobs}/${w.concurrency} active</td><td>${state(w.stale)}</td><td>${shortAge(t.heartbeatStaleMs)}</td></tr>`,
            )
    }
    <tr id="health-waiting"><td>oldest waiting job</td><td>${
      waiting === null
        ? 'the queue cannot be read'
        : waiting.jobId === null
          ? html`<span class="muted">none waiting</span>`
          : html`<code>${waiting.jobId}</code>, waiting ${shortAge(waiting.ageMs)}`
    }</td><td>${state(waiting === null || waiting.stale)}</td><td>${shortAge(t.waitingStaleMs)}</td></tr>
    <tr id="health-sweep"><td>last sweep</td><td>${health.lastSweep.at === null ? html`<span class="muted">none yet</span>` : when(health.lastSweep.at, now)}</td><td>${state(health.lastSweep.stale)}</td><td>${shortAge(t.sweepStaleMs)}</td></tr>
    ${(['lambda', 'queue'] as const).map(
      (route) =>
        html`<tr id="health-last-${route}"><td>last extraction (${route})</td><td>${
          health.lastExtraction?.[route] == null
            ? html`<span class="muted">none recorded</span>`
            : when(health.lastExtraction[route], now)
        }</td><td>${badge('info', 'muted')}</td><td></td></tr>`,
    )}
    </tbody></table></div></div>`;
}

/** Extractions and final failures of the last hour, per route (both routes, from the index's counters). */
export function throughputLine(activity: ActivityView | null): SafeHtml {
  if (activity === null) return html`<span class="muted">per-route throughput needs the Redis index</span>`;
  const { window } = activity;
  return html`Last ${window.minutes} min: ${(['lambda', 'queue'] as const).map(
    (route) =>
      html`<span class="route-throughput" data-route="${route}">${route} <strong>${window.extracted[route]}</strong> extracted, <strong>${window.failed[route]}</strong> failed</span> `,
  )}`;
}

const CHART_W = 720;
const CHART_H = 160;
const PAD_L = 34;
const PAD_B = 22;

/**
 * Extracted and failed per hour over the last 24 h, both routes summed, as inline SVG (the CSP
 * allows no script; no chart library): green bars extracted, red bars failed, side by side.
 */
export function activityChart(activity: ActivityView | null): SafeHtml {
  if (activity === null) return html``;
  const rows = activity.hours.map((h) => ({
    hour: h.hour,
    extracted: h.extracted.lambda + h.extracted.queue,
    failed: h.failed.lambda + h.failed.queue,
  }));
  const max = Math.max(1, ...rows.map((r) => Math.max(r.extracted, r.failed)));
  const plotW = CHART_W - PAD_L - 4;
  const plotH = CHART_H - PAD_B - 6;
  const slot = plotW / rows.length;
  const barW = Math.max(1, slot / 2 - 1);
  const y = (n: number) => 6 + plotH - (n / max) * plotH;
  const bars = rows.map((r, i) => {
    const x = PAD_L + i * slot;
    const label = `${r.hour.slice(11, 13)}:00 UTC: ${r.extracted} extracted, ${r.failed} failed`;
    return html`<g><title>${label}</title><rect class="bar-ok" x="${x.toFixed(1)}" y="${y(r.extracted).toFixed(1)}" width="${barW.toFixed(1)}" height="${(6 + plotH - y(r.extracted)).toFixed(1)}"></rect><rect class="bar-bad" x="${(x + barW + 1).toFixed(1)}" y="${y(r.failed).toFixed(1)}" width="${barW.toFixed(1)}" height="${(6 + plotH - y(r.failed)).toFixed(1)}"></rect>${
      i % 6 === 0
        ? html`<text class="axis" x="${x.toFixed(1)}" y="${String(CHART_H - 6)}">${r.hour.slice(11, 13)}:00</text>`
        : html``
    }</g>`;
  });
  const total = rows.reduce(
    (sum, r) => ({ extracted: sum.extracted + r.extracted, failed: sum.failed + r.failed }),
    {
      extracted: 0,
      failed: 0,
    },
  );
  return html`<figure class="chart" id="activity-chart"><svg viewBox="0 0 ${String(CHART_W)} ${String(CHART_H)}" role="img" aria-label="extracted and failed per hour, last 24 hours" preserveAspectRatio="none">
    <line class="axis-line" x1="${String(PAD_L)}" y1="${String(6 + plotH)}" x2="${String(CHART_W - 4)}" y2="${String(6 + plotH)}"></line>
    <text class="axis" x="0" y="14">${String(max)}</text><text class="axis" x="0" y="${String(6 + plotH)}">0</text>
    ${bars}</svg>
    <figcaption class="small muted">Per hour, last 24 h (UTC), both routes: <span class="key-ok">■</span> extracted (${total.extracted}) <span class="key-bad">■</span> failed for good (${total.failed}).</figcaption></figure>`;
}
