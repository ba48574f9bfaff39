// Turns the pino JSON lines of logzip's processes into one readable line each:
//   12:04:31.207 worker  INFO  extracted  logId=54321 key=incoming/ab/cd/54321.zip
// Lines that are not JSON (redis-server, a crash's stack trace) pass through unchanged.

const NUMERIC_LEVELS = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** Fields shown after the message, in this order, when a line has them. */
const SHOWN = [
  'logId',
  'key',
  'route',
  'from',
  'to',
  'outcome',
  'code',
  'jobId',
  'reason',
  'attempt',
  'entries',
  'bytes',
  'durationMs',
  's3RequestId',
  'url',
  'port',
  'signal',
];

const COLORS = { reset: '\x1b[0m', dim: '\x1b[2m', red: '\x1b[31m', yellow: '\x1b[33m', gray: '\x1b[90m' };

function clock(time) {
  const date = typeof time === 'number' || typeof time === 'string' ? new Date(time) : new Date();
  if (Number.isNaN(date.getTime())) return new Date().toISOString().slice(11, 23);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/**
 * Control characters (ESC, BEL, NUL...) and bidi overrides written as `\u001b`: a log ID or a
 * message from an upload must not move the cursor, recolour or retitle the operator's terminal.
 */
export function escapeControls(text) {
  return text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function short(value) {
  const text = escapeControls(typeof value === 'string' ? value : JSON.stringify(value));
  const oneLine = text.replace(/\s+/g, ' ');
  return /[\s"]/.test(oneLine)
    ? JSON.stringify(oneLine.length > 160 ? `${oneLine.slice(0, 157)}...` : oneLine)
    : oneLine;
}

function errText(err) {
  if (err === undefined || err === null) return undefined;
  if (typeof err === 'string') return err;
  if (typeof err === 'object')
    return [err.type, err.code, err.message].filter(Boolean).join(': ') || JSON.stringify(err);
  return String(err);
}

/**
 * A formatter of display lines for children's output. Fastify's request pair ("incoming request",
 * "request completed") becomes one line `GET /api/route → 200 (3 ms)`; health checks are not shown.
 * @param {{ color: boolean, width: number }} options
 */
export function createFormatter(options) {
  const requests = new Map();
  return (name, line) => formatLine(name, line, options, requests);
}

/**
 * One display line for a line of a child's output, or undefined when it is not worth showing.
 * @param {string} name the process's prefix
 * @param {string} line
 * @param {{ color: boolean, width: number }} options
 * @param {Map<string, string>} [requests] request ids seen in "incoming request" lines
 */
export function formatLine(name, line, options, requests = new Map()) {
  const c = options.color ? COLORS : { reset: '', dim: '', red: '', yellow: '', gray: '' };
  const prefix = `${c.gray}${name.padEnd(options.width)}${c.reset}`;
  let entry;
  if (line.startsWith('{')) {
    try {
      entry = JSON.parse(line);
    } catch {
      entry = undefined;
    }
  }
  if (entry === undefined || typeof entry !== 'object' || entry === null) {
    return `${c.dim}${clock()}${c.reset} ${prefix} ${escapeControls(line)}`;
  }
  // The Lambda's CloudWatch EMF lines are metrics, not messages: CloudWatch reads them, a terminal need not.
  if (entry._aws !== undefined) return undefined;
  const levelName =
    typeof entry.level === 'number'
      ? (NUMERIC_LEVELS[entry.level] ?? String(entry.level))
      : String(entry.level ?? 'info');
  let msg = escapeControls(String(entry.msg ?? ''));
  if (msg === 'incoming request' && entry.req !== undefined && entry.reqId !== undefined) {
    requests.set(String(entry.reqId), escapeControls(`${entry.req.method} ${entry.req.url}`));
    if (requests.size > 1000) requests.delete(requests.keys().next().value);
    return undefined;
  }
  if (msg === 'request completed' && entry.reqId !== undefined) {
    const request = requests.get(String(entry.reqId)) ?? 'request';
    requests.delete(String(entry.reqId));
    // Reads that went well are noise here (the demo and the UI poll); changes and errors are shown.
    const status = Number(entry.res?.statusCode ?? 0);
    if (/^(GET|HEAD) /.test(request) && status < 400 && levelName === 'info') return undefined;
    const ms = typeof entry.responseTime === 'number' ? ` (${Math.round(entry.responseTime)} ms)` : '';
    msg = `${request} → ${status || '?'}${ms}`;
  }
  const tint = levelName === 'warn' ? c.yellow : levelName === 'error' || levelName === 'fatal' ? c.red : '';
  const parts = [];
  for (const field of SHOWN) {
    if (entry[field] !== undefined && entry[field] !== null) parts.push(`${field}=${short(entry[field])}`);
  }
  const err = errText(entry.err ?? entry.error);
  if (err !== undefined) parts.push(`err=${short(err)}`);
  const level = `${tint}${levelName.toUpperCase().padEnd(5)}${tint === '' ? '' : c.reset}`;
  const message = `${tint}${msg}${tint === '' ? '' : c.reset}`;
  return `${c.dim}${clock(entry.time)}${c.reset} ${prefix} ${level} ${message}${parts.length > 0 ? `  ${c.dim}${parts.join(' ')}${c.reset}` : ''}`;
}

/** Calls `onLine` for every complete line of a stream (a trailing partial line at the end too). */
export function eachLine(stream, onLine) {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    pending += chunk;
    let index = pending.indexOf('\n');
    while (index !== -1) {
      const line = pending.slice(0, index).replace(/\r$/, '');
      pending = pending.slice(index + 1);
      if (line !== '') onLine(line);
      index = pending.indexOf('\n');
    }
  });
  stream.on('end', () => {
    if (pending !== '') onLine(pending);
    pending = '';
  });
}
