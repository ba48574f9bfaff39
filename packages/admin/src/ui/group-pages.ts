import type { FailureRecord } from '@logzip/core';
import type { Operation } from '@logzip/core/operations';
import type { FailureGroup } from '@logzip/core/state';
import type { GroupList, GroupLogIds } from '../operations/groups.js';
import { html, type SafeHtml } from './html.js';
import { badge, csrfField, layout, type PageContext, when } from './layout.js';

/** A group's trend (24 hourly counts) as a tiny inline SVG sparkline. */
function sparkline(trend: number[]): SafeHtml {
  const max = Math.max(1, ...trend);
  const w = 96;
  const h = 20;
  const step = trend.length > 1 ? w / (trend.length - 1) : w;
  const points = trend.map((n, i) => `${(i * step).toFixed(1)},${(h - 1 - (n / max) * (h - 2)).toFixed(1)}`);
  return html`<svg class="spark" viewBox="0 0 ${String(w)} ${String(h)}" width="${String(w)}" height="${String(h)}" role="img" aria-label="failures per hour, last 24 h"><polyline points="${points.join(' ')}"></polyline></svg>`;
}

export function failureTabs(current: 'groups' | 'records'): SafeHtml {
  return html`<nav class="tabs" aria-label="failure views"><a href="/failures" class="${current === 'groups' ? 'current' : ''}">Groups</a><a href="/failures?view=records" class="${current === 'records' ? 'current' : ''}">All records</a></nav>`;
}

/** The failures page's default view: one row per cause (fingerprint), the most recently failed first. */
export function groupsPage(page: PageContext, list: GroupList, first: boolean): string {
  return layout(
    'Failures by cause',
    page,
    html`<h1>Failures <span class="muted small">grouped by cause</span></h1>${failureTabs('groups')}
    <div class="card"><div class="row mb"><strong id="group-total">${list.total} group(s)</strong><span class="muted small">each is one error code and stack; open one for its log IDs and a retry of them all</span></div>
    ${
      list.groups.length === 0
        ? html`<p class="empty">No open failure group.</p>`
        : html`<div class="scroll"><table id="groups"><thead><tr><th>failed</th><th>code</th><th>cause</th><th>routes</th><th>last 24 h</th><th>last seen</th></tr></thead><tbody>
      ${list.groups.map(
        (g) =>
          html`<tr data-fingerprint="${g.fingerprint}"><td class="big-count"><a href="/failures/groups/${g.fingerprint}">${g.count}</a></td><td>${badge(g.code, 'bad')}</td><td class="mono small signature"><a href="/failures/groups/${g.fingerprint}">${g.signature.split('\n')[0] ?? g.fingerprint}</a></td><td>${g.routes.join(', ')}</td><td>${sparkline(g.trend)}</td><td class="when">${when(g.lastSeen, page.now)}</td></tr>`,
      )}</tbody></table></div>`
    }
    <div class="row mt" id="pages">${first ? html`` : html`<a class="button" href="/failures">← Newest</a>`}${
      list.nextCursor === undefined
        ? html``
        : html`<a class="button" id="next-page" href="/failures?groupCursor=${encodeURIComponent(list.nextCursor)}">More →</a>`
    }</div></div>`,
  );
}

/** One group: what it is, its log IDs a page at a time (each opens the whole record), and its retry. */
export function groupPage(
  page: PageContext,
  group: FailureGroup,
  members: GroupLogIds,
  records: ReadonlyMap<string, FailureRecord>,
  first: boolean,
): string {
  const base = `/failures/groups/${group.fingerprint}`;
  return layout(
    `Group ${group.fingerprint}`,
    page,
    html`<h1>${badge(group.code, 'bad')} <span id="group-count">${group.count}</span> failed <span class="muted small mono">${group.fingerprint}</span></h1>${failureTabs('groups')}
    <div class="grid">
      <div class="card"><h2>Cause</h2><pre id="signature">${group.signature}</pre>
        <dl class="kv"><dt>first seen</dt><dd>${when(group.firstSeen, page.now)}</dd><dt>last seen</dt><dd>${when(group.lastSeen, page.now)}</dd><dt>routes</dt><dd>${group.routes.join(', ')}</dd><dt>last 24 h</dt><dd>${sparkline(group.trend)}</dd></dl>
      </div>
      <div class="card"><h2>Retry the group</h2>
        <p class="small">Re-enqueues every log ID of the group as a stored operation the workers run (rate-limited, with progress, pause and abort). The selection is frozen when it starts: later failures of this cause are not swept in.</p>
        <form method="post" action="${base}/retry/review">${csrfField(page)}<button type="submit" class="primary" id="retry-group">Retry these ${group.count}…</button></form>
      </div>
    </div>
    <div class="card"><h2>Log IDs <span class="muted small">${members.total}, newest first</span></h2>
      <div class="scroll"><table id="group-members"><thead><tr><th>log ID</th><th>route</th><th>attempts</th><th>updated</th><th>message</th></tr></thead><tbody>
      ${members.logIds.map((logId) => {
        const r = records.get(logId);
        return html`<tr data-log-id="${logId}"><td class="mono"><a href="/archives/${encodeURIComponent(logId)}">${logId}</a></td><td>${r?.route ?? ''}</td><td>${r?.attempts.length ?? ''}</td><td class="when">${r === undefined ? html`` : when(r.updatedAt, page.now)}</td><td>${r?.message ?? html`<span class="muted">record not readable</span>`}</td></tr>`;
      })}</tbody></table></div>
      <div class="row mt" id="pages">${first ? html`` : html`<a class="button" href="${base}">← Newest</a>`}${
        members.nextCursor === undefined
          ? html``
          : html`<a class="button" id="next-page" href="${base}?cursor=${encodeURIComponent(members.nextCursor)}">Older →</a>`
      }</div></div>`,
  );
}

/** The dry run of a group retry: how many, a sample, then the reason and the rate, and go. */
export function groupRetryReviewPage(
  page: PageContext,
  group: FailureGroup,
  dryRun: { count: number; sample: string[] },
  defaultRate: number,
): string {
  const base = `/failures/groups/${group.fingerprint}`;
  return layout(
    'Retry a group?',
    page,
    html`<h1>Retry ${dryRun.count} log ID(s) of ${badge(group.code, 'bad')}?</h1>
    <div class="card"><div class="banner info" id="dry-run">Dry run: <strong id="dry-run-count">${dryRun.count}</strong> log ID(s) would be re-enqueued, for example ${dryRun.sample.join(', ')}.</div>
    <form method="post" action="${base}/retry" class="filters">${csrfField(page)}
      <input type="hidden" name="expected" value="${String(dryRun.count)}">
      <label class="grow">Reason (required, goes to the audit log)<input type="text" name="reason" required maxlength="500" placeholder="e.g. S3 outage over, incident 123"></label>
      <label>Per second<input type="text" name="rate" value="${String(defaultRate)}" inputmode="numeric" pattern="[0-9]{1,5}" size="6"></label>
      <button type="submit" class="primary" id="confirm-retry">Start: retry ${dryRun.count}</button>
      <a class="button" href="${base}">Cancel</a>
    </form></div>`,
  );
}

function duration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '–';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/**
 * done / failed / skipped as one bar: SVG rectangles (their widths are attributes, which the CSP
 * allows where it forbids inline styles).
 */
export function progressBar(op: Pick<Operation, 'total' | 'done' | 'failed' | 'skipped' | 'left'>): SafeHtml {
  const parts: Array<[string, number]> = [
    ['done', op.done],
    ['failed', op.failed],
    ['skipped', op.skipped],
  ];
  let x = 0;
  const rects = parts.map(([kind, n]) => {
    const width = op.total === 0 ? 0 : (n / op.total) * 100;
    const rect = html`<rect class="${kind}" x="${x.toFixed(3)}" y="0" width="${width.toFixed(3)}" height="4"></rect>`;
    x += width;
    return rect;
  });
  return html`<svg class="progress" id="op-progress" viewBox="0 0 100 4" preserveAspectRatio="none" role="progressbar" aria-valuemin="0" aria-valuemax="${String(op.total)}" aria-valuenow="${String(op.total - op.left)}">${rects}</svg>`;
}

/** A running operation: progress, rate and ETA, pause/resume/abort; reloads itself until it ends. */
export function operationPage(page: PageContext, op: Operation): string {
  const running = op.state === 'running';
  const action = (name: 'pause' | 'resume' | 'abort', label: string, kind = '') =>
    html`<form method="post" action="/ui/operations/${op.id}/${name}" class="inline">${csrfField(page)}<button type="submit" class="${kind}" id="op-${name}">${label}</button></form>`;
  return layout(
    `Operation ${op.id}`,
    running ? { ...page, refreshSeconds: 2 } : page,
    html`<h1>${op.kind === 'reenqueue' ? 'Re-enqueue' : 'Purge'} <span class="mono small">${op.id}</span> <span id="op-state">${badge(
      op.state,
      op.state === 'finished' ? 'ok' : op.state === 'aborted' ? 'bad' : op.state === 'paused' ? 'warn' : '',
    )}</span></h1>
    <div class="card" id="operation">
      ${progressBar(op)}
      <div class="stats mt" id="op-counts">
        <div class="stat"><span>done</span><span class="big" id="op-done">${op.done}</span></div>
        <div class="stat"><span>failed</span><span class="big" id="op-failed">${op.failed}</span></div>
        <div class="stat"><span>skipped</span><span class="big" id="op-skipped">${op.skipped}</span></div>
        <div class="stat"><span>left</span><span class="big" id="op-left">${op.left}</span></div>
        <div class="stat"><span>of</span><span class="big">${op.total}</span></div>
        <div class="stat"><span>rate</span><span class="big" id="op-rate">${op.rate.toFixed(1)}/s</span></div>
        <div class="stat"><span>ETA</span><span class="big" id="op-eta">${running ? duration(op.etaSeconds) : '–'}</span></div>
      </div>
      <dl class="kv mt"><dt>by</dt><dd>${op.createdBy}</dd><dt>reason</dt><dd>${op.reason}</dd><dt>selection</dt><dd><code>${JSON.stringify(op.selection)}</code></dd><dt>limit</dt><dd>${op.options.ratePerSecond === 0 ? 'none' : `${op.options.ratePerSecond}/s`}</dd><dt>created</dt><dd>${when(op.createdAt, page.now)}</dd>${op.finishedAt === undefined ? html`` : html`<dt>ended</dt><dd>${when(op.finishedAt, page.now)}</dd>`}</dl>
      <div class="row mt">${op.state === 'running' ? action('pause', 'Pause') : html``}${op.state === 'paused' ? action('resume', 'Resume', 'primary') : html``}${
        op.state === 'running' || op.state === 'paused' ? action('abort', 'Abort', 'danger') : html``
      }<span class="muted small">${running ? 'This page reloads every 2 s.' : ''}</span></div>
    </div>`,
  );
}
