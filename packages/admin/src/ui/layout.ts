import { html, type SafeHtml } from './html.js';

export interface PageContext {
  /** The signed-in operator; undefined on the login page. */
  operator?: string;
  /** The CSRF token every form of the page carries. */
  csrf: string;
  /** The nav entry to highlight. */
  current?: 'dashboard' | 'failures' | 'archives' | 'audit';
  flash?: Flash;
  now: Date;
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
        <div class="who"><span>signed in as <strong>${page.operator}</strong></span>
          <form class="inline" method="post" action="/logout">${csrfField(page)}<button type="submit" class="small">Sign out</button></form>
        </div>`;
  const flash =
    page.flash === undefined
      ? html``
      : html`<div class="banner ${page.flash.kind}" role="status">${page.flash.text}</div>`;
  return `<!doctype html>${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · logzip admin</title>
<link rel="stylesheet" href="/assets/admin.css">
</head>
<body>
<header class="top"><div class="inner"><a class="brand" href="/">logzip admin</a>${nav}</div></header>
<main>${flash}${body}</main>
</body>
</html>`}`;
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

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 'B';
  for (const u of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = u;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${unit}`;
}
