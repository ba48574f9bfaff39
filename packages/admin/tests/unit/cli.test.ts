import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseIdList } from '../../src/cli/args.js';
import { run as runRoute } from '../../src/cli/commands/route.js';
import { readAdminConfig } from '../../src/config.js';
import { bulkExitCode, summarize, summaryLine } from '../../src/operations/bulk.js';

describe('parseIdList', () => {
  it('takes one ID per line or several separated by spaces or commas, skipping comments and blanks', () => {
    // Act
    const ids = parseIdList('54321\n# failed yesterday\n\n 777 , 888\r\nabc_DEF-1 # trailing comment\n');

    // Assess
    expect(ids).toEqual(['54321', '777', '888', 'abc_DEF-1']);
  });
});

describe('bulk results', () => {
  it('count outcomes and map to exit codes: 1 when a retry may help, 2 when an ID was not handled', () => {
    // Prepare
    const ok = summarize([{ logId: '1', outcome: 'enqueued', detail: '' }], false);
    const notFound = summarize(
      [
        { logId: '1', outcome: 'enqueued', detail: '' },
        { logId: '2', outcome: 'not_found', detail: '' },
      ],
      false,
    );
    const failed = summarize(
      [
        { logId: '2', outcome: 'not_found', detail: '' },
        { logId: '3', outcome: 'error', detail: '' },
      ],
      true,
    );

    // Assess
    expect(bulkExitCode(ok)).toBe(0);
    expect(bulkExitCode(notFound)).toBe(2);
    expect(bulkExitCode(failed)).toBe(1);
    expect(notFound.summary).toEqual({
      total: 2,
      dryRun: false,
      outcomes: { enqueued: 1, not_found: 1 },
      notHandled: 1,
      failed: 0,
    });
    expect(summaryLine(failed)).toBe('1 not_found, 1 error (2 log IDs, dry run)');
  });
});

describe('readAdminConfig', () => {
  it('needs the admin token (32+ characters) and the incoming bucket for the service', () => {
    // Act
    const missing = readAdminConfig({});
    const short = readAdminConfig({ LOGZIP_ADMIN_TOKEN: 'too-short', LOGZIP_INCOMING_BUCKET: 'logs' });
    const cli = readAdminConfig({ LOGZIP_INCOMING_BUCKET: 'logs' }, { requireToken: false });

    // Assess
    expect(missing.errors).toEqual(['LOGZIP_ADMIN_TOKEN: required', 'LOGZIP_INCOMING_BUCKET: required']);
    expect(short.errors.join('\n')).toMatch(/LOGZIP_ADMIN_TOKEN: must be at least 32 characters/);
    expect(cli.config?.output).toEqual({ bucket: 'logs', prefix: 'extracted/' });
    expect(cli.config?.admin).toMatchObject({ port: 8080, queuePrefix: 'bull', token: undefined });
  });

  it('needs the trigger queue and the function in buffered mode', () => {
    // Act
    const { errors } = readAdminConfig(
      { LOGZIP_INCOMING_BUCKET: 'logs', LOGZIP_TRIGGER_MODE: 'buffered' },
      { requireToken: false },
    );
    const wrongMode = readAdminConfig(
      { LOGZIP_INCOMING_BUCKET: 'logs', LOGZIP_TRIGGER_MODE: 'queued' },
      { requireToken: false },
    );

    // Assess
    expect(errors.join('\n')).toMatch(/LOGZIP_TRIGGER_QUEUE_URL: required when LOGZIP_TRIGGER_MODE=buffered/);
    expect(errors.join('\n')).toMatch(/LOGZIP_LAMBDA_FUNCTION: required when LOGZIP_TRIGGER_MODE=buffered/);
    expect(wrongMode.errors.join('\n')).toMatch(/LOGZIP_TRIGGER_MODE/);
  });
});

describe('logzip route migrate (arguments)', () => {
  const io = (env: Record<string, string>) => ({
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    stdin: new PassThrough(),
    env,
    cwd: process.cwd(),
  });
  const code = (args: string[], env: Record<string, string> = {}) =>
    runRoute(args, io(env)).then(
      (exit) => ({ exit, message: '' }),
      (error: unknown) => ({ exit: (error as { exitCode?: number }).exitCode, message: String(error) }),
    );

  it('needs --to and a reason, keeps --to off the switch, and refuses the admin API (a deploy step needs AWS)', async () => {
    // Act
    const noMode = await code(['migrate', '--reason', 'x']);
    const badMode = await code(['migrate', '--to', 'sideways', '--reason', 'x']);
    const noReason = await code(['migrate', '--to', 'buffered']);
    const badDrain = await code(['migrate', '--to', 'direct', '--reason', 'x', '--drain-timeout', 'soon']);
    const onSwitch = await code(['lambda', '--reason', 'x', '--to', 'direct']);
    const viaApi = await code(['migrate', '--to', 'direct', '--reason', 'x'], {
      LOGZIP_ADMIN_URL: 'http://127.0.0.1:9',
      LOGZIP_ADMIN_TOKEN: 'a'.repeat(32),
    });

    // Assess
    for (const usage of [noMode, badMode, noReason, badDrain, onSwitch]) expect(usage.exit).toBe(64);
    expect(noMode.message).toMatch(/--to direct\|buffered/);
    expect(onSwitch.message).toMatch(/go with logzip route migrate/);
    expect(viaApi.exit).toBe(78);
    expect(viaApi.message).toMatch(/not through LOGZIP_ADMIN_URL/);
  });
});
