/** The admin's one stylesheet, served at /assets/admin.css (no inline styles: the CSP forbids them). */
export const STYLESHEET = `
:root {
  --bg: #f6f7f9; --card: #fff; --text: #1d2430; --muted: #5f6b7a; --line: #e3e7ed;
  --accent: #2557d6; --accent-weak: #e8eefc; --ok: #1a7f45; --ok-weak: #e6f4ec;
  --warn: #9a6200; --warn-weak: #fff4dc; --bad: #b42318; --bad-weak: #fdecea;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}
* { box-sizing: border-box; }
html { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Hiragino Sans", "Noto Sans JP", sans-serif; }
body { margin: 0; background: var(--bg); color: var(--text); }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
header.top { background: #101828; color: #fff; }
header.top .inner { max-width: 1240px; margin: 0 auto; padding: 0 20px; display: flex; align-items: center; gap: 24px; height: 52px; }
header.top .brand { font-weight: 700; letter-spacing: .02em; color: #fff; }
header.top nav { display: flex; gap: 4px; flex: 1; }
header.top nav a { color: #cfd6e4; padding: 6px 10px; border-radius: 6px; }
header.top nav a.current, header.top nav a:hover { background: #1f2a40; color: #fff; text-decoration: none; }
header.top .who { color: #cfd6e4; font-size: 13px; display: flex; gap: 10px; align-items: center; }
header.top .who button { background: transparent; color: #cfd6e4; border: 1px solid #394866; padding: 3px 10px; }
main { max-width: 1240px; margin: 0 auto; padding: 20px; }
h1 { font-size: 22px; margin: 4px 0 16px; }
h1 .mono { font-size: 22px; }
td.when { white-space: nowrap; }
h2 { font-size: 16px; margin: 0 0 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; margin-bottom: 16px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 16px; margin-bottom: 16px; }
.grid > .card { margin-bottom: 0; }
.row { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
.muted { color: var(--muted); }
.small { font-size: 13px; }
.advice { color: var(--muted); margin-top: 4px; }
.mono, code, pre { font-family: var(--mono); font-size: 13px; }
pre { background: #0f1420; color: #e6e9ef; padding: 12px; border-radius: 8px; overflow: auto; max-height: 420px; white-space: pre-wrap; word-break: break-word; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 7px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { white-space: nowrap; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; }
tbody tr:hover { background: #fafbfd; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; margin: 0; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; word-break: break-word; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; background: var(--accent-weak); color: var(--accent); }
.badge.ok { background: var(--ok-weak); color: var(--ok); }
.badge.warn { background: var(--warn-weak); color: var(--warn); }
.badge.bad { background: var(--bad-weak); color: var(--bad); }
.badge.muted { background: #eef0f3; color: var(--muted); }
.banner { border-radius: 10px; padding: 12px 16px; margin-bottom: 16px; border: 1px solid; }
.banner strong { display: block; margin-bottom: 4px; }
.banner ul { margin: 4px 0 0; padding-left: 20px; }
.banner.danger { background: var(--bad-weak); border-color: #f3b8b2; color: #7a1a12; }
.banner.warning { background: var(--warn-weak); border-color: #f1d49a; color: #6b4500; }
.banner.info { background: var(--accent-weak); border-color: #c5d4f7; color: #183b91; }
.banner.success { background: var(--ok-weak); border-color: #b5dfc5; color: #125a31; }
.big { font-size: 28px; font-weight: 700; }
.stat { display: flex; flex-direction: column; min-width: 90px; }
.stat span:first-child { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.stats { display: flex; gap: 20px; flex-wrap: wrap; }
form.inline { display: inline; }
label { font-size: 13px; color: var(--muted); display: flex; flex-direction: column; gap: 4px; }
label.check { flex-direction: row; align-items: center; gap: 6px; color: var(--text); }
input[type=text], input[type=password], select, textarea { font: inherit; padding: 7px 10px; border: 1px solid #cbd2dc; border-radius: 7px; background: #fff; color: var(--text); min-width: 160px; }
textarea { min-height: 70px; width: 100%; }
input:focus, select:focus, textarea:focus { outline: 2px solid var(--accent-weak); border-color: var(--accent); }
button, .button { white-space: nowrap; font: inherit; font-size: 14px; padding: 7px 14px; border-radius: 7px; border: 1px solid #cbd2dc; background: #fff; color: var(--text); cursor: pointer; display: inline-block; }
button:hover, .button:hover { background: #f2f4f7; text-decoration: none; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.primary:hover { background: #1d47b3; }
button.danger { background: var(--bad); border-color: var(--bad); color: #fff; }
button.danger:hover { background: #8f1c13; }
button.small { padding: 3px 10px; font-size: 13px; }
.filters { display: flex; gap: 12px; align-items: flex-end; flex-wrap: wrap; }
details summary { cursor: pointer; color: var(--accent); }
details[open] summary { margin-bottom: 6px; }
.timeline { list-style: none; margin: 0; padding: 0; border-left: 2px solid var(--line); }
.timeline li { margin: 0 0 10px 14px; position: relative; }
.timeline li::before { content: ""; position: absolute; left: -21px; top: 7px; width: 10px; height: 10px; border-radius: 50%; background: var(--accent); }
.timeline li.attempt_failed::before { background: var(--bad); }
.timeline li.extracted::before, .timeline li.resolved::before { background: var(--ok); }
.login { max-width: 380px; margin: 10vh auto; }
.login form { display: flex; flex-direction: column; gap: 12px; }
.empty { color: var(--muted); padding: 12px 0; }
.right { margin-left: auto; }
.mb { margin-bottom: 12px; }
.mt { margin-top: 14px; }
.grow { flex: 1 1 260px; }
.grow input { width: 100%; }
.health-strip { background: var(--ok-weak); border-bottom: 1px solid #b5dfc5; font-size: 13px; }
.health-strip.bad { background: var(--bad-weak); border-bottom-color: #f3b8b2; }
.health-strip .inner { max-width: 1240px; margin: 0 auto; padding: 5px 20px; display: flex; flex-wrap: wrap; gap: 4px 16px; }
.health-strip a { font-weight: 700; color: var(--ok); }
.health-strip.bad a { color: var(--bad); }
.health-strip span.bad, .health-strip span.bad strong { color: var(--bad); }
.scroll { overflow-x: auto; max-width: 100%; }
.chart { margin: 8px 0 0; }
.chart svg { width: 100%; height: 160px; display: block; }
.chart .bar-ok { fill: var(--ok); }
.chart .bar-bad { fill: var(--bad); }
.chart .axis { font-size: 11px; fill: var(--muted); }
.chart .axis-line { stroke: var(--line); }
.key-ok { color: var(--ok); }
.key-bad { color: var(--bad); }
svg.progress { width: 100%; height: 14px; display: block; background: #eef0f3; border-radius: 7px; }
svg.progress .done { fill: var(--ok); }
svg.progress .failed { fill: var(--bad); }
svg.progress .skipped { fill: var(--warn); }
svg.spark { display: block; }
svg.spark polyline { fill: none; stroke: var(--bad); stroke-width: 1.5; }
nav.tabs { display: flex; gap: 4px; margin-bottom: 12px; flex-wrap: wrap; }
nav.tabs a { padding: 5px 12px; border-radius: 7px; border: 1px solid var(--line); background: var(--card); }
nav.tabs a.current { background: var(--accent); border-color: var(--accent); color: #fff; }
td.big-count { font-size: 18px; font-weight: 700; }
td.signature { word-break: break-word; }
form.search { display: flex; gap: 6px; align-items: center; }
form.search input { min-width: 0; width: 11em; padding: 4px 8px; }
header.top form.search input { background: #1f2a40; color: #fff; border-color: #394866; }
@media (max-width: 720px) {
  header.top .inner { height: auto; flex-wrap: wrap; gap: 6px 12px; padding: 8px 12px; }
  header.top nav { flex-wrap: wrap; order: 3; flex-basis: 100%; }
  header.top .who { flex-wrap: wrap; }
  main { padding: 12px; }
  .health-strip .inner { padding: 5px 12px; }
  .grid { grid-template-columns: 1fr; }
  .card { padding: 12px; }
  input[type=text], input[type=password], input[type=search], select, textarea { min-width: 0; max-width: 100%; }
  label { max-width: 100%; }
  dl.kv { grid-template-columns: 1fr; gap: 2px; }
  dl.kv dd { margin-bottom: 6px; }
  h1 { font-size: 19px; word-break: break-word; }
  pre { max-width: 100%; }
  table { display: block; overflow-x: auto; max-width: 100%; }
  .stats { gap: 12px; }
  .big { font-size: 22px; }
  .row, .filters { min-width: 0; }
  code, .mono { word-break: break-all; }
}
`;
