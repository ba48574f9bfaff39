import type { CliIo } from './io.js';

export interface CommandModule {
  run(args: string[], io: CliIo): Promise<number>;
}

export interface CommandSpec {
  summary: string;
  usage: string;
  load(): Promise<CommandModule>;
}

/** The command table. Commands are imported lazily so `logzip extract` loads no Redis or Fastify code. */
export const COMMANDS: Record<string, CommandSpec> = {
  extract: {
    summary: 'extract one archive to a folder or an S3 prefix',
    usage: 'logzip extract <src> --to <dest> [--log-id ID] [--force] [--json]',
    load: () => import('./commands/extract.js'),
  },
  upload: {
    summary: 'send an archive through the ingest API, retrying safely with one Idempotency-Key',
    usage: 'logzip upload <file.zip> --log-id ID [--json]',
    load: () => import('./commands/upload.js'),
  },
  reenqueue: {
    summary: 're-run archives by log ID (through the queue, or the Lambda function with --via lambda)',
    usage:
      'logzip reenqueue [logId...] [--key KEY] [--file ids.txt|-] [--all-failed] [--code CODE] [--since DURATION] [--via queue|lambda] [--force] [--dry-run] [--json]',
    load: () => import('./commands/reenqueue.js'),
  },
  route: {
    summary: 'show the desired and the actual route (S3 trigger), or switch it',
    usage: 'logzip route [lambda|queue] [--reason TEXT] [--json]',
    load: () => import('./commands/route.js'),
  },
  status: {
    summary: "a log ID's archive, manifest, failure record and queue job",
    usage: 'logzip status <logId> [--json]',
    load: () => import('./commands/status.js'),
  },
  failures: {
    summary: 'failed archives, newest first, with their error codes',
    usage: 'logzip failures [--code CODE] [--since DURATION] [--json]',
    load: () => import('./commands/failures.js'),
  },
  purge: {
    summary: 'remove the archive, extracted files and state of log IDs (privacy requests)',
    usage: 'logzip purge <logId...> [--dry-run] [--json]',
    load: () => import('./commands/purge.js'),
  },
  canary: {
    summary: 'send a known archive through the live path and check what comes out (then purge it)',
    usage: 'logzip canary [--timeout DURATION] [--json]',
    load: () => import('./commands/canary.js'),
  },
  sweep: {
    summary: 'enqueue archives nobody extracted (one run of the sweeper)',
    usage: 'logzip sweep [--dry-run] [--json]',
    load: () => import('./commands/sweep.js'),
  },
};
