import {
  type AuditEntry,
  ERROR_CODES,
  FAILURE_STATES,
  type FailureRecord,
  isErrorCode,
  type Route,
  type TriggerState,
} from '@logzip/core';
import type { FailureSummary } from '@logzip/core/state';
import { describeBuffered } from '../operations/buffered-view.js';
import type { BulkResult } from '../operations/bulk.js';
import { summaryLine } from '../operations/bulk.js';
import { adviseOn } from '../operations/failure-advice.js';
import type { FailureQuery } from '../operations/failures.js';
import type { Overview } from '../operations/overview.js';
import type { RouteStatus } from '../operations/route.js';
import type { ArchiveStatus } from '../operations/status.js';
import { failureTabs } from './group-pages.js';
import { activityChart, healthCard, throughputLine } from './health-view.js';
import { html, type SafeHtml } from './html.js';
import { badge, bytes, csrfField, layout, type PageContext, when } from './layout.js';

export const DASHBOARD_REFRESH_SECONDS = 30;

const ROUTE_HELP: Record<Route, string> = {
  lambda: 'S3 events invoke the extraction function; the sweeper catches what it misses.',
  queue: 'the S3 trigger is removed; archives go through the BullMQ queue and its workers.',
};

function routeBadge(route: Route | null): SafeHtml {
  if (route === null) return badge('unknown', 'bad');
  return badge(route, route === 'lambda' ? '' : 'warn');
}

function driftBanner(status: RouteStatus): SafeHtml {
  const { drift } = status;
  return html`${
    drift.detected
      ? html`<div class="banner danger" role="alert" id="drift-banner"><strong>Drift: the actual route does not match the desired one</strong><ul>${drift.messages.map(
          (message) => html`<li>${message}</li>`,
        )}</ul></div>`
      : html``
  }${
    drift.warnings.length > 0
      ? html`<div class="banner warning" id="route-warnings"><strong>The active route has problems</strong><ul>${drift.warnings.map(
          (message) => html`<li>${message}</li>`,
        )}</ul></div>`
      : html``
  }`;
}

function value(v: unknown): SafeHtml {
  if (v === null || v === undefined) return html`<span class="muted">–</span>`;
  if (typeof v === 'boolean') return v ? badge('yes', 'ok') : badge('no', 'bad');
  if (typeof v === 'object') return html`<code>${JSON.stringify(v)}</code>`;
  return html`${String(v)}`;
}

function triggerCard(actual: TriggerState | null, error: string | null, showProblems = true): SafeHtml {
  if (actual === null) {
    return html`<div class="card"><h2>S3 trigger (read back now)</h2><p class="banner danger">${error ?? 'unknown'}</p></div>`;
  }
  const d = actual.details as Record<string, unknown>;
  const fn = (d['function'] ?? null) as Record<string, unknown> | null;
  const retries = (d['retries'] ?? null) as Record<string, unknown> | null;
  const queue = (d['failureQueue'] ?? null) as Record<string, unknown> | null;
  const rows: Array<[string, SafeHtml]> = [
    ['trigger', actual.enabled ? badge('on', 'ok') : badge('off', 'muted')],
    [
      'filter',
      actual.filter === undefined
        ? html`<span class="muted">–</span>`
        : html`<code>prefix=${actual.filter.prefix} suffix=${actual.filter.suffix}</code>`,
    ],
  ];
  if (d['kind'] === 'aws') {
    rows.push(
      ['bucket', html`<code>${String(d['bucket'])}</code>`],
      ['function', html`<code>${String(d['functionName'])}</code>`],
      [
        'function state',
        fn === null
          ? badge('unreadable', 'bad')
          : badge(String(fn['state'] ?? '?'), fn['state'] === 'Active' ? 'ok' : 'bad'),
      ],
      [
        'reserved concurrency',
        d['reservedConcurrency'] === 0
          ? badge('0 — throttled', 'bad')
          : html`${d['reservedConcurrency'] === null ? 'unreserved' : String(d['reservedConcurrency'])}`,
      ],
      ['retries', value(retries?.['maximumRetryAttempts'])],
      [
        'max event age',
        retries === null ? value(null) : html`${String(retries['maximumEventAgeInSeconds'])} s`,
      ],
      ['on-failure destination', value(retries?.['onFailureDestination'] ?? null)],
      ['S3 may invoke', value(d['invokePermission'])],
      [
        'failure queue',
        queue === null
          ? value(null)
          : html`${String(queue['visible'])} waiting, ${String(queue['inFlight'])} in flight`,
      ],
      ['other entries kept', html`${String(d['foreignEntries'] ?? 0)}`],
    );
  } else if (d['kind'] === 'aws-buffered') {
    const view = describeBuffered(d);
    rows.push(
      ['mode', badge('buffered (S3 → SQS → Lambda)', '')],
      ['event source mapping', badge(view.mappingState, view.mappingState === 'Enabled' ? 'ok' : 'warn')],
      ['batch size / maximum concurrency', html`${view.batchSize} / ${view.maximumConcurrency}`],
      ['batch item failures reported', value(view.reportBatchItemFailures)],
      ['trigger queue', html`${view.queue}`],
      ['oldest message', html`${view.oldestAge}`],
      ['dead-letter queue', html`${view.deadLetterQueue}`],
      ['S3 may send to the queue', value(view.queuePolicyAllowsBucket)],
    );
  } else if (d['kind'] === 'local') {
    rows.push(['emulator', html`${String(d['emulator'])}`]);
  }
  return html`<div class="card" id="trigger"><h2>S3 trigger <span class="muted small">(read back now)</span></h2>
    <dl class="kv">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
    ${
      actual.problems.length === 0 || !showProblems
        ? html``
        : html`<div class="banner warning"><strong>Problems</strong><ul>${actual.problems.map((p) => html`<li>${p}</li>`)}</ul></div>`
    }</div>`;
}

/** `permanent` (the archive is bad) or `transient` (a dependency failed), as a badge. */
function kindBadge(code: string): SafeHtml {
  const { kind } = adviseOn(code);
  return badge(kind, kind === 'permanent' ? 'bad' : 'warn');
}

/** The entry and the stack of a whole record, when the page read it. */
function details(record: FailureRecord | undefined): SafeHtml {
  if (record === undefined) return html``;
  return html`${record.entry === undefined ? html`` : html` <span class="muted small">(entry <code>${record.entry}</code>)</span>`}
          ${record.stack === undefined ? html`` : html`<details class="stack"><summary>stack trace</summary><pre>${record.stack}</pre></details>`}`;
}

function failureRows(
  records: FailureSummary[],
  page: PageContext,
  selectable: boolean,
  full: ReadonlyMap<string, FailureRecord> = new Map(),
): SafeHtml {
  if (records.length === 0) return html`<p class="empty">No failures match.</p>`;
  return html`<table class="failures"><thead><tr>${selectable ? html`<th></th>` : html``}<th>log ID</th><th>code</th><th>route</th><th>state</th><th>attempts</th><th>updated</th><th>message</th>${selectable ? html`<th></th>` : html``}</tr></thead><tbody>
    ${records.map(
      (r) => html`<tr data-log-id="${r.logId}">
        ${selectable ? html`<td><input type="checkbox" name="logId" value="${r.logId}" aria-label="select ${r.logId}"></td>` : html``}
        <td class="mono"><a href="/archives/${encodeURIComponent(r.logId)}">${r.logId}</a></td>
        <td>${badge(r.code, isErrorCode(r.code) && ERROR_CODES[r.code].retryable ? 'warn' : 'bad')} ${kindBadge(r.code)}</td>
        <td>${r.route}</td>
        <td>${badge(r.state, r.state === 'resolved' ? 'ok' : r.state === 'failed' ? 'bad' : 'warn')}</td>
        <td>${r.attemptCount}</td>
        <td class="when">${when(r.updatedAt, page.now)}</td>
        <td>${r.message}${details(full.get(r.logId))}
          <div class="small advice">${adviseOn(r.code).advice}</div></td>
        ${selectable ? html`<td><button type="submit" class="small" name="only" value="${r.logId}">Re-enqueue${adviseOn(r.code).kind === 'permanent' ? '…' : ''}</button></td>` : html``}
      </tr>`,
    )}</tbody></table>`;
}

export function loginPage(
  page: PageContext,
  options: { error?: string; next: string; operator?: string },
): string {
  return layout(
    'Sign in',
    page,
    html`<div class="card login"><h1>Sign in</h1>
      ${options.error === undefined ? html`` : html`<div class="banner danger" role="alert">${options.error}</div>`}
      <form method="post" action="/login">
        ${csrfField(page)}<input type="hidden" name="next" value="${options.next}">
        <label>Your name (recorded in the audit log)<input type="text" name="operator" required maxlength="64" autocomplete="username" value="${options.operator ?? ''}"></label>
        <label>Admin token<input type="password" name="token" required autocomplete="current-password"></label>
        <button type="submit" class="primary">Sign in</button>
      </form></div>`,
  );
}

/**
 * The dashboard reloads itself (the health facts move); the route switch's form, where an operator
 * types, is on its own page so a reload never loses what was typed.
 */
export function dashboardPage(page: PageContext, overview: Overview): string {
  const { route } = overview;
  const counts = overview.queue.counts;
  const target: Route = route.desired === 'lambda' ? 'queue' : 'lambda';
  const activity = page.health?.activity ?? null;
  return layout(
    'Dashboard',
    { ...page, refreshSeconds: DASHBOARD_REFRESH_SECONDS },
    html`<h1>Dashboard</h1>${driftBanner(route)}
    ${healthCard(page.health, page.now)}
    <div class="grid">
      <div class="card" id="route"><h2>Route</h2>
        <div class="stats">
          <div class="stat"><span>desired (flag)</span><span class="big" id="desired-route">${route.desired ?? 'unknown'}</span></div>
          <div class="stat"><span>actual (trigger)</span><span class="big" id="actual-route">${route.effective ?? 'unreadable'}</span></div>
        </div>
        <p class="muted small">${route.desired === null ? 'Nobody has set the route yet: choose one.' : ROUTE_HELP[route.desired]}</p>
        <p><a class="button primary" id="switch-route" href="/ui/route?to=${target}">Switch the route…</a></p>
      </div>
      ${triggerCard(route.actual, route.actualError, route.drift.warnings.length === 0)}
    </div>
    <div class="grid">
      <div class="card" id="queue"><h2>Queue <span class="muted small">logzip-extract</span></h2>
        ${
          counts === null
            ? html`<div class="banner danger">${overview.queue.error ?? 'unavailable'}</div>`
            : html`<div class="stats">${['waiting', 'active', 'delayed', 'failed', 'completed'].map(
                (state) =>
                  html`<div class="stat"><span>${state}</span><span class="big">${counts[state] ?? 0}</span></div>`,
              )}</div>`
        }
        <p class="small">${
          overview.throughput === null
            ? html`<span class="muted">queue throughput unavailable</span>`
            : html`Queue jobs, last ${overview.throughput.sinceMinutes} min: <strong>${overview.throughput.completed}</strong> completed, <strong>${overview.throughput.failed}</strong> failed.`
        }</p>
        <p class="small">Backlog (sweeper): ${
          overview.backlog === null
            ? html`<span class="muted">no sweep published yet</span>`
            : html`<strong>${overview.backlog.count}</strong> archive(s) not extracted${
                overview.backlog.oldestLastModified === null
                  ? html``
                  : html`, oldest uploaded ${when(overview.backlog.oldestLastModified, page.now)}`
              } <span class="muted">(swept ${when(overview.backlog.at, page.now)})</span>`
        }</p>
        <p class="small"><a href="/queues">Open the queue board (read-only) →</a></p>
      </div>
      <div class="card" id="throughput"><h2>Throughput <span class="muted small">both routes</span></h2>
        <p class="small" id="route-throughput">${throughputLine(activity)}</p>
        ${activityChart(activity)}
      </div>
    </div>
    <div class="card" id="recent-failures"><h2>Recent failures ${
      overview.failures === null
        ? html``
        : badge(String(overview.failures.total), overview.failures.total > 0 ? 'bad' : 'ok')
    }</h2>
        ${
          overview.failures === null
            ? html`<div class="banner danger">${overview.failuresError ?? 'unavailable'}</div>`
            : failureRows(overview.failures.recent.slice(0, 8), page, false)
        }
        ${
          overview.failureCounts === null
            ? html``
            : html`<p class="small" id="failure-counts">${FAILURE_STATES.map(
                (state) =>
                  html`<a href="/failures?state=${state}">${state}</a> <strong>${overview.failureCounts?.byState[state] ?? 0}</strong> `,
              )}</p>`
        }
        <p class="small"><a href="/failures">All failures →</a></p>
    </div>`,
  );
}

/** The route switch's form (GET /ui/route): a page of its own, which never reloads itself. */
export function routeFormPage(page: PageContext, status: RouteStatus, to: Route): string {
  return layout(
    'Switch the route',
    page,
    html`<h1>Switch the route</h1>${driftBanner(status)}
    <div class="card">
      <dl class="kv"><dt>desired now</dt><dd>${routeBadge(status.desired)}</dd><dt>actual now</dt><dd>${routeBadge(status.effective)}</dd></dl>
      <form method="post" action="/ui/route/review" class="filters mt">
        ${csrfField(page)}
        <label>Switch to<select name="route">${(['lambda', 'queue'] as const).map(
          (r) => html`<option value="${r}" ${r === to ? html`selected` : html``}>${r}</option>`,
        )}</select></label>
        <label class="grow">Reason (required, goes to the audit log)<input type="text" name="reason" required maxlength="500" placeholder="e.g. Lambda timeouts since 02:10, see incident 123"></label>
        <button type="submit" class="primary">Review switch…</button>
        <a class="button" href="/">Cancel</a>
      </form>
    </div>`,
  );
}

export function routeReviewPage(page: PageContext, status: RouteStatus, to: Route, reason: string): string {
  const steps =
    to === 'queue'
      ? [
          "read the incoming bucket's notification configuration",
          "remove only logzip's entry (every other entry is written back unchanged)",
          'set the route flag to queue',
        ]
      : [
          'check that the function exists and is Active',
          'check that S3 may invoke it (add the permission if missing)',
          "put logzip's entry back with its prefix/suffix filter (other entries unchanged)",
          'set the route flag to lambda',
        ];
  return layout(
    'Confirm route switch',
    page,
    html`<h1>Switch the route to ${to}?</h1>${driftBanner(status)}
    <div class="card">
      <dl class="kv">
        <dt>desired now</dt><dd>${routeBadge(status.desired)}</dd>
        <dt>actual now</dt><dd>${routeBadge(status.effective)}</dd>
        <dt>switch to</dt><dd>${routeBadge(to)} <span class="muted small">${ROUTE_HELP[to]}</span></dd>
        <dt>reason</dt><dd>${reason}</dd>
      </dl>
      <p>The admin will:</p><ol>${steps.map((s) => html`<li>${s}</li>`)}</ol>
      <form method="post" action="/ui/route" class="row">
        ${csrfField(page)}
        <input type="hidden" name="route" value="${to}"><input type="hidden" name="reason" value="${reason}">
        <input type="hidden" name="confirm" value="yes">
        <button type="submit" class="danger" id="confirm-switch">Confirm: switch to ${to}</button>
        <a class="button" href="/">Cancel</a>
      </form>
    </div>`,
  );
}

export interface FailureFilterForm {
  state: string;
  code: string;
  route: string;
  since: string;
  /** A log-ID prefix. */
  logId: string;
}

/** The same filters with another cursor: the next page keeps what the operator chose. */
function pageLink(path: string, params: Record<string, string>, cursor: string | undefined): string {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== ''));
  if (cursor !== undefined) query.set('cursor', cursor);
  const text = query.toString();
  return text === '' ? path : `${path}?${text}`;
}

export function failuresPage(
  page: PageContext,
  list: { failures: FailureSummary[]; total: number; nextCursor?: string },
  filters: FailureFilterForm,
  query: FailureQuery,
  records: ReadonlyMap<string, FailureRecord>,
): string {
  const filterParams = { ...filters };
  const option = (current: string, v: string, label = v) =>
    html`<option value="${v}" ${current === v ? html`selected` : html``}>${label}</option>`;
  return layout(
    'Failures',
    page,
    html`<h1>Failures</h1>${failureTabs('records')}
    <div class="card"><form method="get" action="/failures" class="filters">
      <label>State<select name="state">${option(filters.state, 'failed')}${option(filters.state, 'retrying')}${option(filters.state, 'resolved')}${option(filters.state, 'all')}</select></label>
      <label>Code<select name="code">${option(filters.code, '', 'any')}${Object.keys(ERROR_CODES).map((c) => option(filters.code, c))}</select></label>
      <label>Route<select name="route">${option(filters.route, '', 'any')}${option(filters.route, 'lambda')}${option(filters.route, 'queue')}${option(filters.route, 'cli')}</select></label>
      <label>Since<select name="since">${option(filters.since, '', 'any time')}${option(filters.since, '1h', 'last hour')}${option(filters.since, '24h', 'last 24 h')}${option(filters.since, '7d', 'last 7 days')}${option(filters.since, '30d', 'last 30 days')}</select></label>
      <label>Log ID starts with<input type="search" name="logId" value="${filters.logId}" maxlength="64" pattern="[0-9A-Za-z_\-]{0,64}"></label>
      <button type="submit">Filter</button>
    </form></div>
    <form method="post" action="/ui/reenqueue" class="card">
      ${csrfField(page)}
      <input type="hidden" name="filterState" value="${filters.state}"><input type="hidden" name="filterCode" value="${filters.code}">
      <input type="hidden" name="filterSince" value="${filters.since}">
      <div class="row mb">
        <strong>${list.total} record(s)</strong>${list.total > list.failures.length ? html`<span class="muted small">(showing ${list.failures.length})</span>` : html``}
        <span class="right"></span>
        <label>Via<select name="via"><option value="queue">queue</option><option value="lambda">lambda</option></select></label>
        <label class="check"><input type="checkbox" name="force" value="yes"> force</label>
        <label class="check"><input type="checkbox" name="dryRun" value="yes"> dry run</label>
        <button type="submit" name="scope" value="selected">Re-enqueue selected</button>
        ${
          query.state === 'failed' || query.state === undefined
            ? html`<button type="submit" name="scope" value="all" class="primary">Re-enqueue all ${list.total} failed</button>`
            : html``
        }
      </div>
      ${
        filters.logId === ''
          ? html``
          : html`<p class="small" id="open-log-id">Not a failure? <a href="/archives/${encodeURIComponent(filters.logId)}">Open log ID ${filters.logId} →</a></p>`
      }
      ${failureRows(list.failures, page, true, records)}
      <div class="row mt" id="pages">${
        query.cursor === undefined
          ? html``
          : html`<a class="button" href="${pageLink('/failures', filterParams, undefined)}">← Newest</a>`
      }${
        list.nextCursor === undefined
          ? html``
          : html`<a class="button" id="next-page" href="${pageLink('/failures', filterParams, list.nextCursor)}">Older →</a>`
      }</div>
    </form>`,
  );
}

export function archiveSearchPage(page: PageContext, logId = '', error?: string): string {
  return layout(
    'Archives',
    page,
    html`<h1>Archive by log ID</h1>
    ${error === undefined ? html`` : html`<div class="banner warning">${error}</div>`}
    <div class="card"><form method="get" action="/archives" class="filters">
      <label>Log ID<input type="text" name="logId" value="${logId}" required maxlength="64" pattern="[0-9A-Za-z_\\-]{1,64}"></label>
      <button type="submit" class="primary">Open</button></form></div>`,
  );
}

const MAX_ENTRIES_SHOWN = 500;

export function archivePage(page: PageContext, status: ArchiveStatus): string {
  const { failure, manifest } = status;
  const stateBadge = status.extracted
    ? badge('extracted', 'ok')
    : failure?.state === 'failed'
      ? badge('failed', 'bad')
      : failure?.state === 'retrying'
        ? badge('retrying', 'warn')
        : status.queue !== null && ['waiting', 'active', 'delayed'].includes(status.queue.state)
          ? badge(`queued (${status.queue.state})`, 'warn')
          : badge('not extracted', 'muted');
  return layout(
    `Log ID ${status.logId}`,
    page,
    html`<h1>Log ID <span class="mono">${status.logId}</span> <span id="archive-state">${stateBadge}</span></h1>
    ${status.found ? html`` : html`<div class="banner warning">logzip knows nothing about this log ID: no archive, no manifest, no failure record.</div>`}
    <div class="grid">
      <div class="card"><h2>Source</h2><dl class="kv">
        <dt>archive</dt><dd>${status.archive === null ? html`<span class="muted">none found</span>` : html`<code>s3://${status.archive.bucket}/${status.archive.key}</code>`}</dd>
        ${
          status.archive === null
            ? html``
            : html`<dt>size</dt><dd>${bytes(status.archive.size)}</dd><dt>ETag</dt><dd class="mono">${status.archive.etag}</dd><dt>uploaded</dt><dd>${when(status.archive.lastModified, page.now)}</dd>`
        }
        <dt>queue job</dt><dd>${status.queue === null ? html`<span class="muted">none</span>` : html`<code>${status.queue.id}</code> ${badge(status.queue.state, status.queue.state === 'completed' ? 'ok' : status.queue.state === 'failed' ? 'bad' : 'warn')} <span class="muted small">${status.queue.attemptsMade} attempt(s)</span>`}</dd>
      </dl>
      <div class="row mt">
        <form method="post" action="/ui/reenqueue" class="row">
          ${csrfField(page)}<input type="hidden" name="only" value="${status.logId}"><input type="hidden" name="back" value="archive">
          <label>Via<select name="via"><option value="queue">queue</option><option value="lambda">lambda</option></select></label>
          <label class="check"><input type="checkbox" name="force" value="yes"> force</label>
          <button type="submit" class="primary" id="reenqueue-one">Re-enqueue</button>
        </form>
        <form method="post" action="/ui/purge/review" class="right">${csrfField(page)}<input type="hidden" name="logId" value="${status.logId}"><button type="submit" class="danger">Purge…</button></form>
      </div></div>
      <div class="card"><h2>Attempts timeline</h2>${
        status.timeline.length === 0
          ? html`<p class="empty">Nothing yet.</p>`
          : html`<ul class="timeline">${status.timeline.map(
              (event) =>
                html`<li class="${event.kind}"><div class="small">${when(event.at, page.now)} · <strong>${event.kind.replace('_', ' ')}</strong></div><div>${event.detail}</div></li>`,
            )}</ul>`
      }</div>
    </div>
    ${
      failure === null
        ? html``
        : html`<div class="card" id="failure"><h2>Failure record ${badge(failure.state, failure.state === 'resolved' ? 'ok' : failure.state === 'failed' ? 'bad' : 'warn')}</h2>
      <dl class="kv"><dt>code</dt><dd>${badge(failure.code, 'bad')} ${kindBadge(failure.code)} <span class="muted small">${ERROR_CODES[failure.code]?.summary ?? ''}</span></dd>
        <dt>what to do</dt><dd class="advice">${adviseOn(failure.code).advice}</dd>
        <dt>message</dt><dd>${failure.message}</dd>
        ${failure.entry === undefined ? html`` : html`<dt>entry</dt><dd><code>${failure.entry}</code></dd>`}
        <dt>source</dt><dd><code>s3://${failure.source.bucket}/${failure.source.key}</code></dd>
        <dt>route</dt><dd>${failure.route}</dd><dt>first failed</dt><dd>${when(failure.createdAt, page.now)}</dd>
        <dt>updated</dt><dd>${when(failure.updatedAt, page.now)}</dd>
        ${failure.resolvedAt === undefined ? html`` : html`<dt>resolved</dt><dd>${when(failure.resolvedAt, page.now)}</dd>`}
      </dl>
      ${failure.stack === undefined ? html`` : html`<h2 class="mt">Stack trace</h2><pre id="stack">${failure.stack}</pre>`}
      <table><thead><tr><th>#</th><th>at</th><th>route</th><th>request / job</th><th>code</th><th>message</th></tr></thead><tbody>
      ${failure.attempts.map(
        (a) =>
          html`<tr><td>${a.attempt}</td><td>${when(a.at, page.now)}</td><td>${a.route}</td><td class="mono">${a.requestId ?? a.jobId ?? '–'}</td><td>${a.code}</td><td>${a.message}</td></tr>`,
      )}</tbody></table></div>`
    }
    ${
      manifest === null
        ? html``
        : html`<div class="card" id="manifest"><h2>Manifest <span class="muted small">${manifest.entries.length} file(s), ${bytes(manifest.bytes)}, extracted ${when(manifest.finishedAt, page.now)} via ${manifest.route ?? '?'}</span></h2>
      <table><thead><tr><th>path</th><th>size</th><th>crc32</th></tr></thead><tbody>
      ${manifest.entries
        .slice(0, MAX_ENTRIES_SHOWN)
        .map(
          (e) =>
            html`<tr><td class="mono">${e.path}</td><td>${bytes(e.size)}</td><td class="mono">${e.crc32}</td></tr>`,
        )}</tbody></table>
      ${manifest.entries.length > MAX_ENTRIES_SHOWN ? html`<p class="muted small">${manifest.entries.length - MAX_ENTRIES_SHOWN} more not shown (GET /api/archives/${status.logId} has them all).</p>` : html``}
      </div>`
    }
    ${
      status.history.length === 0
        ? html``
        : html`<div class="card"><h2>History</h2><table><thead><tr><th>extracted</th><th>source</th><th>files</th><th>size</th></tr></thead><tbody>
      ${status.history.map(
        (m) =>
          html`<tr><td>${when(m.finishedAt, page.now)}</td><td class="mono">${m.source.key} (${m.source.etag})</td><td>${m.entries.length}</td><td>${bytes(m.bytes)}</td></tr>`,
      )}</tbody></table></div>`
    }`,
  );
}

export function bulkResultPage(
  page: PageContext,
  title: string,
  result: BulkResult,
  back: { href: string; label: string },
): string {
  const kind = result.summary.failed > 0 ? 'danger' : result.summary.notHandled > 0 ? 'warning' : 'success';
  return layout(
    title,
    page,
    html`<h1>${title}</h1>
    <div class="banner ${kind}" id="summary">${summaryLine(result)}</div>
    <div class="card"><table id="results"><thead><tr><th>log ID</th><th>outcome</th><th>detail</th></tr></thead><tbody>
    ${result.results.map(
      (r) =>
        html`<tr><td class="mono"><a href="/archives/${encodeURIComponent(r.logId)}">${r.logId}</a></td><td>${badge(
          r.outcome,
          ['enqueued', 'invoked', 'purged', 'already_queued', 'already_extracted'].includes(r.outcome)
            ? 'ok'
            : r.outcome.startsWith('would_')
              ? ''
              : r.outcome === 'error'
                ? 'bad'
                : 'warn',
        )}</td><td>${r.detail}</td></tr>`,
    )}</tbody></table>
    <p><a href="${back.href}">← ${back.label}</a></p></div>`,
  );
}

export function purgeReviewPage(page: PageContext, logId: string, preview: BulkResult): string {
  const item = preview.results[0];
  return layout(
    `Purge ${logId}?`,
    page,
    html`<h1>Purge log ID <span class="mono">${logId}</span>?</h1>
    <div class="card"><p>${item?.detail ?? ''}</p>
    <p class="muted small">This removes the archive(s), every extracted file and the state of this log ID for good. It cannot be undone.</p>
    ${
      item?.outcome === 'would_purge'
        ? html`<form method="post" action="/ui/purge" class="filters">${csrfField(page)}<input type="hidden" name="logId" value="${logId}">
      <label>Type the log ID to confirm<input type="text" name="confirm" required autocomplete="off"></label>
      <button type="submit" class="danger">Purge ${logId}</button> <a class="button" href="/archives/${encodeURIComponent(logId)}">Cancel</a></form>`
        : html`<p><a href="/archives/${encodeURIComponent(logId)}">← back</a></p>`
    }</div>`,
  );
}

export function auditPage(
  page: PageContext,
  audit: { entries: AuditEntry[]; total: number; nextCursor?: string },
  first: boolean,
): string {
  const { entries } = audit;
  return layout(
    'Audit log',
    page,
    html`<h1>Audit log <span class="muted small">${audit.total} entr${audit.total === 1 ? 'y' : 'ies'}</span></h1>
    <div class="card"><h2>Sessions</h2>
      <p class="small">A lost laptop or a shared screen: end every signed-in session of every operator, yours included. Changing LOGZIP_ADMIN_TOKEN does the same.</p>
      <form method="post" action="/ui/sessions/revoke">${csrfField(page)}<button type="submit" class="danger" id="revoke-sessions">Sign out everywhere</button></form>
    </div>
    <div class="card">${
      entries.length === 0
        ? html`<p class="empty">No entries yet.</p>`
        : html`<table id="audit"><thead><tr><th>when</th><th>operator</th><th>action</th><th>outcome</th><th>details</th></tr></thead><tbody>
      ${entries.map(
        (e) =>
          html`<tr><td>${when(e.at, page.now)}</td><td><strong>${e.operator}</strong></td><td class="mono">${e.action}${e.details['dryRun'] === true ? html` ${badge('dry run', 'muted')}` : ''}</td><td>${badge(
            e.outcome,
            e.outcome === 'ok' ? 'ok' : 'bad',
          )}</td><td>${auditDetails(e.details)}</td></tr>`,
      )}</tbody></table>`
    }<div class="row mt" id="pages">${first ? html`` : html`<a class="button" href="/audit">← Newest</a>`}${
      audit.nextCursor === undefined
        ? html``
        : html`<a class="button" id="next-page" href="${pageLink('/audit', {}, audit.nextCursor)}">Older →</a>`
    }</div></div>`,
  );
}

function auditDetails(details: Record<string, unknown>): SafeHtml {
  const parts: SafeHtml[] = [];
  const { from, to, reason, ...rest } = details;
  if (to !== undefined)
    parts.push(html`<div><strong>${String(from ?? 'unknown')} → ${String(to)}</strong></div>`);
  if (typeof reason === 'string' && reason !== '') parts.push(html`<div>reason: “${reason}”</div>`);
  const shown = Object.entries(rest).filter(([, v]) => v !== undefined && v !== null);
  if (shown.length > 0) {
    parts.push(
      html`<div class="small muted mono">${shown
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ')
        .slice(0, 600)}</div>`,
    );
  }
  return html`${parts}`;
}

export function errorPage(page: PageContext, status: number, code: string, message: string): string {
  return layout(
    `Error ${status}`,
    page,
    html`<h1>${status === 404 ? 'Not found' : status === 429 ? 'Too many attempts' : status >= 500 ? 'Something went wrong' : 'Request refused'}</h1>
    <div class="banner ${status >= 500 ? 'danger' : 'warning'}"><strong>${code}</strong>${message}</div><p><a href="/">← Dashboard</a></p>`,
  );
}

/**
 * Re-enqueueing archives whose failure is permanent asks first: they fail the same way unless the
 * uploader sent a new archive. The form is sent again with `confirmPermanent=yes`.
 */
export function confirmPermanentPage(
  page: PageContext,
  form: Record<string, string | string[]>,
  permanent: Array<{ logId: string; code: string }>,
): string {
  const hidden = Object.entries(form)
    .filter(([name]) => name !== '_csrf' && name !== 'confirmPermanent')
    .flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => [name, v] as const));
  return layout(
    'Re-enqueue a permanent failure?',
    page,
    html`<h1>Re-enqueue a permanent failure?</h1>
    <div class="card"><div class="banner warning">${permanent.length} of these failed with a permanent code: the archive itself is bad, and running it again fails the same way unless the uploader sent a new archive.</div>
    <table id="permanent"><thead><tr><th>log ID</th><th>code</th><th>what to do</th></tr></thead><tbody>
    ${permanent.slice(0, 200).map((p) => html`<tr><td class="mono">${p.logId}</td><td>${badge(p.code, 'bad')}</td><td class="small">${adviseOn(p.code).advice}</td></tr>`)}
    </tbody></table>
    <form method="post" action="/ui/reenqueue" class="row mt">${csrfField(page)}
      ${hidden.map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
      <input type="hidden" name="confirmPermanent" value="yes">
      <button type="submit" class="danger" id="confirm-permanent">Re-enqueue anyway</button>
      <a href="/failures">Cancel</a>
    </form></div>`,
  );
}
