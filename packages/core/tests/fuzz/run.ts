/**
 * The long fuzz run (`pnpm test:fuzz`): the unit suite's properties, many more cases, in a child
 * process watched by this one, so a crash (a native abort, an uncaught exception, memory) or a hang
 * that blocks the event loop is caught, reported with a replay command, and the run goes on.
 *
 * Environment:
 *   FUZZ_SECONDS  how long to run (default 60 unless FUZZ_RUNS is set)
 *   FUZZ_RUNS     how many cases at most (over all modes)
 *   FUZZ_SEED     base seed (default: random, printed); batch k runs with seed FUZZ_SEED + k
 *   FUZZ_MODES    comma-separated subset of structured,mutation,reader (default all, in turn)
 *   FUZZ_BATCH    cases per batch (default 200)
 *   FUZZ_REPLAY=<mode>:<seed>:<path>  replays one failing case (from a report) in this process
 *   FUZZ_HANG_SECONDS  no progress for this long counts as a hang (default 30)
 *   FUZZ_SELFTEST=hang|crash|unhandled  makes the 5th case of the first batch misbehave, to see the
 *                 watchdog report it and the run go on
 *
 * Prints progress every 10 s, then cases, cases/s and outcomes by code per mode, and every failure
 * with its seed, fast-check path, saved input and replay command. Exits 1 when anything failed.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildSeedCorpus } from '@logzip/test-utils';
import { createFuzzHarness, findFuzzFailure } from './harness.js';
import { assertFuzz, FUZZ_MODES, type FuzzMode, type PropertyContext } from './properties.js';

const SELF = fileURLToPath(import.meta.url);
/** What a replay command needs besides FUZZ_REPLAY to generate the same cases. */
const REPLAY_ENV = '';
/** No case finished for this long: the child is hung (the harness's own per-case bound is 5 s + 5 s). */
const HEARTBEAT_MS = (Number(process.env.FUZZ_HANG_SECONDS) || 30) * 1000;

interface Batch {
  mode: FuzzMode;
  seed: number;
  numRuns: number;
}

type ChildMessage =
  | { type: 'ready'; dir: string }
  | { type: 'case'; mode: FuzzMode; seed: number; index: number }
  | { type: 'done'; batch: Batch; cases: number; outcomes: Record<string, number>; failure?: string };

type ParentMessage = { type: 'batch'; batch: Batch } | { type: 'stop' };

interface Failure {
  mode: FuzzMode;
  seed: number;
  kind: 'property' | 'crash' | 'hang' | 'unhandled';
  report: string;
}

function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return n;
}

function modesFromEnv(): FuzzMode[] {
  const raw = process.env.FUZZ_MODES;
  if (raw === undefined || raw === '') return [...FUZZ_MODES];
  const modes = raw.split(',').map((m) => m.trim());
  for (const m of modes) {
    if (!(FUZZ_MODES as readonly string[]).includes(m))
      throw new Error(`unknown fuzz mode "${m}" (FUZZ_MODES)`);
  }
  return modes as FuzzMode[];
}

/** The fast-check report of a failed run: seed, path, counterexample, and the FuzzFailure under it. */
function reportOf(error: unknown): string {
  const failure = findFuzzFailure(error);
  const head = error instanceof Error ? error.message : String(error);
  if (failure === undefined || failure === error) return head;
  return `${head}\n  caused by: ${failure.message}`;
}

// -------------------------------------------------------------------------------------------------
// Child: runs batches, sends a heartbeat per case.

function misbehave(how: string): void {
  selftest = undefined;
  if (how === 'hang') for (;;);
  if (how === 'crash') process.abort();
  if (how === 'unhandled') void Promise.reject(new Error('self-test: a promise nobody handles'));
}

let selftest = process.env.FUZZ_SELFTEST || undefined;

async function child(): Promise<void> {
  const send = (message: ChildMessage) => process.send?.(message);
  const harness = createFuzzHarness({ label: 'run' });
  const corpus = await buildSeedCorpus({ large: true });
  let current: { mode: FuzzMode; seed: number; index: number } | undefined;
  const ctx: PropertyContext = {
    harness,
    corpus,
    readerOutcomes: new Map(),
    knownBugs: true,
    onCase: () => {
      if (current === undefined) return;
      current.index += 1;
      send({ type: 'case', ...current });
      if (selftest !== undefined && current.index === 4) misbehave(selftest);
    },
  };
  // A promise nobody handles would crash a production process: a failure of its own.
  process.on('unhandledRejection', (reason) => {
    const where =
      current === undefined ? '' : ` during ${current.mode} seed ${current.seed} case ${current.index}`;
    console.error(`UNHANDLED REJECTION${where}: ${String((reason as Error)?.stack ?? reason)}`);
    process.exit(70);
  });

  process.on('message', async (message: ParentMessage) => {
    if (message.type === 'stop') {
      await harness.close();
      process.exit(0);
    }
    const { batch } = message;
    current = { mode: batch.mode, seed: batch.seed, index: -1 };
    const before = new Map(batch.mode === 'reader' ? ctx.readerOutcomes : harness.outcomes);
    let failure: string | undefined;
    try {
      await assertFuzz(batch.mode, ctx, { seed: batch.seed, numRuns: batch.numRuns });
    } catch (error) {
      failure = reportOf(error);
    }
    const after = batch.mode === 'reader' ? ctx.readerOutcomes : harness.outcomes;
    const outcomes: Record<string, number> = {};
    let cases = 0;
    for (const [code, n] of after) {
      const added = n - (before.get(code as never) ?? 0);
      if (added > 0) {
        outcomes[code] = added;
        cases += added;
      }
    }
    current = undefined;
    send({ type: 'done', batch, cases, outcomes, ...(failure === undefined ? {} : { failure }) });
  });
  send({ type: 'ready', dir: harness.dir });
}

// -------------------------------------------------------------------------------------------------
// Parent: hands out batches, watches the child, prints the figures.

async function parent(): Promise<void> {
  const seconds = envNumber('FUZZ_SECONDS');
  const maxRuns = envNumber('FUZZ_RUNS');
  const budgetMs = (seconds ?? (maxRuns === undefined ? 60 : Number.POSITIVE_INFINITY)) * 1000;
  const baseSeed = envNumber('FUZZ_SEED') ?? Math.floor(Math.random() * 2 ** 31);
  const batchSize = Math.max(1, envNumber('FUZZ_BATCH') ?? 200);
  const modes = modesFromEnv();
  const started = Date.now();
  const deadline = started + budgetMs;

  const stats = new Map<FuzzMode, { cases: number; ms: number; outcomes: Map<string, number> }>();
  for (const m of modes) stats.set(m, { cases: 0, ms: 0, outcomes: new Map() });
  const failures: Failure[] = [];
  let batchNumber = 0;
  let planned = 0;
  let children = 0;

  console.log(
    `logzip fuzz: seed ${baseSeed}, modes ${modes.join(',')}, ${seconds !== undefined || maxRuns === undefined ? `${budgetMs / 1000} s` : 'no time limit'}${maxRuns === undefined ? '' : `, at most ${maxRuns} cases`}, batches of ${batchSize}`,
  );

  const nextBatch = (): Batch | undefined => {
    if (Date.now() >= deadline) return undefined;
    if (maxRuns !== undefined && planned >= maxRuns) return undefined;
    const numRuns = maxRuns === undefined ? batchSize : Math.min(batchSize, maxRuns - planned);
    const mode = modes[batchNumber % modes.length]!;
    const batch = { mode, seed: baseSeed + batchNumber, numRuns };
    batchNumber += 1;
    planned += numRuns;
    return batch;
  };

  const totalCases = () => [...stats.values()].reduce((sum, s) => sum + s.cases, 0);
  const progress = setInterval(() => {
    const elapsed = (Date.now() - started) / 1000;
    console.log(
      `[${elapsed.toFixed(0)} s] ${totalCases()} cases (${(totalCases() / elapsed).toFixed(0)}/s), ${failures.length} failures`,
    );
  }, 10_000);

  /** Runs batches in one child until the budget ends (resolve true) or the child dies (false). */
  const runChild = () =>
    new Promise<boolean>((resolve) => {
      // The self-test misbehaves in the first child only.
      const env = children === 0 ? process.env : { ...process.env, FUZZ_SELFTEST: '' };
      children += 1;
      const proc: ChildProcess = fork(SELF, ['--child'], {
        env,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      let batch: Batch | undefined;
      let batchStarted = 0;
      let last: { mode: FuzzMode; seed: number; index: number } | undefined;
      let settled = false;
      let childDir: string | undefined;
      let watchdog: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => {
          const where = last ?? { mode: batch?.mode ?? modes[0]!, seed: batch?.seed ?? baseSeed, index: -1 };
          failures.push({
            mode: where.mode,
            seed: where.seed,
            kind: 'hang',
            report: `no progress for ${HEARTBEAT_MS / 1000} s at case #${where.index} (the event loop is blocked or a run never settles); replay with ${REPLAY_ENV}FUZZ_REPLAY=${where.mode}:${where.seed}:${Math.max(0, where.index)}`,
          });
          proc.kill('SIGKILL');
        }, HEARTBEAT_MS);
      };
      const finish = (alive: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(watchdog);
        resolve(alive);
      };
      const dispatch = () => {
        batch = nextBatch();
        if (batch === undefined) {
          proc.send({ type: 'stop' } satisfies ParentMessage);
          return;
        }
        batchStarted = Date.now();
        last = undefined;
        arm();
        proc.send({ type: 'batch', batch } satisfies ParentMessage);
      };
      proc.on('message', (message: ChildMessage) => {
        if (message.type === 'ready') {
          childDir = message.dir;
          dispatch();
        } else if (message.type === 'case') {
          last = { mode: message.mode, seed: message.seed, index: message.index };
          arm();
        } else if (message.type === 'done') {
          const s = stats.get(message.batch.mode)!;
          s.cases += message.cases;
          s.ms += Date.now() - batchStarted;
          for (const [code, n] of Object.entries(message.outcomes))
            s.outcomes.set(code, (s.outcomes.get(code) ?? 0) + n);
          if (message.failure !== undefined) {
            failures.push({
              mode: message.batch.mode,
              seed: message.batch.seed,
              kind: 'property',
              report: message.failure,
            });
            const reason = /caused by: (.*)/.exec(message.failure)?.[1] ?? message.failure.split('\n')[0];
            console.log(`FAILURE in ${message.batch.mode} batch (seed ${message.batch.seed}): ${reason}`);
          }
          dispatch();
        }
      });
      proc.on('exit', (code, signal) => {
        if (code === 0) return finish(true);
        // A child that died could not remove its temp dir.
        if (childDir !== undefined) rmSync(childDir, { recursive: true, force: true });
        const hung = failures.at(-1)?.kind === 'hang' && signal === 'SIGKILL';
        if (!hung && batch !== undefined) {
          const where = last ?? { mode: batch.mode, seed: batch.seed, index: 0 };
          failures.push({
            mode: where.mode,
            seed: where.seed,
            kind: code === 70 ? 'unhandled' : 'crash',
            report: `the fuzz process died (${signal ?? `exit code ${code}`}) at case #${where.index}; replay with ${REPLAY_ENV}FUZZ_REPLAY=${where.mode}:${where.seed}:${Math.max(0, where.index)}`,
          });
        }
        console.log(`fuzz child ended (${signal ?? code}); ${failures.at(-1)?.report ?? ''}`);
        finish(false);
      });
    });

  // A dead child loses its batch; start a new one with the next batch until the budget is spent.
  while (!(await runChild())) {
    if (Date.now() >= deadline || (maxRuns !== undefined && planned >= maxRuns)) break;
  }
  clearInterval(progress);

  const elapsed = (Date.now() - started) / 1000;
  console.log('');
  console.log(
    `logzip fuzz: ${totalCases()} cases in ${elapsed.toFixed(1)} s (${(totalCases() / elapsed).toFixed(0)} cases/s), seed ${baseSeed}`,
  );
  for (const [mode, s] of stats) {
    const rate = s.ms === 0 ? 0 : (s.cases / s.ms) * 1000;
    const codes = [...s.outcomes.entries()].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`);
    console.log(
      `  ${mode.padEnd(10)} ${String(s.cases).padStart(7)} cases  ${rate.toFixed(0).padStart(5)}/s  ${codes.join(', ')}`,
    );
  }
  if (failures.length === 0) {
    console.log('  failures: none');
    return;
  }
  console.log(`  failures: ${failures.length}`);
  for (const f of failures) {
    console.log(`\n--- ${f.kind} in ${f.mode} (batch seed ${f.seed})`);
    console.log(f.report);
    if (f.kind === 'property') {
      const path = /path: "([^"]*)"/.exec(f.report)?.[1];
      if (path !== undefined)
        console.log(`replay: ${REPLAY_ENV}FUZZ_REPLAY=${f.mode}:${f.seed}:${path} pnpm test:fuzz`);
    }
  }
  process.exitCode = 1;
}

// -------------------------------------------------------------------------------------------------
// Replay: one case of a failed run, in this process, with the full report.

async function replay(spec: string): Promise<void> {
  const [mode, seed, ...rest] = spec.split(':');
  const path = rest.length === 0 ? undefined : rest.join(':');
  if (!(FUZZ_MODES as readonly string[]).includes(mode ?? '') || seed === undefined || path === undefined) {
    throw new Error(`FUZZ_REPLAY must be <mode>:<seed>:<path>, got "${spec}"`);
  }
  const harness = createFuzzHarness({ label: 'replay' });
  const ctx: PropertyContext = {
    harness,
    corpus: await buildSeedCorpus({ large: true }),
    readerOutcomes: new Map(),
    knownBugs: true,
  };
  try {
    await assertFuzz(mode as FuzzMode, ctx, { seed: Number(seed), path });
    console.log(`replay ${spec}: passes`);
  } catch (error) {
    console.log(`replay ${spec}: FAILS\n${reportOf(error)}`);
    process.exitCode = 1;
  } finally {
    await harness.close();
  }
}

if (process.argv.includes('--child')) await child();
else if (process.env.FUZZ_REPLAY) await replay(process.env.FUZZ_REPLAY);
else await parent();
