import { describe, expect, it } from 'vitest';
import { fingerprintFailure } from '../../src/state/fingerprint.js';

function record(logId: string, entry: string, stack: string, code = 'crc_mismatch') {
  return {
    logId,
    code,
    entry,
    source: { bucket: 'logs', key: `incoming/ab/cd/${logId}-2026-11-28.zip` },
    message: `entry "${entry}" of ${logId}: CRC 0x1a2b3c4d does not match`,
    stack,
  } as const;
}

const CRC_STACK = (root: string, entry: string, line: number) =>
  [
    `LogzipError: entry "${entry}" failed the CRC check (expected 1a2b3c4d)`,
    `    at verifyEntry (${root}/packages/core/dist/zip/entry.js:${line}:17)`,
    `    at async extractEntry (${root}/packages/core/dist/engine/extract.js:${line + 40}:9)`,
    `    at async Promise.all (index ${line % 7})`,
    `    at async runPool (${root}/node_modules/.pnpm/p-limit@5.0.0/node_modules/p-limit/index.js:88:3)`,
    'Caused by: Error: something per archive 12345',
    `    at other (${root}/x.js:1:1)`,
  ].join('\n');

describe('fingerprintFailure', () => {
  it('puts the same bug at other entry names, log IDs, paths and line numbers in one group', () => {
    // Prepare
    const a = record('54321', 'logs/app.log', CRC_STACK('/var/task', 'logs/app.log', 120));
    const b = record(
      'A_77',
      'ログ/日本語.txt',
      CRC_STACK('/srv/logzip/releases/2026-12-01', 'ログ/日本語.txt', 131),
    );

    // Act
    const fa = fingerprintFailure(a);
    const fb = fingerprintFailure(b);

    // Assess
    expect(fa.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(fb.fingerprint).toBe(fa.fingerprint);
    expect(fa.signature).not.toContain('/var/task');
    expect(fa.signature).toContain('p-limit');
  });

  it('puts two different stacks with one code in two groups', () => {
    // Prepare
    const a = record('1', 'a.log', CRC_STACK('/var/task', 'a.log', 10));
    const b = record(
      '1',
      'a.log',
      [
        'LogzipError: CRC',
        '    at readLocalHeader (/var/task/zip/header.js:10:3)',
        '    at main (/var/task/main.js:5:1)',
      ].join('\n'),
    );

    // Act / Assess
    expect(fingerprintFailure(a).fingerprint).not.toBe(fingerprintFailure(b).fingerprint);
  });

  it('separates one stack under two codes', () => {
    const stack = CRC_STACK('/var/task', 'a.log', 10);
    expect(fingerprintFailure(record('1', 'a', stack, 'corrupt')).fingerprint).not.toBe(
      fingerprintFailure(record('1', 'a', stack, 'crc_mismatch')).fingerprint,
    );
  });

  it('names a record without frames by its message with per-archive values removed', () => {
    // Prepare: timeouts drained from the Lambda's on-failure destination carry no stack
    const a = {
      ...record('900', 'x', ''),
      code: 'timeout',
      message: 'Task timed out after 900.04 seconds (request 5f1c2a9e-1b2c-4d5e-8f90-aa00bb11cc22, log 900)',
    };
    const b = {
      ...record('77', 'y', ''),
      code: 'timeout',
      message: 'Task timed out after 899.10 seconds (request 0a1b2c3d-0000-4d5e-8f90-aa00bb11cc22, log 77)',
    };
    const c = {
      ...record('77', 'y', ''),
      code: 'timeout',
      message: 'Runtime exited without providing a reason',
    };

    // Act
    const [fa, fb, fc] = [a, b, c].map((r) => fingerprintFailure(r));

    // Assess
    expect(fb?.fingerprint).toBe(fa?.fingerprint);
    expect(fc?.fingerprint).not.toBe(fa?.fingerprint);
  });
});
