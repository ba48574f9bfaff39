#!/usr/bin/env node
// pnpm bench: the engine against Info-ZIP unzip and the raw zlib ceiling, side by side, same archives.
// Usage: node packages/core/bench/run.mjs [--runs N] [--corpus a,b,c,s3,lambda] [--keep]
//   [--lambda-dist dir,dir]: Lambda builds to compare (folders holding lambda.zip and index.mjs;
//   default packages/lambda/dist), cold starts interleaved.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    // s3: corpus (a) extracted to S3 (moto) through the fault proxy, next to a plain PUT loop.
    // lambda: the size of packages/lambda/dist/lambda.zip and its cold initialisation.
    corpus: { type: 'string', default: 'a,b,c,s3,lambda' },
    keep: { type: 'boolean', default: false },
    'lambda-dist': { type: 'string' },
  },
});
const root = resolve(dirname(new URL(import.meta.url).pathname), '../../..');
const work = join(root, '.bench');
const cli = join(root, 'packages/admin/dist/cli/index.js');
const ceiling = join(root, 'packages/core/bench/zlib-ceiling.mjs');
const floor = join(root, 'packages/core/bench/folder-floor.mjs');
const runs = Number(values.runs);
mkdirSync(work, { recursive: true });
// A folder of this invocation's own: outputs an earlier `--keep` left are not deleted here, as
// deleting thousands of files just before the timed runs slows their file creation (see below).
const outputs = join(work, 'out', new Date().toISOString().replace(/[:.]/g, '-'));

// Realistic log lines: timestamps, levels, ids, some Japanese, repeated structure (compresses ~8-12:1).
const LEVELS = ['INFO', 'DEBUG', 'WARN', 'ERROR', 'TRACE'];
const WORDS = [
  'request',
  'completed',
  'ユーザー',
  'session',
  'sync',
  'upload',
  '同期',
  'retry',
  'cache',
  'token',
  'file',
];
function logText(bytes, seed) {
  const lines = [];
  let size = 0;
  let n = seed;
  while (size < bytes) {
    n = (n * 1103515245 + 12345) >>> 0;
    const t = new Date(1_764_000_000_000 + n * 7).toISOString();
    const line = `${t} [${LEVELS[n % 5]}] pid=${n % 9973} ${WORDS[n % 11]} ${WORDS[(n >> 4) % 11]} id=${(n >>> 3).toString(16)} took=${n % 997}ms\n`;
    lines.push(line);
    size += Buffer.byteLength(line);
  }
  return lines.join('');
}

function zipFolder(folder, archive, level = '-6') {
  rmSync(archive, { force: true });
  const r = spawnSync('zip', ['-q', '-r', level, archive, '.'], { cwd: folder, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`zip failed for ${archive}`);
}

const CORPORA = {
  a: {
    title: '(a) 5,000 log files of 2-20 KB',
    // Threads of the Node floor: a second thread owning half of the folders, to see if it pays.
    floor: [1, 2],
    make(dir) {
      for (let i = 0; i < 5000; i++) {
        const sub = join(dir, `app${i % 10}`, `day${i % 7}`);
        mkdirSync(sub, { recursive: true });
        writeFileSync(join(sub, `trace-${i}.log`), logText(2048 + ((i * 7919) % 18432), i + 1));
      }
    },
  },
  b: {
    title: '(b) 4 x 64 MiB log files',
    floor: [1],
    make(dir) {
      const chunk = logText(4 * 2 ** 20, 7);
      for (let i = 0; i < 4; i++)
        writeFileSync(join(dir, `big-${i}.log`), chunk.repeat(16).slice(0, 64 * 2 ** 20));
    },
  },
  c: {
    title: '(c) a 1 GiB archive (logs + incompressible dumps)',
    make(dir) {
      const text = logText(8 * 2 ** 20, 11);
      for (let i = 0; i < 8; i++) writeFileSync(join(dir, `service-${i}.log`), text.repeat(8));
      // Crash dumps and screenshots are already compressed: they keep the archive near 1 GiB.
      for (let i = 0; i < 15; i++) writeFileSync(join(dir, `dump-${i}.dmp`), randomBytes(64 * 2 ** 20));
    },
  },
};

function ensureCorpus(name) {
  const archive = join(work, `${name}.zip`);
  if (existsSync(archive)) return archive;
  const dir = join(work, `${name}-src`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  process.stderr.write(`generating ${CORPORA[name].title}...\n`);
  CORPORA[name].make(dir);
  zipFolder(dir, archive);
  rmSync(dir, { recursive: true, force: true });
  return archive;
}

// Peak RSS of a child process tree, via getrusage(RUSAGE_CHILDREN) in a tiny Python wrapper.
const RUSAGE =
  'import resource,subprocess,sys,time\nt=time.perf_counter()\nr=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL)\nd=time.perf_counter()-t\nprint(r.returncode, d, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)';
function measure(cmd, args) {
  const r = spawnSync('python3', ['-c', RUSAGE, cmd, ...args], { encoding: 'utf8' });
  const [code, seconds, rssKb] = r.stdout.trim().split(/\s+/).map(Number);
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}: ${r.stderr}`);
  return { seconds, rssMiB: rssKb / 1024 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function uncompressedBytes(archive) {
  const r = spawnSync('unzip', ['-Zt', archive], { encoding: 'utf8' });
  const m = /(\d+) bytes uncompressed/.exec(r.stdout);
  return m ? Number(m[1]) : Number.NaN;
}

const rows = [];
const corpora = values.corpus.split(',');
for (const name of corpora.filter((c) => c in CORPORA)) {
  const archive = ensureCorpus(name);
  const bytes = uncompressedBytes(archive);
  const results = { logzip: [], unzip: [], zlib: [], floor: new Map() };
  for (let i = 0; i < runs; i++) {
    // Interleave the three so machine noise hits them alike; alternate which tool goes first.
    // Every run writes into a folder of its own, and outputs are deleted only after all runs: on
    // this machine's ext4 (mounted with online discard) creating files just after deleting
    // thousands is several times slower for a while (5,000 files: about 0.1 s on a settled disk,
    // 1.3 s after an `rm -rf` of the previous output, whoever creates them), so deleting between
    // runs measured the previous run's deletion more than either tool.
    const runLogzip = () => {
      const out = join(outputs, `${name}-${i}-logzip`);
      results.logzip.push(
        measure('node', [cli, 'extract', archive, '--to', out, '--log-id', `bench${name}`, '--json']),
      );
    };
    const runUnzip = () => {
      const out = join(outputs, `${name}-${i}-unzip`);
      mkdirSync(out, { recursive: true });
      results.unzip.push(measure('unzip', ['-q', '-o', archive, '-d', out]));
    };
    // The least a Node process does for the same output (folder-floor.mjs): what is left above it
    // is logzip's own; what it takes above unzip, no Node program gets back.
    const runFloor = () => {
      for (const threads of CORPORA[name].floor ?? []) {
        const out = join(outputs, `${name}-${i}-floor${threads}`);
        if (!results.floor.has(threads)) results.floor.set(threads, []);
        results.floor.get(threads).push(measure('node', [floor, archive, out, String(threads)]));
      }
    };
    if (i % 2 === 0) {
      runLogzip();
      runUnzip();
      runFloor();
    } else {
      runFloor();
      runUnzip();
      runLogzip();
    }
    const z = spawnSync('node', [ceiling, archive], { encoding: 'utf8' });
    if (z.status !== 0) throw new Error(`zlib ceiling failed: ${z.stderr}`);
    results.zlib.push({ seconds: JSON.parse(z.stdout).seconds, rssMiB: 0 });
  }
  const mbps = (rs) => bytes / 1e6 / median(rs.map((r) => r.seconds));
  const row = {
    corpus: CORPORA[name].title,
    archiveMiB: statSync(archive).size / 2 ** 20,
    uncompressedMiB: bytes / 2 ** 20,
    logzipMBs: mbps(results.logzip),
    unzipMBs: mbps(results.unzip),
    zlibMBs: mbps(results.zlib),
    logzipSeconds: median(results.logzip.map((r) => r.seconds)),
    unzipSeconds: median(results.unzip.map((r) => r.seconds)),
    // Paired by run: each logzip run against the unzip run next to it, so load that hits both cancels.
    wallRatio: median(results.logzip.map((r, i) => r.seconds / results.unzip[i].seconds)),
    floor: [...results.floor].map(([threads, rs]) => ({
      threads,
      seconds: median(rs.map((r) => r.seconds)),
      ratio: median(rs.map((r, i) => r.seconds / results.unzip[i].seconds)),
    })),
    logzipRssMiB: Math.max(...results.logzip.map((r) => r.rssMiB)),
    unzipRssMiB: Math.max(...results.unzip.map((r) => r.rssMiB)),
  };
  rows.push(row);
}

const f = (x, d = 0) => (Number.isNaN(x) ? '–' : x.toFixed(d));
const times = (x) => (Number.isNaN(x) ? '–' : `${x.toFixed(2)}x`);
if (rows.length > 0) {
  console.log(
    `\nlogzip bench (${runs} interleaved runs each, medians; node ${process.version}, ${new Date().toISOString().slice(0, 10)})\n`,
  );
  console.log(
    '| corpus | archive MiB | data MiB | logzip s | unzip -q -o s | wall time logzip / unzip | Node floor s (1 thread / 2) | floor / unzip (1 thread / 2) | logzip MB/s | unzip MB/s | zlib ceiling MB/s | logzip peak RSS MiB | unzip peak RSS MiB |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(
      `| ${r.corpus} | ${f(r.archiveMiB)} | ${f(r.uncompressedMiB)} | ${f(r.logzipSeconds, 2)} | ${f(r.unzipSeconds, 2)} | ${times(r.wallRatio)} | ${r.floor.map((x) => f(x.seconds, 2)).join(' / ') || '–'} | ${r.floor.map((x) => times(x.ratio)).join(' / ') || '–'} | ${f(r.logzipMBs)} | ${f(r.unzipMBs)} | ${f(r.zlibMBs)} | ${f(r.logzipRssMiB)} | ${f(r.unzipRssMiB)} |`,
    );
  }
  console.log(
    '\nWhole processes (logzip: `node …/cli/index.js extract --json`, CLI start included); the wall-time ratio is the median of each run paired with its neighbour; the Node floor is `folder-floor.mjs` (read, inflate, CRC32, write, nothing else) in a whole process, on one thread and, for (a), on two threads owning half of the folders each; goal ≤ 0.7x for (a) and (b), peak RSS < 200 MiB for (c).',
  );
}
// After every timed run (see above); --keep leaves the outputs for a look.
if (values.keep) console.log(`\noutputs kept in ${outputs}`);
else rmSync(outputs, { recursive: true, force: true });

if (corpora.includes('s3')) {
  const s3 = spawnSync(
    'node',
    [join(root, 'packages/core/bench/s3-small-files.mjs'), ensureCorpus('a'), '--runs', String(runs)],
    { stdio: 'inherit', env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } },
  );
  if (s3.status !== 0) throw new Error('the S3 bench failed');
}

if (corpora.includes('lambda')) {
  // A cold start as Lambda makes it: a fresh process imports the bundle and builds the handler
  // (configuration, S3 client, logger). Credentials are dummies: nothing is sent at import.
  const dists = (values['lambda-dist'] ?? join(root, 'packages/lambda/dist'))
    .split(',')
    .map((d) => resolve(d));
  const coldRuns = Math.max(11, runs);
  const env = {
    PATH: process.env.PATH,
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_REGION: 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    LOGZIP_INCOMING_BUCKET: 'bench',
    LOG_LEVEL: 'silent',
  };
  const cold = dists.map(() => []);
  const empty = [];
  for (let i = 0; i < coldRuns; i++) {
    for (const [d, dist] of dists.entries()) {
      const r = spawnSync(
        'node',
        [join(root, 'packages/core/bench/lambda-cold.mjs'), join(dist, 'index.mjs')],
        {
          env,
          encoding: 'utf8',
        },
      );
      if (r.status !== 0) throw new Error(`the cold start of ${dist} failed: ${r.stderr}`);
      cold[d].push(JSON.parse(r.stdout).ms);
    }
    // Node's own start, measured the same way, next to it: what a bundle adds is the difference.
    const e = spawnSync('node', ['-e', 'process.stdout.write(String(performance.now()))'], {
      encoding: 'utf8',
    });
    empty.push(Number(e.stdout));
  }
  console.log(
    `\nLambda bundle (${coldRuns} interleaved cold starts, medians; an empty node process: ${f(median(empty))} ms)\n`,
  );
  console.log(
    '| build | lambda.zip KiB | cold init ms, median (min): import + handler built, Node start included |',
  );
  console.log('| --- | ---: | ---: |');
  for (const [d, dist] of dists.entries()) {
    console.log(
      `| ${dist} | ${f(statSync(join(dist, 'lambda.zip')).size / 1024)} | ${f(median(cold[d]))} (${f(Math.min(...cold[d]))}) |`,
    );
  }
  console.log('\nGoals: lambda.zip < 1024 KiB, cold init < 300 ms.');
}
