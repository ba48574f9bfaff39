import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

type FormatLine = (
  name: string,
  line: string,
  options: { color: boolean; width: number },
) => string | undefined;

// scripts/ is plain JavaScript: loaded by path, typed here by what the test uses.
const LOG_FORMAT = fileURLToPath(new URL('../../../../scripts/lib/log-format.mjs', import.meta.url));
const { formatLine } = (await import(LOG_FORMAT)) as { formatLine: FormatLine };

describe("pnpm start's log formatter", () => {
  it('regression (issue 17): control characters in a log ID or message reach the terminal escaped', () => {
    // Prepare
    const hostile = 'id\u001b]0;pwned\u0007\u0000\u202e';
    const line = JSON.stringify({ level: 30, time: 0, msg: `stored ${hostile}`, logId: hostile, key: 'a b' });

    // Act
    const shown = formatLine('admin', line, { color: false, width: 8 }) ?? '';
    const plain = formatLine('redis', `raw \u001b[2J line`, { color: false, width: 8 }) ?? '';

    // Assess
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    expect(shown).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f\u202e]/);
    expect(shown).toContain('\\u001b]0;pwned\\u0007\\u0000\\u202e');
    expect(plain).not.toContain('\u001b');
    expect(plain).toContain('raw \\u001b[2J line');
  });

  it("leaves out the Lambda's EMF metric lines, which have no message", () => {
    // Prepare
    const emf = JSON.stringify({
      _aws: {
        Timestamp: 0,
        CloudWatchMetrics: [{ Namespace: 'logzip', Dimensions: [['FunctionName']], Metrics: [] }],
      },
      FunctionName: 'logzip-extract',
      jobs_completed: 1,
    });

    // Act
    const shown = formatLine('lambda', emf, { color: false, width: 8 });

    // Assess
    expect(shown).toBeUndefined();
  });
});
