import type { HealthReport } from '../operations/health.js';
import { html, type SafeHtml } from './html.js';

export { formatBytes as bytes } from '../format.js';

export interface PageContext {
  /** The signed-in operator; undefined on the login page. */
  operator?: string;
  /** The CSRF token every form of the page carries. */
  csrf: string;
  /** The nav entry to highlight. */
  current?: 'dashboard' | 'failures' | 'archives' | 'audit';
  flash?: Flash;
  now: Date;
  /** The health strip's facts (signed-in pages); the strip is left out without them. */
  health?: HealthReport;
  /** The page reloads itself this often (meta refresh: the CSP allows no script). */
  refreshSeconds?: number;
}

export interface Flash {
  kind: 'success' | 'danger' | 'warning' | 'info';
  text: string;
}

const NAV: Array<{ id: PageContext['current']; href: string; label: string }> = [
  { id: 'dashboard', href: '/', label: 'Dashboard' },
  { id: 'failures', href: '/failures', label: 'Failures' },
  { id: 'archives', href: '/archives', label: 'Archives' },
  { id: 'audit', href: '/audit', label: 'Audit log' },
];

/** The hidden CSRF field of a form. */
export function csrfField(page: PageContext): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${page.csrf}">`;
}

export function layout(title: string, page: PageContext, body: SafeHtml): string {
  const nav =
    page.operator === undefined
      ? html``
      : html`<nav>${NAV.map(
          (item) =>
            html`<a href="${item.href}" class="${item.id === page.current ? 'current' : ''}">${item.label}</a>`,
        )}<a href="/queues">Queues</a></nav>
        <form class="search" method="get" action="/failures" role="search"><input type="hidden" name="state" value="all"><input type="search" name="logId" id="logid-search" placeholder="log ID starts with…" aria-label="search failures by log ID prefix" maxlength="64" pattern="[0-9A-Za-z_\-]{1,64}" required></form>
        <div class="who"><span>signed in as <strong>${page.operator}</strong></span>
          <form class="inline" method="post" action="/logout">${csrfField(page)}<button type="submit" class="small">Sign out</button></form>
        </div>`;
  const strip = page.operator === undefined || page.health === undefined ? html`` : healthStrip(page.health);
  const flash =
    page.flash === undefined
      ? html``
      : html`<div class="banner ${page.flash.kind}" role="status">${page.flash.text}</div>`;
  return `<!doctype html>${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${page.refreshSeconds === undefined ? html`` : html`<meta http-equiv="refresh" content="${String(page.refreshSeconds)}">`}
<title>${title} · logzip admin</title>
<link rel="stylesheet" href="/assets/admin.css">
</head>
<body>
<header class="top"><div class="inner"><a class="brand" href="/">logzip admin</a>${nav}</div></header>
${strip}<main>${flash}${body}</main>
</body>
</html>`}`;
}

/** `12 s`, `5 min`, `3 h`: a short age for the strip. */
export function shortAge(ms: number | null): string {
  if (ms === null) return '–';
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 172_800_000) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.round(ms / 86_400_000)} d`;
}

/**
 * One line under the header on every signed-in page: workers and their last heartbeat, the oldest
 * waiting job, the last sweep, the last extraction per route; a stale fact is red. The dashboard's
 * health card has the details.
 */
function healthStrip(health: HealthReport): SafeHtml {
  const now = Date.parse(health.at);
  const item = (label: string, text: string, bad: boolean) =>
    html`<span class="${bad ? 'bad' : ''}">${label} <strong>${text}</strong></span>`;
  const workers = health.workers;
  const staleWorkers = workers?.filter((w) => w.stale).length ?? 0;
  const youngest = workers?.[0];
  const waiting = health.oldestWaiting;
  const last = (route: 'lambda' | 'queue') => {
    const at = health.lastExtraction?.[route] ?? null;
    return at === null ? 'never' : `${shortAge(now - Date.parse(at))} ago`;
  };
  return html`<div class="health-strip ${health.ok ? 'ok' : 'bad'}" id="health-strip" role="status"><div class="inner">
    <a href="/#health">${health.ok ? 'healthy' : `${health.problems.length} problem${health.problems.length === 1 ? '' : 's'}`}</a>
    ${item(
      'workers',
      workers === null
        ? 'unreadable'
        : workers.length === 0
          ? 'none'
          : `${workers.length}${staleWorkers > 0 ? ` (${staleWorkers} stale)` : ''}, beat ${shortAge(youngest?.ageMs ?? null)} ago`,
      workers === null || workers.length === 0 || staleWorkers > 0,
    )}
    ${item(
      'oldest waiting',
      waiting === null ? 'unreadable' : waiting.ageMs === null ? 'none' : shortAge(waiting.ageMs),
      waiting === null || waiting.stale,
    )}
    ${item(
      'last sweep',
      health.lastSweep.ageMs === null ? 'never' : `${shortAge(health.lastSweep.ageMs)} ago`,
      health.lastSweep.stale,
    )}
    ${item('extracted: lambda', last('lambda'), false)}
    ${item('queue', last('queue'), false)}
  </div></div>`;
}

const UNITS: Array<[number, string]> = [
  [86_400_000, 'd'],
  [3_600_000, 'h'],
  [60_000, 'min'],
  [1000, 's'],
];

/** `2026-11-29 13:21:29 UTC (5 min ago)` */
export function when(iso: string | null | undefined, now: Date): SafeHtml {
  if (iso === null || iso === undefined || iso === '') return html`<span class="muted">–</span>`;
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return html`${iso}`;
  const diff = now.getTime() - at.getTime();
  let ago = 'just now';
  for (const [ms, unit] of UNITS) {
    if (Math.abs(diff) >= ms) {
      const n = Math.round(Math.abs(diff) / ms);
      ago = diff >= 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`;
      break;
    }
  }
  return html`<span title="${at.toISOString()}">${at
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC')}</span> <span class="muted small">(${ago})</span>`;
}

export function badge(text: string, kind: 'ok' | 'warn' | 'bad' | 'muted' | '' = ''): SafeHtml {
  return html`<span class="badge ${kind}">${text}</span>`;
}
