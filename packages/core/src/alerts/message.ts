import { ERROR_CODES } from '../errors.js';
import type { FailureAttempt, FailureRecord } from '../state/types.js';
import { scrubSecrets } from './redact.js';
import type { AlertAttempt, FailureAlert, FailureRun, FinalReason } from './types.js';

/** Stack lines an alert shows (the top of the stack: where it failed and what called it). */
export const ALERT_STACK_LINES = 10;
/** Attempts an alert lists, the newest. */
export const ALERT_RECENT_ATTEMPTS = 5;
const MAX_LINE_CHARS = 240;
const MAX_MESSAGE_CHARS = 1_000;
const MAX_ENTRY_CHARS = 300;

export interface BuildAlertOptions {
  /** LOGZIP_PUBLIC_URL: the admin's base URL (a path prefix is kept). */
  publicUrl: string;
  /** Secret values to remove from every text of the alert (secretsOf(config.env)). */
  secrets?: readonly string[];
}

/**
 * The identity of a failure, which its alert marker is named after: the Lambda event's
 * awsRequestId (shared by the handler's last attempt and the on-failure destination's message),
 * or the BullMQ job id with the job's creation time. A later run (a re-upload, a re-enqueue, a
 * failure after a `resolved` record) is a new failure and gets its own alert.
 */
export function failureIdOf(record: FailureRecord, run: FailureRun): string {
  if (run.source !== 'queue' && run.requestId !== undefined && run.requestId !== '') {
    return `lambda:${run.requestId}`;
  }
  if (run.source === 'queue' && run.jobId !== undefined && run.jobId !== '') {
    const created = run.jobCreatedAt?.getTime() ?? firstAttemptOfJob(record, run.jobId);
    return `queue:${run.jobId}@${created ?? 'unknown'}`;
  }
  const last = record.attempts.at(-1);
  return `record:${last?.route ?? record.route}:${last?.at ?? record.updatedAt}`;
}

/** When the job's current run started: the newest first attempt recorded for its id. */
function firstAttemptOfJob(record: FailureRecord, jobId: string): number | undefined {
  const first = record.attempts.filter((a) => a.jobId === jobId && a.runAttempt === 1).at(-1);
  return first === undefined ? undefined : Date.parse(first.at);
}

/** The attempts of the run being announced. */
function attemptsOfRun(record: FailureRecord, run: FailureRun): FailureAttempt[] {
  if (run.source !== 'queue' && run.requestId !== undefined) {
    return record.attempts.filter((a) => a.route === 'lambda' && a.requestId === run.requestId);
  }
  if (run.source === 'queue' && run.jobId !== undefined) {
    const since = run.jobCreatedAt?.getTime() ?? firstAttemptOfJob(record, run.jobId) ?? 0;
    return record.attempts.filter((a) => a.jobId === run.jobId && Date.parse(a.at) >= since);
  }
  return record.attempts.slice(-1);
}

/** The admin's page of a log ID under LOGZIP_PUBLIC_URL (`<public url>/archives/<logId>`). */
export function archivePageUrl(publicUrl: string, logId: string): string {
  const base = publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`;
  return new URL(`archives/${encodeURIComponent(logId)}`, base).toString();
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function reasonOf(
  record: FailureRecord,
  run: FailureRun,
  runAttempts: number,
): { reason: FinalReason; text: string } {
  const lastAttempt = record.attempts.at(-1)?.runAttempt ?? runAttempts;
  if (run.source === 'lambda-destination') {
    const condition = run.condition ?? 'RetriesExhausted';
    return {
      reason: 'lambda_destination',
      text:
        `Lambda gave up on the event (${condition}) after attempt ${lastAttempt}; ` +
        "reported by the function's on-failure destination.",
    };
  }
  if (!ERROR_CODES[record.code].retryable) {
    return {
      reason: 'permanent',
      text: 'A permanent error: retrying the same archive cannot help, so it was not retried.',
    };
  }
  return {
    reason: 'retries_exhausted',
    text: `Retries exhausted: attempt ${lastAttempt} on the ${record.route} route failed and was the last.`,
  };
}

/**
 * The alert for a failure record that is `failed`: who, where, what, the top of the stack, the
 * attempts and the admin link, every text cut to size and scrubbed of secrets. Pure.
 *
 * @example
 * ```ts
 * const alert = buildFailureAlert(record, { source: 'lambda', requestId: context.awsRequestId }, {
 *   publicUrl: config.env.LOGZIP_PUBLIC_URL,
 *   secrets: secretsOf(config.env),
 * });
 * await fetch(webhookUrl, { method: 'POST', body: JSON.stringify(renderSlackPayload(alert)) });
 * ```
 */
export function buildFailureAlert(
  record: FailureRecord,
  run: FailureRun,
  options: BuildAlertOptions,
): FailureAlert {
  const secrets = options.secrets ?? [];
  const clean = (text: string) => scrubSecrets(text, secrets);
  const stackLines = clean(record.stack ?? `${record.code}: ${record.message}`)
    .split('\n')
    .map((line) => line.replace(/\s+$/, ''))
    .filter((line) => line !== '');
  const stackTop = topOfStack(stackLines).map((line) => cut(line, MAX_LINE_CHARS));
  const runAttempts = attemptsOfRun(record, run);
  const { reason, text } = reasonOf(record, run, runAttempts.length);
  const recentAttempts: AlertAttempt[] = record.attempts.slice(-ALERT_RECENT_ATTEMPTS).map((a) => ({
    at: a.at,
    route: a.route,
    attempt: a.runAttempt,
    run: a.run,
    code: a.code,
    ...(a.requestId === undefined ? {} : { requestId: cut(clean(a.requestId), 80) }),
    ...(a.jobId === undefined ? {} : { jobId: cut(clean(a.jobId), 80) }),
  }));
  const firstOfRun = runAttempts[0]?.at ?? record.attempts.at(-1)?.at ?? record.updatedAt;
  return {
    logId: record.logId,
    bucket: record.source.bucket,
    key: clean(record.source.key),
    route: record.route,
    source: run.source,
    code: record.code,
    codeSummary: ERROR_CODES[record.code].summary,
    retryable: ERROR_CODES[record.code].retryable,
    reason,
    reasonText: text,
    message: cut(clean(record.message), MAX_MESSAGE_CHARS),
    ...(record.entry === undefined ? {} : { entry: cut(clean(record.entry), MAX_ENTRY_CHARS) }),
    stackTop,
    stackOmitted: stackLines.length - stackTop.filter((line) => line !== STACK_GAP).length,
    runAttempts: runAttempts.length,
    totalAttempts: record.attempts.length,
    recentAttempts,
    firstFailedAt: firstOfRun,
    lastFailedAt: record.attempts.at(-1)?.at ?? record.updatedAt,
    link: archivePageUrl(options.publicUrl, record.logId),
    failureId: failureIdOf(record, run),
    ...(run.condition === undefined ? {} : { condition: run.condition }),
  };
}

/** Marks the lines left out between the top of the stack and a later cause. */
const STACK_GAP = '    ...';
/** Causes shown below the top of the stack (a wrapped SDK error's origin is usually there). */
const MAX_CAUSES_SHOWN = 3;

/**
 * The first ALERT_STACK_LINES lines, then each later `Caused by:` line with its first frame: the
 * root cause of a wrapped error is what an operator needs, and it sits below the cut.
 */
function topOfStack(lines: readonly string[]): string[] {
  const top = lines.slice(0, ALERT_STACK_LINES);
  const causes: string[] = [];
  let shown = 0;
  for (let i = ALERT_STACK_LINES; i < lines.length && shown < MAX_CAUSES_SHOWN; i++) {
    const line = lines[i] as string;
    if (!line.startsWith('Caused by:')) continue;
    shown += 1;
    causes.push(STACK_GAP, line);
    const frame = lines[i + 1];
    if (frame !== undefined && /^\s+at /.test(frame)) causes.push(frame);
  }
  return [...top, ...causes];
}

function stackHeading(alert: FailureAlert): string {
  const shown = alert.stackTop.filter((line) => line !== STACK_GAP).length;
  if (alert.stackOmitted === 0) return 'Stack';
  const causes = alert.stackTop.includes(STACK_GAP) ? ', and the causes below them' : '';
  return `Stack (first ${ALERT_STACK_LINES} of ${shown + alert.stackOmitted} lines${causes})`;
}

function describeAttempt(a: AlertAttempt): string {
  const id =
    a.requestId !== undefined ? `request ${a.requestId}` : a.jobId !== undefined ? `job ${a.jobId}` : '';
  const run = a.run === 'upload' ? '' : ` (${a.run})`;
  return `${a.at}  ${a.route} attempt ${a.attempt}${run}  ${a.code}${id === '' ? '' : `  ${id}`}`;
}

function attemptsSummary(alert: FailureAlert): string {
  const run = alert.runAttempts === 1 ? '1 attempt' : `${alert.runAttempts} attempts`;
  return alert.totalAttempts === alert.runAttempts
    ? run
    : `${run} in this run (${alert.totalAttempts} recorded for the log ID)`;
}

/** The first line of every rendering: what failed, in one sentence. */
export function alertTitle(alert: FailureAlert): string {
  return `logzip: archive ${alert.logId} failed for good (${alert.code})`;
}

/** The alert as plain text (SNS Message, e-mail subscribers). */
export function renderAlertText(alert: FailureAlert): string {
  const lines = [
    alertTitle(alert),
    '',
    `Log ID:    ${alert.logId}`,
    `Archive:   s3://${alert.bucket}/${alert.key}`,
    `Route:     ${alert.route}`,
    `Error:     ${alert.code} (${alert.codeSummary})`,
    `Message:   ${alert.message}`,
    ...(alert.entry === undefined ? [] : [`Entry:     ${alert.entry}`]),
    `Why final: ${alert.reasonText}`,
    `Attempts:  ${attemptsSummary(alert)}`,
    `Admin:     ${alert.link}`,
    '',
    `${stackHeading(alert)}:`,
    ...alert.stackTop.map((line) => `  ${line}`),
    '',
    `Recent attempts (oldest first, ${alert.recentAttempts.length} of ${alert.totalAttempts}):`,
    ...alert.recentAttempts.map((a) => `  ${describeAttempt(a)}`),
    '',
    `Failure: ${alert.failureId}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Slack's limits (https://api.slack.com/reference/block-kit/blocks). */
const SLACK_HEADER_CHARS = 150;
const SLACK_SECTION_CHARS = 3_000;
const SLACK_FIELD_CHARS = 2_000;
const SLACK_FALLBACK_CHARS = 3_000;

/** `&`, `<` and `>` are Slack's control characters, in code blocks too. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Text for inside a ``` block: escaped, and unable to close the block early. */
function slackCode(text: string): string {
  return slackEscape(text).replace(/```/g, '`\u200b``');
}

export interface SlackBlock {
  type: string;
  [field: string]: unknown;
}

export interface SlackPayload {
  /** The notification text (and what clients without Block Kit show). */
  text: string;
  blocks: SlackBlock[];
}

function mrkdwn(text: string, max = SLACK_SECTION_CHARS): { type: 'mrkdwn'; text: string } {
  return { type: 'mrkdwn', text: cut(text, max) };
}

/** A code block whose text, fences included, fits one section. */
function codeSection(heading: string, lines: string[]): SlackBlock {
  const room = SLACK_SECTION_CHARS - heading.length - 10;
  let body = slackCode(lines.join('\n'));
  if (body.length > room) body = `${body.slice(0, room - 1)}…`;
  return { type: 'section', text: { type: 'mrkdwn', text: `${heading}\n\`\`\`${body}\`\`\`` } };
}

/**
 * The alert as a Slack incoming-webhook body: `text` (the notification) and `blocks` with the
 * facts, the stack in a code block, the recent attempts and the admin link. Every text is within
 * Slack's limits (header 150, section 3,000, field 2,000 characters; at most 10 fields).
 */
export function renderSlackPayload(alert: FailureAlert): SlackPayload {
  const stackTitle = `*${stackHeading(alert).replace(/^Stack/, 'Stack*')}`;
  const fields = [
    `*Log ID*\n${slackEscape(alert.logId)}`,
    `*Route*\n${alert.route}`,
    `*Archive*\n\`s3://${slackCode(alert.bucket)}/${slackCode(alert.key)}\``,
    `*Attempts*\n${attemptsSummary(alert)}`,
    `*First failure*\n${alert.firstFailedAt}`,
    `*Last failure*\n${alert.lastFailedAt}`,
  ].map((text) => mrkdwn(text, SLACK_FIELD_CHARS));
  const summary = [
    `*${alert.code}* (${slackEscape(alert.codeSummary)}): ${slackEscape(alert.message)}`,
    ...(alert.entry === undefined ? [] : [`Entry: \`${slackCode(alert.entry)}\``]),
    slackEscape(alert.reasonText),
  ].join('\n');
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(alertTitle(alert), SLACK_HEADER_CHARS) } },
    { type: 'section', text: mrkdwn(summary) },
    { type: 'section', fields },
    codeSection(stackTitle, alert.stackTop),
    codeSection(
      `*Recent attempts* (oldest first, ${alert.recentAttempts.length} of ${alert.totalAttempts})`,
      alert.recentAttempts.map(describeAttempt),
    ),
    { type: 'section', text: mrkdwn(`<${alert.link}|Open ${slackEscape(alert.logId)} in the logzip admin>`) },
    { type: 'context', elements: [mrkdwn(`failure \`${slackCode(alert.failureId)}\``)] },
  ];
  const text = cut(
    `${alertTitle(alert)}: ${slackEscape(alert.message)} <${alert.link}|admin>`,
    SLACK_FALLBACK_CHARS,
  );
  return { text, blocks };
}

/** SNS's limits: Subject ≤ 100 printable ASCII characters, no line breaks. */
const SNS_SUBJECT_CHARS = 100;

export interface SnsPublishContent {
  /** ≤ 100 printable ASCII characters. */
  subject: string;
  /** Plain text (renderAlertText). */
  message: string;
  /** String message attributes (filter policies can select on them). */
  attributes: { logId: string; code: string; route: string; source: string };
}

/** The alert as an SNS Publish: an ASCII subject within 100 characters, the plain text, attributes. */
export function renderSnsPublish(alert: FailureAlert): SnsPublishContent {
  const ascii = (text: string) => text.replace(/[^\x20-\x7e]/g, '?');
  const suffix = ` failed (${alert.code})`;
  const head = 'logzip: ';
  const room = SNS_SUBJECT_CHARS - head.length - suffix.length;
  const logId = alert.logId.length > room ? `${alert.logId.slice(0, room - 3)}...` : alert.logId;
  return {
    subject: ascii(`${head}${logId}${suffix}`).slice(0, SNS_SUBJECT_CHARS),
    message: renderAlertText(alert),
    attributes: { logId: alert.logId, code: alert.code, route: alert.route, source: alert.source },
  };
}
