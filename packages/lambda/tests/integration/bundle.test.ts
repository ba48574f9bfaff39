import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { jobIdFor } from '@logzip/core';
import { createBullmqProducer, createRedis } from '@logzip/core/bullmq';
import { buildS3Event } from '@logzip/core/events';
import {
  buildZip,
  createMotoS3Client,
  createTestBucket,
  deleteTestBucket,
  describeWithMoto,
  requireMoto,
  requireRedis,
  startOtlpReceiver,
  type TempDir,
  tempDir,
  writeZip,
} from '@logzip/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EmfRecord } from '../../src/emf.js';
import { BUNDLE_PATH, ensureBundle, PACKAGE_DIR } from '../helpers/bundle.js';
import { listObjects, newLogId, upload } from '../helpers/harness.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;

/** Imports a fresh copy of the bundle (a new cold start) with `env` in process.env, then restores it. */
async function importBundle(env: Record<string, string | undefined>) {
  const saved = { ...process.env };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  try {
    return (await import(`${pathToFileURL(BUNDLE_PATH).href}?coldstart=${randomUUID()}`)) as {
      handler: (event: unknown, context: unknown) => Promise<{ results: Array<Record<string, unknown>> }>;
    };
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  }
}

/** The files a cold start loads: the entry and what it imports statically, transitively. */
async function staticImportGraph(entry: string, seen = new Set<string>()): Promise<string[]> {
  if (seen.has(entry)) return [...seen];
  seen.add(entry);
  const source = await readFile(entry, 'utf8');
  for (const match of source.matchAll(/(?:^|[;\n}])\s*import\s*(?:[^'"()]*?from\s*)?["'](\.[^"']+)["']/g)) {
    await staticImportGraph(join(dirname(entry), match[1] as string), seen);
  }
  return [...seen];
}

describe('the built bundle', () => {
  beforeAll(async () => {
    await ensureBundle();
  }, 120_000);

  it('is an ES module with its source map and lazy chunks, zipped for Lambda with nothing else', async () => {
    // Act
    const { stdout } = await run('unzip', ['-Z1', join(PACKAGE_DIR, 'dist', 'lambda.zip')]);
    const names = stdout.split('\n').filter(Boolean);
    const head = (await readFile(BUNDLE_PATH, 'utf8')).slice(0, 400);
    // Assess
    expect(names).toEqual(expect.arrayContaining(['index.mjs', 'index.mjs.map']));
    expect(names.filter((name) => !name.startsWith('chunks/') && !name.startsWith('index.mjs'))).toEqual([]);
    expect(names.some((name) => /^chunks\/bullmq-.*\.mjs$/.test(name))).toBe(true);
    expect(head).toContain('createRequire');
    // The OpenTelemetry SDK is a chunk of its own, never imported at cold start.
    const eager = await staticImportGraph(BUNDLE_PATH);
    const otel = names.filter((name) => /^chunks\/otel-.*\.mjs$/.test(name));
    expect(otel).toHaveLength(1);
    expect(eager.map((path) => relative(join(PACKAGE_DIR, 'dist'), path))).not.toContain(otel[0]);
    for (const path of eager)
      expect(await readFile(path, 'utf8'), path).not.toMatch(/OTLPTraceExporter|BatchSpanProcessor/);
    expect((await stat(join(PACKAGE_DIR, 'dist', 'lambda.zip'))).size).toBeLessThan(1 * MiB);
  });

  it("maps logzip's own code to its TypeScript sources and nothing of the bundled dependencies", async () => {
    // Prepare
    const map = new SourceMap(JSON.parse(await readFile(`${BUNDLE_PATH}.map`, 'utf8')));
    const lines = (await readFile(BUNDLE_PATH, 'utf8')).split('\n');
    // Act: every 50th column of every line of the entry, looked up in its map
    const sources = new Set<string>();
    for (const [line, text] of lines.entries()) {
      for (let column = 0; column < text.length; column += 50) {
        const found = map.findEntry(line, column);
        if ('originalSource' in found && found.originalSource) sources.add(found.originalSource);
      }
    }
    // Assess
    expect([...sources].filter((source) => source.includes('node_modules'))).toEqual([]);
    expect([...sources].some((source) => /^\.\.\/src\/[\w-]+\.ts$/.test(source))).toBe(true);
  });

  it('fails the cold start with one error naming every bad variable', async () => {
    // Act
    const cold = importBundle({
      LOGZIP_INCOMING_BUCKET: undefined,
      LOGZIP_LAMBDA_MAX_BYTES: 'lots',
      LOGZIP_LAMBDA_SAFETY_MARGIN: 'soon',
      LOG_LEVEL: 'silent',
    });
    // Assess
    await expect(cold).rejects.toMatchObject({ name: 'LambdaConfigError' });
    await expect(cold).rejects.toThrow(
      /LOGZIP_INCOMING_BUCKET[\s\S]*LOGZIP_LAMBDA_MAX_BYTES|LOGZIP_LAMBDA_MAX_BYTES[\s\S]*LOGZIP_INCOMING_BUCKET/,
    );
    await expect(cold).rejects.toThrow(/LOGZIP_LAMBDA_SAFETY_MARGIN/);
  });

  describeWithMoto('invoked with S3 events against moto', () => {
    let s3: S3Client;
    let bucket: string;
    let dirs: TempDir[] = [];

    beforeAll(async () => {
      s3 = createMotoS3Client();
      bucket = await createTestBucket(s3, 'lambda-bundle');
    });

    afterEach(async () => {
      await Promise.all(dirs.map((d) => d.cleanup()));
      dirs = [];
    });

    afterAll(async () => {
      if (bucket !== undefined) await deleteTestBucket(s3, bucket);
    });

    it('extracts an upload when loaded in-process, as the Lambda runtime imports it', async () => {
      // Prepare
      const logId = newLogId();
      const object = await upload(
        s3,
        bucket,
        `incoming/${logId}-bundle test.zip`,
        await buildZip([{ name: 'a.log', data: 'hello' }]),
      );
      const { handler } = await importBundle({
        LOGZIP_INCOMING_BUCKET: bucket,
        AWS_ENDPOINT_URL_S3: requireMoto(),
        LOG_LEVEL: 'silent',
      });
      // Act
      const summary = await handler(buildS3Event(object), {
        awsRequestId: randomUUID(),
        getRemainingTimeInMillis: () => 60_000,
      });
      // Assess
      expect(summary.results).toEqual([expect.objectContaining({ outcome: 'extracted', logId, entries: 1 })]);
      const file = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `extracted/${logId}/a.log` }));
      expect(await file.Body?.transformToString()).toBe('hello');
    });

    it('writes nothing to /tmp in a cold process, even for a 20 MiB archive read by ranges and written in parts', async () => {
      // Prepare: TMPDIR is an empty folder; the archive is big enough for ranged reads and a multipart upload.
      const work = await tempDir('bundle-work');
      const tmp = await tempDir('bundle-tmpdir');
      dirs.push(work, tmp);
      const logId = newLogId();
      const big = randomBytes(20 * MiB);
      const zip = await buildZip([
        { name: 'big.bin', data: big, compression: 'STORE' },
        { name: 'small.log', data: 'small\n' },
        { name: 'empty.log', data: '' },
      ]);
      const object = await upload(s3, bucket, `incoming/${logId}.zip`, zip);
      const eventPath = join(work.path, 'event.json');
      const resultPath = join(work.path, 'result.json');
      await writeFile(eventPath, JSON.stringify(buildS3Event(object)));
      const awsRequestId = randomUUID();
      // Act
      const started = Date.now();
      const { stdout } = await run(
        process.execPath,
        [
          join(PACKAGE_DIR, 'tests', 'helpers', 'run-bundle.mjs'),
          BUNDLE_PATH,
          eventPath,
          resultPath,
          awsRequestId,
        ],
        {
          env: {
            PATH: process.env['PATH'],
            TMPDIR: tmp.path,
            AWS_ACCESS_KEY_ID: 'test',
            AWS_SECRET_ACCESS_KEY: 'test',
            AWS_REGION: 'us-east-1',
            AWS_ENDPOINT_URL_S3: requireMoto(),
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
            LOGZIP_INCOMING_BUCKET: bucket,
          },
          maxBuffer: 16 * MiB,
        },
      );
      const elapsedMs = Date.now() - started;
      // Assess
      const outcome = JSON.parse(await readFile(resultPath, 'utf8'));
      expect(outcome).toMatchObject({
        ok: true,
        result: { results: [{ outcome: 'extracted', logId, entries: 3 }] },
      });
      expect(await readdir(tmp.path)).toEqual([]);
      const lines = stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const coldStart = lines.find((line) => line['msg'] === 'cold start');
      expect(coldStart?.['tmp']).toMatchObject({ dir: tmp.path, entries: 0 });
      for (const line of lines.filter((l) => l['msg'] !== 'cold start'))
        expect(line['awsRequestId']).toBe(awsRequestId);
      // The EMF lines CloudWatch Logs turns into metrics: one metric each, the worker's names.
      const metrics = Object.fromEntries(
        lines
          .filter((line) => '_aws' in line)
          .map((line) => {
            const directive = (line as EmfRecord)._aws.CloudWatchMetrics[0];
            const name = directive?.Metrics[0]?.Name as string;
            expect(directive?.Namespace).toBe('logzip');
            expect(line).toMatchObject({ FunctionName: 'logzip-bundle-test', logId });
            return [name, { value: line[name], status: line['status'], outcome: line['outcome'] }];
          }),
      );
      expect(metrics).toEqual({
        jobs_completed: { value: 1, status: 'extracted', outcome: undefined },
        job_duration_seconds: { value: expect.any(Number), status: undefined, outcome: 'extracted' },
        extracted_bytes: { value: big.length + 'small\n'.length, status: undefined, outcome: undefined },
        extracted_entries: { value: 3, status: undefined, outcome: undefined },
      });
      const extracted = await listObjects(s3, bucket, `extracted/${logId}/`);
      expect(extracted.map((o) => o.key).sort()).toEqual(
        ['big.bin', 'empty.log', 'small.log'].map((name) => `extracted/${logId}/${name}`),
      );
      const copy = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `extracted/${logId}/big.bin` }));
      expect(Buffer.from(await copy.Body!.transformToByteArray()).equals(big)).toBe(true);
      console.info(`[bundle] cold process: 20 MiB archive extracted in ${elapsedMs} ms (moto)`);
    }, 120_000);

    it('runs from the unzipped lambda.zip alone: its lazy chunks (iconv-lite for a CP932 name, BullMQ for a hand-off) load without node_modules', async () => {
      // Prepare: the zip unpacked where no node_modules can be found, as in /var/task.
      const task = await tempDir('bundle-task');
      const work = await tempDir('bundle-work');
      dirs.push(task, work);
      await run('unzip', ['-q', join(PACKAGE_DIR, 'dist', 'lambda.zip'), '-d', task.path]);
      const [small, big] = [newLogId(), newLogId()];
      // 表 is 0x95 0x5C in CP932: its second byte is a backslash.
      const cp932Name = Buffer.from([0x83, 0x8d, 0x83, 0x4f, 0x95, 0x5c, 0x2e, 0x74, 0x78, 0x74]);
      const objects = [
        await upload(s3, bucket, `incoming/${small}.zip`, writeZip([{ name: cp932Name, data: 'sjis\n' }])),
        await upload(
          s3,
          bucket,
          `incoming/${big}.zip`,
          await buildZip([{ name: 'big.bin', data: randomBytes(4096), compression: 'STORE' }]),
        ),
      ];
      const eventPath = join(work.path, 'event.json');
      const resultPath = join(work.path, 'result.json');
      await writeFile(eventPath, JSON.stringify({ Records: objects.map((o) => buildS3Event(o).Records[0]) }));
      const queueRedis = new URL(requireRedis());
      queueRedis.pathname = '/15'; // the default queue name, kept out of the database other tests use
      // Act
      await run(
        process.execPath,
        [
          join(PACKAGE_DIR, 'tests', 'helpers', 'run-bundle.mjs'),
          join(task.path, 'index.mjs'),
          eventPath,
          resultPath,
        ],
        {
          cwd: task.path,
          env: {
            PATH: process.env['PATH'],
            AWS_ACCESS_KEY_ID: 'test',
            AWS_SECRET_ACCESS_KEY: 'test',
            AWS_REGION: 'us-east-1',
            AWS_ENDPOINT_URL_S3: requireMoto(),
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
            LOGZIP_INCOMING_BUCKET: bucket,
            LOGZIP_LAMBDA_MAX_BYTES: '2000',
            REDIS_URL: queueRedis.toString(),
            LOG_LEVEL: 'warn',
          },
        },
      );
      // Assess
      const outcome = JSON.parse(await readFile(resultPath, 'utf8'));
      expect(outcome).toMatchObject({
        ok: true,
        result: {
          results: [
            { outcome: 'extracted', logId: small },
            { outcome: 'handed_off', logId: big, reason: 'over_max_bytes', jobId: jobIdFor(big) },
          ],
        },
      });
      const copy = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: `extracted/${small}/ログ表.txt` }),
      );
      expect(await copy.Body?.transformToString()).toBe('sjis\n');
      const redis = createRedis(queueRedis.toString());
      const producer = createBullmqProducer({ connection: redis });
      try {
        const job = await producer.queue.getJob(jobIdFor(big));
        expect(job?.data).toMatchObject({ logId: big, reason: 'handoff', key: objects[1]!.key });
        await job?.remove();
      } finally {
        await producer.close();
        await redis.quit();
      }
    }, 120_000);

    it('continues the trace in the archive metadata when OTEL_* names a receiver: the SDK chunk loads from the zip, spans go out before the handler returns', async () => {
      // Prepare: an archive stored as ingest stores it, with its span as traceparent metadata.
      const receiver = await startOtlpReceiver();
      const task = await tempDir('bundle-otel-task');
      const work = await tempDir('bundle-otel-work');
      dirs.push(task, work);
      await run('unzip', ['-q', join(PACKAGE_DIR, 'dist', 'lambda.zip'), '-d', task.path]);
      const logId = newLogId();
      const [traceId, ingestSpanId] = [randomBytes(16).toString('hex'), randomBytes(8).toString('hex')];
      const key = `incoming/${logId}.zip`;
      const zip = await buildZip([
        { name: 'a.log', data: 'a\n' },
        { name: 'b.log', data: 'bb\n' },
      ]);
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: zip,
          Metadata: { traceparent: `00-${traceId}-${ingestSpanId}-01` },
        }),
      );
      const object = { bucket, key, size: zip.length, etag: '', lastModified: new Date() };
      const eventPath = join(work.path, 'event.json');
      const resultPath = join(work.path, 'result.json');
      await writeFile(eventPath, JSON.stringify(buildS3Event(object)));
      try {
        // Act: the process exits right after the handler returns, as a frozen container would stop.
        await run(
          process.execPath,
          [
            join(PACKAGE_DIR, 'tests', 'helpers', 'run-bundle.mjs'),
            join(task.path, 'index.mjs'),
            eventPath,
            resultPath,
          ],
          {
            cwd: task.path,
            env: {
              PATH: process.env['PATH'],
              AWS_ACCESS_KEY_ID: 'test',
              AWS_SECRET_ACCESS_KEY: 'test',
              AWS_REGION: 'us-east-1',
              AWS_ENDPOINT_URL_S3: requireMoto(),
              AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
              AWS_LAMBDA_FUNCTION_NAME: 'logzip-extract-test',
              LOGZIP_INCOMING_BUCKET: bucket,
              LOG_LEVEL: 'warn',
              OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
            },
          },
        );

        // Assess
        const outcome = JSON.parse(await readFile(resultPath, 'utf8'));
        expect(outcome).toMatchObject({ ok: true, result: { results: [{ outcome: 'extracted', logId }] } });
        expect(receiver.rejected).toEqual([]);
        const trace = receiver.spans.filter((s) => s.traceId === traceId);
        const handler = trace.find((s) => s.name === 'lambda extract');
        expect(handler).toMatchObject({
          service: 'logzip-extract-test',
          parentSpanId: ingestSpanId,
          attributes: {
            'logzip.log_id': logId,
            'logzip.route': 'lambda',
            'logzip.status': 'extracted',
            'logzip.entries': 2,
            'logzip.bytes': 5,
          },
        });
        expect(trace.filter((s) => s.parentSpanId === handler?.spanId).map((s) => s.name)).toEqual([
          'read directory',
          'extract and write',
          'manifest',
        ]);
        expect(trace).toHaveLength(4);
      } finally {
        await receiver.close();
      }
    }, 120_000);
  });
});
