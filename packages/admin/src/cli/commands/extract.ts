import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createStateStore,
  extractAndRecord,
  formatConfigErrors,
  LOG_ID_RE,
  type LogzipConfig,
  type ObjectStore,
  parseLogId,
  readConfig,
  type StateStore,
} from '@logzip/core';
import { createFsObjectStore, createLocalFileSource } from '@logzip/core/fs';
import { createLogger } from '@logzip/core/logger';

import { usageOnError } from '../args.js';
import { EXIT, usageError } from '../exit.js';
import { type CliIo, createProgressBar, printJson } from '../io.js';

interface Location {
  store: ObjectStore;
  bucket: string;
  /** Key of the archive (source) or output prefix (destination). */
  path: string;
}

const S3_URL = /^s3:\/\/([^/]+)\/(.*)$/;

async function s3Store(config: LogzipConfig): Promise<ObjectStore> {
  const { createS3Client, createS3ObjectStore } = await import('@logzip/core/s3');
  return createS3ObjectStore({ client: createS3Client(config.env) });
}

async function openSource(src: string, config: LogzipConfig, cwd: string): Promise<Location> {
  const s3 = S3_URL.exec(src);
  if (s3) {
    if (!s3[2]) throw usageError(`"${src}" names no key`);
    return { store: await s3Store(config), bucket: s3[1]!, path: s3[2] };
  }
  const local = createLocalFileSource(resolve(cwd, src));
  return { store: local.store, bucket: local.bucket, path: local.key };
}

async function openDestination(dest: string, config: LogzipConfig, cwd: string): Promise<Location> {
  const s3 = S3_URL.exec(dest);
  if (s3) {
    const prefix = s3[2] === '' || s3[2]!.endsWith('/') ? s3[2]! : `${s3[2]}/`;
    return { store: await s3Store(config), bucket: s3[1]!, path: prefix };
  }
  // A local folder is a bucket of the filesystem adapter: files in <dir>/<logId>/, state in <dir>/logzip-state/.
  const dir = resolve(cwd, dest);
  return { store: createFsObjectStore({ rootDir: dirname(dir) }), bucket: basename(dir), path: '' };
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = usageOnError(() =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        to: { type: 'string' },
        'log-id': { type: 'string' },
        force: { type: 'boolean' },
        json: { type: 'boolean' },
      },
    }),
  );
  const json = values.json === true;
  if (positionals.length !== 1) throw usageError('give exactly one source archive');
  if (values.to === undefined) throw usageError('--to <dest> is required');
  if (values['log-id'] !== undefined && !LOG_ID_RE.test(values['log-id'])) {
    throw usageError('--log-id must be 1-64 characters of [0-9A-Za-z_-]');
  }

  const { config, errors } = readConfig(io.env);
  if (config === undefined) {
    io.stderr.write(`${formatConfigErrors(errors)}\n`);
    return EXIT.config;
  }
  const logger = createLogger({ name: 'logzip-cli', level: io.env.LOG_LEVEL ?? 'error', fd: 2 });
  const source = await openSource(positionals[0]!, config, io.cwd);
  const destination = await openDestination(values.to, config, io.cwd);
  const isLocalDest = !S3_URL.test(values.to);
  const statePrefix = isLocalDest ? 'logzip-state/' : config.statePrefix;
  if (!isLocalDest && statePrefix.startsWith(destination.path) && destination.path !== '') {
    throw usageError(
      `the destination prefix "${destination.path}" contains the state prefix "${statePrefix}"`,
    );
  }

  let logId: string;
  try {
    logId = values['log-id'] ?? parseLogId(source.path, config.logIdPattern);
  } catch (error) {
    const message = `${(error as Error).message}; pass --log-id`;
    if (json)
      printJson(io, {
        status: 'rejected',
        logId: null,
        error: { code: 'invalid_key', message, retryable: false },
      });
    else io.stderr.write(`rejected: invalid_key: ${message}\n`);
    return EXIT.rejected;
  }
  if (
    `${destination.path}${logId}/`.startsWith(statePrefix) ||
    statePrefix.startsWith(`${destination.path}${logId}/`)
  ) {
    throw usageError(`log ID "${logId}" would write into the state folder "${statePrefix}"`);
  }

  const state: StateStore = createStateStore({
    store: destination.store,
    bucket: destination.bucket,
    prefix: statePrefix,
  });
  const progress = createProgressBar(io, `extracting ${logId}`, { unit: 'bytes' });
  const outcome = await extractAndRecord(
    { source: source.store, output: destination.store, state, logger },
    {
      logId,
      source: { bucket: source.bucket, key: source.path },
      output: { bucket: destination.bucket, prefix: destination.path },
      limits: config.limits,
      fallbackEncoding: config.fallbackEncoding,
      force: values.force === true,
      onProgress: (p) => {
        if (p.entriesTotal >= 500 || p.bytesTotal >= 64 * 2 ** 20) progress.update(p.bytesDone, p.bytesTotal);
      },
    },
    { route: 'cli', attempt: 1, maxAttempts: 1 },
  );
  progress.end();

  if (outcome.ok) {
    const { result } = outcome;
    if (json) {
      printJson(io, {
        status: result.status,
        logId,
        source: result.source,
        entries: result.entries.map(({ path, size, crc32 }) => ({ path, size, crc32 })),
        bytes: result.bytes,
        durationMs: result.durationMs,
      });
    } else {
      const where = isLocalDest
        ? resolve(io.cwd, values.to, logId)
        : `s3://${destination.bucket}/${destination.path}${logId}/`;
      io.stdout.write(
        result.status === 'already_extracted'
          ? `already extracted: ${result.entries.length} files in ${where} (use --force to re-extract)\n`
          : `extracted ${result.entries.length} files, ${result.bytes} bytes to ${where} in ${result.durationMs} ms\n`,
      );
    }
    return EXIT.ok;
  }

  const { error } = outcome;
  const status = error.retryable ? 'failed' : 'rejected';
  const message = error.entry === undefined ? error.message : `${error.message} (entry "${error.entry}")`;
  if (json) {
    printJson(io, { status, logId, error: { code: error.code, message, retryable: error.retryable } });
  } else {
    io.stderr.write(`${status}: ${error.code}: ${message}\n`);
  }
  if (error.code === 'internal') logger.error({ err: error }, 'internal error');
  return error.retryable ? EXIT.failed : EXIT.rejected;
}
