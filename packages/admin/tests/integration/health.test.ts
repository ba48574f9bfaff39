import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildZip, describeWithRedis, requireRedis } from '@logzip/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { HealthReport } from '../../src/operations/health.js';
import { runCli } from '../helpers/cli.js';
import { type LocalStack, ROOT, startLocalStack } from '../helpers/local-stack.js';
import { eventually } from '../helpers/worker.js';

// The health strip's facts (issue 17 item 7) against `pnpm start`: a worker frozen with SIGSTOP
// keeps its Redis connection open, so only its heartbeat shows it; the job it never takes waits.

describeWithRedis('health: a frozen worker against pnpm start', () => {
  let stack: LocalStack;
  let dir: string;
  const api = () => ({ ...stack.adminEnv });
  const status = async () => {
    const run = await runCli(['status', '--json'], { env: api() });
    return { code: run.code, health: run.json<HealthReport>() };
  };

  beforeAll(async () => {
    expect(
      existsSync(join(ROOT, 'packages/admin/dist/server.js')),
      'run `pnpm build` first (pnpm test does)',
    ).toBe(true);
    dir = await mkdtemp(join(tmpdir(), 'logzip-health-'));
    stack = await startLocalStack(requireRedis(), {
      LOGZIP_WORKER_HEARTBEAT_INTERVAL: '500ms',
      LOGZIP_HEALTH_HEARTBEAT_STALE: '3s',
      LOGZIP_HEALTH_WAITING_STALE: '2s',
    });
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('regression: a SIGSTOPped worker shows a stale heartbeat and the oldest waiting job ages (status, API, metrics)', async () => {
    // Prepare: the running worker beats; its metrics carry the strip's facts.
    const fresh = await eventually(async () => {
      const { health } = await status();
      return health.workers?.length === 1 && !health.workers[0]!.stale ? health : false;
    }, 30_000);
    expect(fresh.oldestWaiting).toMatchObject({ jobId: null, stale: false });
    const metrics = await (await fetch(stack.metricsUrl)).text();
    expect(metrics).toMatch(/^logzip_worker_heartbeat_age_seconds\{worker="[^"]+"\} \d/m);
    expect(metrics).toMatch(/^logzip_queue_oldest_waiting_age_seconds 0$/m);
    const switched = await runCli(['route', 'queue', '--reason', 'health test'], { env: api() });
    expect(switched.code, switched.stderr).toBe(0);
    const archive = join(dir, 'health1.zip');
    await writeFile(archive, await buildZip([{ name: 'app.log', data: 'hello\n' }]));
    const worker = stack.children['worker'] as number;

    let stale: HealthReport;
    let later: HealthReport;
    let text: Awaited<ReturnType<typeof runCli>>;
    process.kill(worker, 'SIGSTOP');
    try {
      // Act: an upload the frozen worker never takes.
      const upload = await runCli(['upload', archive, '--log-id', 'health1', '--json'], { env: api() });
      expect(upload.code, upload.stderr).toBe(0);
      stale = await eventually(async () => {
        const { health } = await status();
        return health.workers?.[0]?.stale === true && health.oldestWaiting?.stale === true ? health : false;
      }, 30_000);
      later = await eventually(async () => {
        const { health } = await status();
        return (health.oldestWaiting?.ageMs ?? 0) > (stale.oldestWaiting?.ageMs ?? 0) ? health : false;
      }, 10_000);
      text = await runCli(['status'], { env: api() });
    } finally {
      process.kill(worker, 'SIGCONT');
    }

    // Assess
    expect(stale.ok).toBe(false);
    expect(stale.workers).toHaveLength(1);
    expect(stale.workers![0]!.ageMs).toBeGreaterThan(3_000);
    expect(stale.oldestWaiting?.jobId).toContain('health1');
    expect(stale.problems.join('\n')).toMatch(/last heartbeat .* ago/);
    expect(stale.problems.join('\n')).toMatch(/oldest waiting job has waited/);
    expect(later.oldestWaiting!.since).toBe(stale.oldestWaiting!.since);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^health: PROBLEMS/);
    expect(text.stdout).toMatch(/last heartbeat .* STALE$/m);
    expect(text.stdout).toMatch(/^oldest waiting: job \S*health1\S*, .* STALE$/m);

    // Thawed, the worker beats again and takes the job; its extraction is the queue's last one.
    const thawed = await eventually(async () => {
      const { health } = await status();
      return health.workers?.[0]?.stale === false &&
        health.oldestWaiting?.jobId === null &&
        health.lastExtraction?.queue != null
        ? health
        : false;
    }, 30_000);
    expect(Date.parse(thawed.lastExtraction!.queue!)).toBeGreaterThan(Date.parse(stale.at) - 60_000);
    expect(thawed.activity?.window.extracted.queue).toBeGreaterThanOrEqual(1);
    await runCli(['route', 'lambda', '--reason', 'health test done'], { env: api() });
  }, 120_000);
});
