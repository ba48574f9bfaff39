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
      'logzip reenqueue [logId...] [--key KEY] [--file ids.txt|-] [--via queue|lambda] [--force] [--encoding NAME] [--dry-run] [--json]\n       logzip reenqueue --group FP | --all-failed [--code CODE] [--since DURATION] [--route ROUTE] [--reason TEXT] [--rate N] [--force] [--encoding NAME] [--follow] [--dry-run] [--json]',
    load: () => import('./commands/reenqueue.js'),
  },
  route: {
    summary: 'show the desired and the actual route (S3 trigger), switch it, or move between trigger modes',
    usage:
      'logzip route [lambda|queue] [--reason TEXT] [--json]\n       logzip route migrate --to direct|buffered --reason TEXT [--drain-timeout 15m] [--json]',
    load: () => import('./commands/route.js'),
  },
  status: {
    summary: "a log ID's archive, manifest, failure record and queue job",
    usage: 'logzip status [<logId>] [--json]',
    load: () => import('./commands/status.js'),
  },
  failures: {
    summary: 'failed archives, newest first, a page at a time, with their error codes; or their groups',
    usage:
      'logzip failures [--state failed|retrying|resolved|all] [--code CODE] [--route ROUTE] [--since DURATION] [--log-id PREFIX] [--limit N] [--cursor C] [--counts] [--json]\n       logzip failures --groups [--code CODE] [--limit N] [--cursor C] [--json]',
    load: () => import('./commands/failures.js'),
  },
  reindex: {
    summary: 'rebuild the failure index in Redis from the state objects (resumable), or check it for drift',
    usage: 'logzip reindex [--check] [--json]',
    load: () => import('./commands/reindex.js'),
  },
  purge: {
    summary: 'remove the archive, extracted files and state of log IDs (privacy requests)',
    usage:
      'logzip purge <logId...> [--dry-run] [--json]\n       logzip purge --group FP | --all-failed [--code CODE] [--since DURATION] [--route ROUTE] [--reason TEXT] [--rate N] [--follow] [--dry-run] [--json]',
    load: () => import('./commands/purge.js'),
  },
  ops: {
    summary: 'stored bulk operations: list them, show one (--follow), pause, resume or abort',
    usage: 'logzip ops list|show|pause|resume|abort [id] [--reason TEXT] [--follow] [--limit N] [--json]',
    load: () => import('./commands/ops.js'),
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
