import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithRedis, requireRedis, waitUntil } from '@logzip/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { type LocalStack, ROOT, startLocalStack } from '../helpers/local-stack.js';

// `logzip canary` against `pnpm start` (the built stack: trigger emulator, worker, admin) in a
// temporary folder on free ports, with the worker's scheduled canary on: the live path passing
// (ingest API and direct PUT), and failing with a clear message when nothing consumes.

interface CanaryJson {
  status: string;
  logId: string;
  via: string;
  route?: string;
  entries: Array<{ path: string; size: number; crc32: string }>;
  problems: string[];
  message: string;
  cleanedUp: boolean;
}

/** Every file left in the stack's storage whose name mentions the log ID (archive, files, state). */
function leftovers(stack: LocalStack, logId: string): string[] {
  const root = join(stack.home, 'data');
  if (!existsSync(root)) return [];
  // The running stack deletes folders (the worker's lease folders) while the walk is under way;
  // a folder that vanished mid-walk is not a leftover, so walk again.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return (readdirSync(root, { recursive: true }) as string[]).filter((path) => path.includes(logId));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 20) throw error;
    }
  }
}

describeWithRedis('logzip canary against pnpm start', () => {
  let stack: LocalStack;
  /** The CLI with the stack's admin.env (LOGZIP_ADMIN_URL and both tokens). */
  const viaIngest = () => ({ ...stack.adminEnv });
  /** No admin URL: a direct PUT into the stack's storage folder, state and route read directly. */
  const viaDirect = () => ({
    LOGZIP_STORAGE_DIR: join(stack.home, 'data'),
    LOGZIP_INCOMING_BUCKET: 'logzip-local',
    REDIS_URL: String(stack.env['REDIS_URL']),
  });

  beforeAll(async () => {
    expect(
      existsSync(join(ROOT, 'packages/admin/dist/server.js')),
      'run `pnpm build` first (pnpm test does)',
    ).toBe(true);
    stack = await startLocalStack(requireRedis(), { LOGZIP_CANARY_INTERVAL: '10s' });
  }, 90_000);

  afterAll(async () => {
    // A worker stopped by a failed test must run again to stop.
    if (stack?.children['worker'] !== undefined) {
      try {
        process.kill(stack.children['worker'], 'SIGCONT');
      } catch {
        // already gone
      }
    }
    await stack?.stop();
  }, 60_000);

  it('passes through the ingest API: Japanese names and the zero-byte file come back, then are purged', async () => {
    // Act
    const run = await runCli(['canary', '--json', '--timeout', '60s'], { env: viaIngest() });

    // Assess
    expect(run.code, `${run.stdout}${run.stderr}\n--- stack ---\n${stack.output()}`).toBe(0);
    const result = run.json<CanaryJson>();
    expect(result).toMatchObject({
      status: 'ok',
      via: 'ingest',
      route: 'lambda',
      problems: [],
      cleanedUp: true,
    });
    expect(result.entries.map((e) => [e.path, e.size])).toEqual([
      ['canary/アプリ.log', expect.any(Number)],
      ['canary/空のファイル.txt', 0],
      ['canary/設定/表示ソフト.json', expect.any(Number)],
    ]);
    expect(leftovers(stack, result.logId)).toEqual([]);
  }, 90_000);

  it('passes with a direct PUT while the trigger is on, checking the stored bytes too', async () => {
    // Act
    const run = await runCli(['canary', '--timeout', '60s'], { env: viaDirect() });

    // Assess
    expect(run.code, `${run.stdout}${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(
      /^canary OK: the canary archive came back complete and correct in [\d.]+ s \(3 files, route lambda\)/,
    );
    expect(run.stdout).toMatch(
      /sent via direct to incoming\/[0-9a-f]{2}\/[0-9a-f]{2}\/canary_\d{14}_[0-9a-f]{6}\.zip/,
    );
  }, 90_000);

  it("exposes the scheduled canary's last success on the worker's /metrics", async () => {
    // Prepare
    const startedAt = Date.now() / 1000;
    const lastSuccess = async () => {
      const text = await fetch(stack.metricsUrl).then((r) => r.text());
      return Number(/^logzip_canary_last_success_timestamp_seconds (\S+)$/m.exec(text)?.[1] ?? 0);
    };

    // Act: the scheduler runs one every 10 s; the worker logs each run.
    await waitUntil(async () => (await lastSuccess()) > startedAt - 30, {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: `a scheduled canary success\n${stack.output()}`,
    });

    // Assess
    expect(stack.output()).toMatch(/worker +INFO +canary: the canary archive came back complete and correct/);
    const text = await fetch(stack.metricsUrl).then((r) => r.text());
    expect(text).toMatch(/^logzip_canary_runs_total\{outcome="ok"\} [1-9]/m);
  }, 90_000);

  it('fails with exit 1 and says nothing consumes when the route is queue and the archive was PUT directly', async () => {
    // Prepare
    const switched = await runCli(['route', 'queue', '--reason', 'canary test'], { env: viaIngest() });
    expect(switched.code, switched.stderr).toBe(0);

    try {
      // Act
      const run = await runCli(['canary', '--json', '--timeout', '5s'], { env: viaDirect() });

      // Assess
      expect(run.code, `${run.stdout}${run.stderr}`).toBe(1);
      const result = run.json<CanaryJson>();
      expect(result.status).toBe('timeout');
      expect(result.message).toContain(
        'no manifest for the canary archive after 5 s: nothing consumes it: the route is queue',
      );
      expect(result.message).toContain('a direct PUT reaches the queue only through the sweeper');
      expect(result.cleanedUp).toBe(true);
      expect(leftovers(stack, result.logId)).toEqual([]);
    } finally {
      await runCli(['route', 'lambda', '--reason', 'canary test done'], { env: viaIngest() });
    }
  }, 60_000);

  it('fails with exit 1 and says no worker takes the job when the worker is stopped (queue route)', async () => {
    // Prepare: the worker frozen (SIGSTOP): alive for the stack, taking no job.
    const worker = stack.children['worker'] as number;
    const switched = await runCli(['route', 'queue', '--reason', 'canary test'], { env: viaIngest() });
    expect(switched.code, switched.stderr).toBe(0);
    process.kill(worker, 'SIGSTOP');

    let run: Awaited<ReturnType<typeof runCli>>;
    try {
      // Act
      run = await runCli(['canary', '--timeout', '5s'], { env: viaIngest() });
    } finally {
      process.kill(worker, 'SIGCONT');
      await runCli(['route', 'lambda', '--reason', 'canary test done'], { env: viaIngest() });
    }

    // Assess
    expect(run.code, `${run.stdout}${run.stderr}`).toBe(1);
    expect(run.stdout).toMatch(
      /^canary TIMEOUT: no manifest for the canary archive after 5 s: its queue job has been waiting since \S+ and no worker took it: is a worker running\?/,
    );
    const logId = /log ID (canary_\w+)/.exec(run.stdout)?.[1] as string;
    expect(run.stdout).not.toContain('not cleaned up');
    expect(leftovers(stack, logId)).toEqual([]);
  }, 60_000);

  it('is a configuration error (78) when the ingest token is refused or the log ID pattern cannot read its key', async () => {
    // Act
    const refused = await runCli(['canary', '--timeout', '5s'], {
      env: { ...viaIngest(), LOGZIP_INGEST_TOKEN: 'x'.repeat(40) },
    });
    const pattern = await runCli(['canary', '--timeout', '5s'], {
      env: { ...viaDirect(), LOGZIP_LOG_ID_PATTERN: '^(?<logId>[0-9]{1,64})\\.zip$' },
    });

    // Assess
    expect(refused.code, refused.stdout + refused.stderr).toBe(78);
    expect(refused.stderr).toContain('the ingest API refused LOGZIP_INGEST_TOKEN (401)');
    expect(pattern.code, pattern.stdout + pattern.stderr).toBe(78);
    expect(pattern.stderr).toMatch(
      /LOGZIP_LOG_ID_PATTERN does not read the log ID canary_\w+ from incoming\//,
    );
  }, 60_000);

  it('is a usage error with an argument or a bad --timeout', async () => {
    // Act
    const extra = await runCli(['canary', 'now'], { env: viaIngest() });
    const timeout = await runCli(['canary', '--timeout', 'soon'], { env: viaIngest() });

    // Assess
    expect(extra.code).toBe(64);
    expect(timeout.code).toBe(64);
    expect(timeout.stderr).toContain('--timeout "soon"');
  });
});
