import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  claimEmptyDatabase,
  cleanEnv,
  describeWithMoto,
  describeWithRedis,
  freePort,
  requireRedis,
} from '@logzip/test-utils';
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

// `pnpm start --buffered`, `pnpm demo` and `pnpm demo --burst` as a user runs them: the real
// scripts on the built dist/, two moto_servers of the stack's own (S3 + SQS, and the Lambda control
// plane: moto's SQS would consume an enabled mapping's messages itself), the emulator playing the
// event source mapping, a Redis database of this test alone. The sweeper is off
// (LOGZIP_SWEEP_INTERVAL=0s): every archive must arrive by its notification through the queue.

interface BurstDocument {
  ok: boolean;
  triggerMode: string;
  switches: Array<{ to: string; ok: boolean }>;
  sweeper: { runs: number; enqueued: number } | null;
  byRoute: Record<string, number>;
  archives: Array<{ logId: string; status: string; ok: boolean; problems: string[] }>;
}

const BURST = 30;

describeWithMoto('pnpm start --buffered, end to end', () => {
  describeWithRedis('with the demos', () => {
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

    it('runs the buffered stack on two motos; the demo and a burst with route switches extract every archive with no sweeper; SIGTERM leaves no process', async () => {
      // Prepare
      expect(
        existsSync(join(ROOT, 'packages/lambda/dist/emulator/local-buffered.js')),
        'run `pnpm build` first (pnpm test does)',
      ).toBe(true);
      home = await mkdtemp(join(tmpdir(), 'logzip-e2e-buffered-'));
      database = await claimEmptyDatabase(requireRedis());
      const adminPort = await freePort();
      const env = cleanEnv({
        LOGZIP_HOME: home,
        REDIS_URL: database.url,
        LOGZIP_ADMIN_PORT: String(adminPort),
        LOGZIP_WORKER_METRICS_PORT: String(await freePort()),
        LOGZIP_SWEEP_INTERVAL: '0s',
      });
      const started = await startStack(['--buffered'], env, {
        home,
        adminPort,
        timeoutMs: 90_000,
        onChild: (child) => {
          stack = child;
        },
      });

      // Act
      const demo = await run(['scripts/demo.mjs', '--json', '--timeout', '60s'], env, 120_000);
      const burst = await run(
        [
          'scripts/demo.mjs',
          '--burst',
          '--count',
          String(BURST),
          '--switches',
          '4',
          '--json',
          '--timeout',
          '120s',
        ],
        env,
        180_000,
      );
      const route = await run(['packages/admin/dist/cli/index.js', 'route', '--json'], env, 30_000);
      const exit = await stopStack(started, 60_000);
      const output = started.output();

      // Assess
      expect(output).toContain('trigger      buffered: S3 → SQS → event source mapping');
      expect(output).toMatch(/queue {8}http:\/\/127\.0\.0\.1:\d+\/123456789012\/logzip-extract-trigger /);
      expect(output).toContain(
        'route        lambda (the flag was unset: pnpm start set it; the mapping is enabled',
      );

      expect(demo.code, `${demo.stderr}\n--- stack ---\n${output}`).toBe(0);
      const document = JSON.parse(demo.stdout) as {
        ok: boolean;
        archives: Array<{ label: string; status: string; code?: string; ok: boolean }>;
      };
      expect(document.ok).toBe(true);
      expect(document.archives.filter((row) => row.status === 'extracted')).toHaveLength(6);
      expect(document.archives.find((row) => row.status !== 'extracted')).toMatchObject({
        status: 'rejected',
        code: 'crc_mismatch',
      });

      expect(burst.code, `${burst.stderr}\n--- stack ---\n${output}`).toBe(0);
      const report = JSON.parse(burst.stdout) as BurstDocument;
      expect(report.triggerMode).toBe('buffered');
      expect(report.switches.map((s) => [s.to, s.ok])).toEqual([
        ['queue', true],
        ['lambda', true],
        ['queue', true],
        ['lambda', true],
      ]);
      expect(report.archives).toHaveLength(BURST);
      expect(report.archives.filter((row) => !row.ok)).toEqual([]);
      expect(Object.values(report.byRoute).reduce((a, b) => a + b, 0)).toBe(BURST);
      expect(report.sweeper).toEqual({ runs: 0, enqueued: 0 });

      expect(route.code, route.stderr).toBe(0);
      const status = JSON.parse(route.stdout) as {
        mode: string;
        desired: string;
        actual: { details: { mapping: { state: string } } };
        drift: { messages: string[] };
      };
      expect(status).toMatchObject({ mode: 'buffered', desired: 'lambda' });
      expect(status.actual.details.mapping.state).toBe('Enabled');
      expect(status.drift.messages).toEqual([]);

      // Stopped cleanly, both motos included, nothing left behind.
      expect(exit, output).toEqual({ code: 0, signal: null });
      expect(Object.keys(started.children).sort()).toEqual([
        'admin',
        'moto',
        'moto-ctl',
        'trigger',
        'worker',
      ]);
      for (const [name, pid] of Object.entries(started.children))
        expect(alive(pid), `${name} (pid ${pid})`).toBe(false);
      expect(await processesMentioning(home)).toEqual([]);
      expect(existsSync(started.stackFile)).toBe(false);
    }, 400_000);
  });
});
