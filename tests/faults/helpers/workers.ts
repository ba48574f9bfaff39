import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BullmqProducer } from '@logzip/core/bullmq';
import { waitUntil } from '@logzip/test-utils';
import {
  spawnWorker,
  stopWorker,
  type WorkerProcess,
} from '../../../packages/worker/tests/helpers/harness.js';

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/faults/', import.meta.url));

/**
 * Worker processes (`node packages/worker/dist/main.js`) that can be SIGKILLed and replaced. Their
 * log lines are kept in test-artifacts/faults/<logName>-workers.log for diagnosis.
 */
export class WorkerPool {
  readonly slots: Array<WorkerProcess | undefined>;
  kills = 0;
  /** Kills that hit a process while it was running a job. */
  midRunKills = 0;
  readonly #env: Record<string, string>;
  readonly #log: WriteStream;
  #spawned = 0;

  constructor(env: Record<string, string>, size: number, logName: string) {
    this.#env = env;
    this.slots = new Array(size).fill(undefined);
    mkdirSync(ARTIFACTS, { recursive: true });
    this.#log = createWriteStream(`${ARTIFACTS}${logName}-workers.log`);
  }

  async start(): Promise<void> {
    await Promise.all(this.slots.map((_, i) => this.#launch(i)));
  }

  async #launch(index: number): Promise<void> {
    const worker = spawnWorker(this.#env);
    const n = this.#spawned++;
    let seen = 0;
    const flush = () => {
      for (; seen < worker.lines.length; seen++)
        this.#log.write(`w${n} ${JSON.stringify(worker.lines[seen])}\n`);
    };
    worker.child.stdout?.on('data', () => setImmediate(flush));
    worker.child.once('exit', (code, signal) => {
      flush();
      this.#log.write(
        `w${n} exited code=${code} signal=${signal} stderr=${worker.stderr.join('').slice(0, 2000)}\n`,
      );
    });
    this.slots[index] = worker;
    await worker.waitForLine((l) => String(l['msg']).startsWith('worker started'), 'worker started', 30_000);
  }

  /** SIGKILL, then a fresh process in the same slot (not waiting for it to be ready when `wait` is false). */
  async killAndRestart(index: number, wait = true): Promise<void> {
    const worker = this.slots[index];
    if (worker !== undefined && worker.child.exitCode === null && worker.child.signalCode === null) {
      if (activeJobs(worker.lines) > 0) this.midRunKills += 1;
      worker.child.kill('SIGKILL');
      await worker.exited;
      this.kills += 1;
    }
    const launched = this.#launch(index);
    if (wait) await launched;
    else launched.catch(() => {});
  }

  /** Slots whose process is running a job now (by its log). */
  busy(): number[] {
    return this.slots.flatMap((w, i) =>
      w !== undefined && w.child.exitCode === null && w.child.signalCode === null && activeJobs(w.lines) > 0
        ? [i]
        : [],
    );
  }

  /** Log lines of every process so far (the live ones and the killed ones alike). */
  lines(): Array<Record<string, unknown>> {
    return this.slots.flatMap((w) => w?.lines ?? []);
  }

  async stop(): Promise<void> {
    await Promise.all(this.slots.map((w) => stopWorker(w)));
    await new Promise<void>((resolve) => this.#log.end(resolve));
  }
}

const FINISHED = new Set(['job completed', 'job attempt failed, BullMQ retries it', 'job failed']);

/** Jobs a worker's log says it started and has not finished. */
function activeJobs(lines: ReadonlyArray<Record<string, unknown>>): number {
  let active = 0;
  for (const line of lines) {
    if (line['msg'] === 'job started') active += 1;
    else if (FINISHED.has(String(line['msg']))) active -= 1;
  }
  return active;
}

/** Waits until every job of the queue is completed or failed, and `expected` of them exist. */
export async function waitForQueueIdle(
  producer: BullmqProducer,
  expected: number,
  timeoutMs: number,
): Promise<void> {
  let last: Record<string, number> = {};
  await waitUntil(
    async () => {
      last = await producer.getCounts();
      const pending = ['waiting', 'active', 'delayed', 'prioritized', 'paused', 'waiting-children'].reduce(
        (n, state) => n + (last[state] ?? 0),
        0,
      );
      return pending === 0 && (last['completed'] ?? 0) + (last['failed'] ?? 0) >= expected;
    },
    { timeoutMs, intervalMs: 200, what: `the queue to finish ${expected} jobs (${JSON.stringify(last)})` },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last counts ${JSON.stringify(last)}`);
  });
}

/** Extraction attempts beyond each job's first: retries after failures and re-runs after stalls. */
export async function jobRetries(producer: BullmqProducer): Promise<{ retries: number; stalls: number }> {
  const jobs = await producer.queue.getJobs(['completed', 'failed'], 0, -1);
  let retries = 0;
  let stalls = 0;
  for (const job of jobs) {
    retries += Math.max(0, (job.attemptsStarted ?? 0) - 1);
    stalls += job.stalledCounter ?? 0;
  }
  return { retries, stalls };
}
