/**
 * `logzip extract` as operators run it: a child process, local and s3:// sources and destinations,
 * the --json shapes and the exit codes of docs/cli.md.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  buildZip,
  createMotoS3Client,
  createTestBucket,
  deleteTestBucket,
  motoEnabled,
  requireMoto,
  startS3FaultProxy,
  type TempDir,
  tempDir,
  writeZip,
} from '@logzip/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/** The built CLI (`pnpm build` first), run as a real child process where the process itself matters. */
const CLI = fileURLToPath(new URL('../../dist/cli/index.js', import.meta.url));

describe('logzip extract (local)', () => {
  let dir: TempDir;
  beforeEach(async () => {
    dir = await tempDir('cli-extract');
  });
  afterEach(() => dir.cleanup());

  it('extracts to <dest>/<logId>/ with state beside it and prints one JSON value', async () => {
    // Prepare
    const zip = await buildZip([
      { name: 'logs\\app.log', data: 'hello\n' },
      { name: 'empty.txt', data: '' },
      { name: 'ログ.txt', data: 'こんにちは' },
    ]);
    writeFileSync(join(dir.path, '54321-2026-11-28.zip'), zip);
    // Act
    const run = await runCli(['extract', './54321-2026-11-28.zip', '--to', './out', '--json'], {
      cwd: dir.path,
    });
    // Assess
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ status: 'extracted', logId: '54321', bytes: 6 + 0 + 15 });
    expect(result.entries).toEqual(
      expect.arrayContaining([
        { path: 'logs/app.log', size: 6, crc32: expect.stringMatching(/^[0-9a-f]{8}$/) },
        { path: 'empty.txt', size: 0, crc32: '00000000' },
      ]),
    );
    expect(typeof result.durationMs).toBe('number');
    expect(readFileSync(join(dir.path, 'out/54321/logs/app.log'), 'utf8')).toBe('hello\n');
    expect(readFileSync(join(dir.path, 'out/54321/ログ.txt'), 'utf8')).toBe('こんにちは');
    expect(existsSync(join(dir.path, 'out/logzip-state/manifests/54321.json'))).toBe(true);
    expect(readdirSync(join(dir.path, 'out')).sort()).toEqual(['54321', 'logzip-state']);
  });

  it('says already_extracted on a second run and re-extracts with --force', async () => {
    writeFileSync(join(dir.path, '777.zip'), await buildZip([{ name: 'a.log', data: 'a' }]));
    await runCli(['extract', '777.zip', '--to', 'out'], { cwd: dir.path });
    const again = await runCli(['extract', '777.zip', '--to', 'out', '--json'], { cwd: dir.path });
    const forced = await runCli(['extract', '777.zip', '--to', 'out', '--json', '--force'], {
      cwd: dir.path,
    });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).status).toBe('already_extracted');
    expect(JSON.parse(forced.stdout).status).toBe('extracted');
  });

  it('rejects a defective archive with exit 2, the entry and code, and nothing in the folder', async () => {
    // Prepare
    writeFileSync(
      join(dir.path, '9001.zip'),
      writeZip([
        { name: 'fine.log', data: 'fine' },
        { name: 'evil/../../escape.log', data: 'x' },
      ]),
    );
    // Act
    const run = await runCli(['extract', '9001.zip', '--to', 'out', '--json'], { cwd: dir.path });
    // Assess
    expect(run.code).toBe(2);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({
      status: 'rejected',
      logId: '9001',
      error: { code: 'unsafe_path', retryable: false },
    });
    expect(result.error.message).toContain('escape.log');
    expect(existsSync(join(dir.path, 'out/9001'))).toBe(false);
  });

  it('uses --log-id when the name yields none, and refuses a bad name without it', async () => {
    writeFileSync(join(dir.path, 'weird name.zip'), await buildZip([{ name: 'a.log', data: 'a' }]));
    const refused = await runCli(['extract', 'weird name.zip', '--to', 'out', '--json'], { cwd: dir.path });
    const named = await runCli(['extract', 'weird name.zip', '--to', 'out', '--log-id', 'abc-1', '--json'], {
      cwd: dir.path,
    });
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout).error.code).toBe('invalid_key');
    expect(named.code).toBe(0);
    expect(existsSync(join(dir.path, 'out/abc-1/a.log'))).toBe(true);
  });

  it('exits 2 with source_not_found for a missing file', async () => {
    const run = await runCli(['extract', 'nope-1.zip', '--to', 'out', '--json'], { cwd: dir.path });
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout).error.code).toBe('source_not_found');
  });

  it('bug: `extract --json | head -c 100` crashed with an unhandled EPIPE; a closed stdout now ends it quietly with its exit code', async () => {
    // Prepare: a result of ~120 KB, far more than a pipe holds, so the write outlives the reader.
    const zip = writeZip(
      Array.from({ length: 2000 }, (_, i) => ({ name: `logs/file-${i}.log`, data: `${i}\n`, method: 0 })),
    );
    writeFileSync(join(dir.path, '4242.zip'), zip);
    const runs: Array<{ code: number | null; signal: string | null; head: string; stderr: string }> = [];
    for (const closeAfter of [100, 0]) {
      // Act: the real binary, its stdout read like `head -c 100` does (or closed before any output)
      const child = spawn(
        process.execPath,
        [CLI, 'extract', './4242.zip', '--to', `./out-${closeAfter}`, '--json'],
        {
          cwd: dir.path,
          env: { PATH: process.env['PATH'] ?? '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let head = '';
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      if (closeAfter === 0) child.stdout.destroy();
      else {
        child.stdout.on('data', (chunk: Buffer) => {
          head += chunk.toString('latin1');
          if (head.length >= closeAfter) child.stdout.destroy();
        });
      }
      const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
      runs.push({ code, signal, head: head.slice(0, closeAfter), stderr });
    }
    // Assess: exit 0 as without the pipe, nothing on stderr, the extraction complete
    for (const run of runs) {
      expect(run).toMatchObject({ code: 0, signal: null, stderr: '' });
    }
    expect(runs[0]!.head).toMatch(/^\{"status":"extracted","logId":"4242"/);
    for (const out of ['out-100', 'out-0']) {
      expect(existsSync(join(dir.path, out, 'logzip-state/manifests/4242.json'))).toBe(true);
      expect(readdirSync(join(dir.path, out, '4242/logs'))).toHaveLength(2000);
    }
  });

  it('exits 64 on usage errors and 78 on configuration errors', async () => {
    const noDest = await runCli(['extract', 'a.zip'], { cwd: dir.path });
    const unknown = await runCli(['extract', 'a.zip', '--to', 'out', '--bogus'], { cwd: dir.path });
    const noCommand = await runCli(['frobnicate'], { cwd: dir.path });
    const badConfig = await runCli(['extract', 'a.zip', '--to', 'out'], {
      cwd: dir.path,
      env: { LOGZIP_MAX_ENTRIES: 'many', LOGZIP_MAX_RATIO: '-3' },
    });
    expect(noDest.code).toBe(64);
    expect(unknown.code).toBe(64);
    expect(noCommand.code).toBe(64);
    expect(badConfig.code).toBe(78);
    expect(badConfig.stderr).toContain('LOGZIP_MAX_ENTRIES');
    expect(badConfig.stderr).toContain('LOGZIP_MAX_RATIO');
  });
});

describe.runIf(motoEnabled())('logzip extract (s3://)', () => {
  it('reads s3://bucket/key and writes to s3://bucket/prefix/ with state in the state prefix', async () => {
    // Prepare
    const s3 = createMotoS3Client();
    const bucket = await createTestBucket(s3, 'cli');
    const env = {
      AWS_ENDPOINT_URL_S3: requireMoto(),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    };
    try {
      const zip = await buildZip([
        { name: 'sub dir/a b.log', data: 'spaced' },
        { name: 'zero.log', data: '' },
      ]);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'incoming/ab/cd/4242-x.zip', Body: zip }));
      // Act
      const run = await runCli(
        [
          'extract',
          `s3://${bucket}/incoming/ab/cd/4242-x.zip`,
          '--to',
          `s3://${bucket}/extracted/`,
          '--json',
        ],
        { env },
      );
      // Assess
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout).status).toBe('extracted');
      const file = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: 'extracted/4242/sub dir/a b.log' }),
      );
      expect(await file.Body?.transformToString()).toBe('spaced');
      const zero = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'extracted/4242/zero.log' }));
      expect(zero.ContentLength).toBe(0);
      const manifest = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: 'logzip-state/manifests/4242.json' }),
      );
      expect(JSON.parse((await manifest.Body?.transformToString()) ?? '{}').source.key).toBe(
        'incoming/ab/cd/4242-x.zip',
      );
    } finally {
      await deleteTestBucket(s3, bucket);
    }
  });

  it('exits 1 with a retryable failed status when storage keeps failing', async () => {
    // Prepare
    const s3 = createMotoS3Client();
    const bucket = await createTestBucket(s3, 'cli-503');
    const proxy = await startS3FaultProxy({ target: requireMoto() });
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'incoming/5150.zip',
          Body: await buildZip([{ name: 'a.log', data: 'a' }]),
        }),
      );
      proxy.setRules([{ method: 'GET', fault: { kind: 'slow-down' } }]);
      // Act
      const run = await runCli(
        ['extract', `s3://${bucket}/incoming/5150.zip`, '--to', `s3://${bucket}/extracted/`, '--json'],
        {
          env: {
            AWS_ENDPOINT_URL_S3: proxy.url,
            AWS_REGION: 'us-east-1',
            AWS_ACCESS_KEY_ID: 'test',
            AWS_SECRET_ACCESS_KEY: 'test',
            AWS_MAX_ATTEMPTS: '1',
          },
        },
      );
      // Assess
      expect(run.code).toBe(1);
      expect(JSON.parse(run.stdout)).toMatchObject({
        status: 'failed',
        logId: '5150',
        error: { code: 'storage_unavailable', retryable: true },
      });
    } finally {
      await proxy.close();
      await deleteTestBucket(s3, bucket);
    }
  });
});
