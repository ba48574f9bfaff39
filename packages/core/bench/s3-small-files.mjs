#!/usr/bin/env node
// pnpm bench, S3 part: the engine writing a many-small-files archive to S3 (moto) through the fault
// proxy adding 20 ms to every request, next to the ceiling: a plain PUT loop of the same objects at
// the same concurrency through the same proxy. Prints objects/s for both and their ratio. The engine
// adapts its write concurrency up to the store's maxConcurrency (--concurrency, default 64: the
// client's socket pool); the plain loop runs at that concurrency from the start.
// Usage: node packages/core/bench/s3-small-files.mjs <archive.zip> [--runs N] [--latency MS] [--concurrency N]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  bufferReader,
  createStateStore,
  DEFAULT_LIMITS,
  extractArchive,
  InflateBudget,
  planEntries,
  readEntry,
  readZipDirectory,
} from '@logzip/core';
import { createS3Client, createS3ObjectStore } from '@logzip/core/s3';
import { findExecutable, freePort, startS3FaultProxy, waitUntil } from '@logzip/test-utils';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '3' },
    latency: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '64' },
  },
});
const archivePath = positionals[0];
if (archivePath === undefined) throw new Error('usage: s3-small-files.mjs <archive.zip>');
const runs = Number(values.runs);
const latencyMs = Number(values.latency);
const concurrency = Number(values.concurrency);
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const moto = await findExecutable('moto_server');
if (moto === undefined) throw new Error('moto_server is not on PATH (pip install "moto[server]")');
const port = await freePort();
const server = spawn(moto, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
// An interrupted bench must not leave its moto_server behind.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.kill('SIGTERM');
    process.exit(130);
  });
}
const motoUrl = `http://127.0.0.1:${port}`;
const proxy = await startS3FaultProxy({
  target: motoUrl,
  rules: [{ name: 'latency', fault: { kind: 'latency', ms: latencyMs } }],
});
try {
  await waitUntil(async () => (await fetch(`${motoUrl}/`).catch(() => undefined)) !== undefined, {
    timeoutMs: 30_000,
    what: 'moto_server',
  });
  const direct = createS3Client({ AWS_ENDPOINT_URL_S3: motoUrl }, { credentials });
  const client = createS3Client({ AWS_ENDPOINT_URL_S3: proxy.url }, { credentials, maxSockets: concurrency });
  const store = createS3ObjectStore({ client, maxConcurrency: concurrency });
  const bucket = 'bench';
  await direct.send(new CreateBucketCommand({ Bucket: bucket }));
  const zip = readFileSync(archivePath);
  await direct.send(new PutObjectCommand({ Bucket: bucket, Key: 'incoming/bench.zip', Body: zip }));

  // The objects the archive holds, inflated once, for the plain PUT loop.
  const directory = await readZipDirectory(bufferReader(zip), { fallbackEncoding: 'cp932', maxEntries: 1e6 });
  const plan = planEntries(directory, { logId: 'x', outputPrefix: 'plain/', limits: DEFAULT_LIMITS });
  const budget = new InflateBudget(DEFAULT_LIMITS);
  const bodies = [];
  for (const p of plan)
    bodies.push({ key: p.key, body: await readEntry(bufferReader(zip), p.entry, budget) });

  const plainLoop = async (run) => {
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < bodies.length) {
          const { key, body } = bodies[next++];
          await store.put(bucket, `${run}/${key}`, body, { size: body.length });
        }
      }),
    );
    return bodies.length / ((performance.now() - started) / 1000);
  };
  const engine = async (run) => {
    const state = createStateStore({ store, bucket, prefix: `state-${run}/` });
    const started = performance.now();
    let writeConcurrency = 0;
    const result = await extractArchive(
      { source: store, output: store, state },
      {
        logId: `run${run}`,
        source: { bucket, key: 'incoming/bench.zip' },
        output: { bucket, prefix: 'extracted/' },
        limits: DEFAULT_LIMITS,
        fallbackEncoding: 'cp932',
        onProgress: (p) => {
          writeConcurrency = p.writeConcurrency;
        },
      },
    );
    finalConcurrency.push(writeConcurrency);
    return result.entries.length / ((performance.now() - started) / 1000);
  };

  const results = { engine: [], plain: [] };
  const finalConcurrency = [];
  for (let i = 0; i < runs; i++) {
    // Interleaved, alternating who goes first.
    if (i % 2 === 0) {
      results.engine.push(await engine(i));
      results.plain.push(await plainLoop(i));
    } else {
      results.plain.push(await plainLoop(i));
      results.engine.push(await engine(i));
    }
  }
  const ratio = median(results.engine.map((e, i) => e / results.plain[i]));
  console.log(
    `\nS3 destination through the fault proxy (+${latencyMs} ms on every request, moto behind), ${plan.length} objects, concurrency up to ${concurrency}, ${runs} interleaved runs, medians\n`,
  );
  console.log(
    '| engine objects/s | plain PUT loop objects/s (ceiling) | engine / ceiling | engine write concurrency at the end |',
  );
  console.log('| ---: | ---: | ---: | ---: |');
  console.log(
    `| ${median(results.engine).toFixed(0)} | ${median(results.plain).toFixed(0)} | ${ratio.toFixed(2)}x | ${median(finalConcurrency)} |`,
  );
} finally {
  await proxy.close();
  server.kill('SIGTERM');
}
