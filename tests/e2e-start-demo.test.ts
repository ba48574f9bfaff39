import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimEmptyDatabase, cleanEnv, describeWithRedis, freePort, requireRedis } from '@logzip/test-utils';
import { afterEach, expect, it } from 'vitest';
import {
  alive,
  killStack,
  processesMentioning,
  ROOT,
  run,
  startStack,
  stopStack,
} from './helpers/start-stack.js';

// `pnpm start` and `pnpm demo` as a new user runs them: the real scripts, the built dist/ (pnpm test
// builds first), free ports, a temporary LOGZIP_HOME, and a Redis database of this test alone on the
// run's Redis (the route flag `logzip:route` and the queue keys are global within a database).

interface DemoRow {
  logId: string;
  label: string;
  expectedRoute: string;
  route: string;
  files?: number;
  bytes?: number;
  status: string;
  code?: string;
  ok: boolean;
  problems: string[];
}

interface DemoDocument {
  ok: boolean;
  switches: Array<{ from: string | null; to: string; reason: string; ok: boolean }>;
  archives: DemoRow[];
}

describeWithRedis('pnpm start + pnpm demo, end to end', () => {
  let stack: ChildProcess | undefined;
  let home: string | undefined;
  let database: { url: string; release(): Promise<void> } | undefined;

  afterEach(async () => {
    await killStack(stack, home);
    await database?.release();
    if (home !== undefined) await rm(home, { recursive: true, force: true });
    stack = undefined;
    home = undefined;
    database = undefined;
  });

  it('runs the whole stack, the demo extracts every good archive by its route, and SIGTERM leaves no process', async () => {
    // Prepare
    expect(
      existsSync(join(ROOT, 'packages/admin/dist/server.js')),
      'run `pnpm build` first (pnpm test does)',
    ).toBe(true);
    home = await mkdtemp(join(tmpdir(), 'logzip-e2e-'));
    database = await claimEmptyDatabase(requireRedis());
    const adminPort = await freePort();
    const metricsPort = await freePort();
    const env = cleanEnv({
      LOGZIP_HOME: home,
      REDIS_URL: database.url,
      LOGZIP_ADMIN_PORT: String(adminPort),
      LOGZIP_WORKER_METRICS_PORT: String(metricsPort),
    });
    const started = await startStack([], env, {
      home,
      adminPort,
      timeoutMs: 45_000,
      onChild: (child) => {
        stack = child;
      },
    });
    const { children, stackFile } = started;
    const adminEnv = join(home, 'admin.env');

    // Act
    const demo = await run(['scripts/demo.mjs', '--json', '--timeout', '45s'], env, 90_000);
    const route = await run(['packages/admin/dist/cli/index.js', 'route', '--json'], env, 30_000);
    const exit = await stopStack(started, 50_000);
    const output = started.output();

    // Assess
    expect(demo.code, `${demo.stderr}\n--- stack ---\n${started.output()}`).toBe(0);
    const document = JSON.parse(demo.stdout) as DemoDocument;
    expect(document.ok).toBe(true);
    const byLabel = new Map(document.archives.map((row) => [row.label, row]));
    const expectedFiles: Record<string, number> = {
      'desktop app logs, nested folders': 6,
      'Japanese file names (UTF-8)': 4,
      'with a zero-byte file': 3,
      'CP932 names, no UTF-8 flag (Windows)': 3,
      'many small files': 250,
      'one large log': 2,
    };
    for (const [label, files] of Object.entries(expectedFiles)) {
      const row = byLabel.get(label);
      expect(row, label).toBeDefined();
      expect(row, label).toMatchObject({ status: 'extracted', files, ok: true, problems: [] });
      expect(row?.route, label).toBe(row?.expectedRoute);
    }
    const damaged = byLabel.get('damaged in transit (a flipped byte)');
    expect(damaged).toMatchObject({
      status: 'rejected',
      code: 'crc_mismatch',
      ok: true,
      route: 'lambda → queue',
    });
    expect(document.archives.filter((row) => row.expectedRoute === 'lambda')).toHaveLength(4);
    expect(document.switches.map((s) => [s.to, s.ok])).toEqual([
      ['queue', true],
      ['lambda', true],
    ]);

    // The CLI found the local stack through admin.env (no LOGZIP_ADMIN_URL in its environment).
    expect(route.code, route.stderr).toBe(0);
    expect(route.stderr).toContain('using the local stack');
    expect(JSON.parse(route.stdout)).toMatchObject({ desired: 'lambda' });
    expect((await stat(adminEnv)).mode & 0o777).toBe(0o600);

    // Regression (issue 17): the tokens were printed in full; now a prefix, the file has the rest.
    const kept = await readFile(adminEnv, 'utf8');
    for (const name of ['LOGZIP_ADMIN_TOKEN', 'LOGZIP_INGEST_TOKEN']) {
      const token = new RegExp(`^${name}=(\\S+)$`, 'm').exec(kept)?.[1] ?? '';
      expect(token.length, name).toBeGreaterThanOrEqual(32);
      expect(output).not.toContain(token);
      expect(output).toContain(`${name}=${token.slice(0, 12)}…`);
    }

    // Readable, prefixed logs from every part, carrying the log ID.
    expect(output).toMatch(/^\S+ trigger +INFO +archive extracted .*logId=demo_/m);
    expect(output).toMatch(/^\S+ worker +INFO +job completed .*logId=demo_/m);
    expect(output).toMatch(/^\S+ admin +INFO +archive stored .*logId=demo_/m);
    expect(output).toContain('route        lambda (the flag was unset');

    // Stopped cleanly, nothing left behind.
    expect(exit, output).toEqual({ code: 0, signal: null });
    expect(Object.keys(children).sort()).toEqual(['admin', 'trigger', 'worker']);
    for (const [name, pid] of Object.entries(children))
      expect(alive(pid), `${name} (pid ${pid})`).toBe(false);
    expect(await processesMentioning(home)).toEqual([]);
    expect(existsSync(stackFile)).toBe(false);
  }, 110_000);
});
