/** Markup that is already safe: produced by `html` or `raw`, never by interpolating input. */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/**
 * Characters that change how the text around them reads without being seen: bidirectional
 * overrides and isolates (an entry named `invoice\u202Efdp.exe` displays as `invoiceexe.pdf`),
 * zero-width marks, and control characters other than tab and newline.
 */
const INVISIBLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** `[U+202E]` in place of each invisible character, so the operator sees it is there. */
export function showInvisible(text: string): string {
  return text.replace(
    INVISIBLE,
    (c) => `[U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}]`,
  );
}

export function escapeHtml(text: string): string {
  return showInvisible(text).replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (value === undefined || value === null || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/**
 * A template tag that escapes every interpolated value (arrays are joined, `SafeHtml` is kept):
 * the only way the UI builds markup.
 *
 * @example
 * html`<td>${record.message}</td>` // a message with <script> stays text
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/** Trusted markup (constants written here, never input). */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}
