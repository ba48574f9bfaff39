import { randomUUID } from 'node:crypto';
import { formatConfigErrors, parseLogId, readConfig, shardedArchiveKey } from '@logzip/core';
import type { CanaryDelivery, CanaryObservation, CanaryPorts } from '@logzip/core/canary';
import type { Backend } from './backend.js';
import { EXIT, ExitError } from './exit.js';

function readLogId(key: string, pattern: RegExp): string | undefined {
  try {
    return parseLogId(key, pattern);
  } catch {
    return undefined;
  }
}

/** How the canary archive enters: the ingest API, or a PUT straight into the incoming bucket. */
export type CanarySender =
  | { kind: 'ingest'; baseUrl: URL; token: string }
  | { kind: 'direct'; env: Record<string, string | undefined> };

/**
 * The ingest API when LOGZIP_ADMIN_URL and LOGZIP_INGEST_TOKEN are both set (what uploaders use);
 * otherwise a direct PUT with the storage configuration (what an upload server writing to S3 does).
 */
export function chooseCanarySender(env: Record<string, string | undefined>): CanarySender {
  const url = env['LOGZIP_ADMIN_URL'] ?? '';
  const token = env['LOGZIP_INGEST_TOKEN'] ?? '';
  if (url !== '' && token !== '') {
    if (!URL.canParse(url)) throw new ExitError(EXIT.config, `LOGZIP_ADMIN_URL: "${url}" is not a URL`);
    return { kind: 'ingest', baseUrl: new URL(url.endsWith('/') ? url : `${url}/`), token };
  }
  return { kind: 'direct', env };
}

async function sendThroughIngest(
  sender: Extract<CanarySender, { kind: 'ingest' }>,
  logId: string,
  zip: Buffer,
): Promise<CanaryDelivery> {
  const response = await fetch(new URL(`api/archives/${encodeURIComponent(logId)}`, sender.baseUrl), {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${sender.token}`,
      'content-type': 'application/zip',
      'idempotency-key': randomUUID(),
      accept: 'application/json',
      'user-agent': 'logzip-canary',
    },
    body: zip,
    signal: AbortSignal.timeout(60_000),
  });
  const body = (await response.json().catch(() => ({}))) as {
    key?: string;
    bucket?: string;
    route?: string;
    error?: { code?: string; message?: string };
  };
  if (response.status === 401 || response.status === 403) {
    throw new ExitError(
      EXIT.config,
      `the ingest API refused LOGZIP_INGEST_TOKEN (${response.status})`,
      'unauthorized',
    );
  }
  if (!response.ok) {
    throw new Error(
      `the ingest API answered ${response.status} ${body.error?.code ?? ''}: ${body.error?.message ?? 'no message'}`,
    );
  }
  return {
    bucket: body.bucket ?? '',
    key: body.key ?? '',
    via: 'ingest',
    ...(body.route === undefined ? {} : { route: body.route }),
  };
}

/** The storage of the direct path, opened once per run (LOGZIP_STORAGE_DIR or S3). */
async function openDirectStorage(env: Record<string, string | undefined>) {
  const { config, errors } = readConfig(env, { required: ['LOGZIP_INCOMING_BUCKET'] });
  if (config === undefined) {
    throw new ExitError(
      EXIT.config,
      `logzip canary sends through the ingest API (LOGZIP_ADMIN_URL + LOGZIP_INGEST_TOKEN) or straight to storage, which needs:\n${formatConfigErrors(errors)}`,
    );
  }
  const { createStorage } = await import('@logzip/core/runtime');
  return { config, storage: createStorage(config) };
}

function describeWaitingJob(logId: string, job: { state: string; createdAt: string | null }): string {
  if (job.state === 'active')
    return `a worker started extracting it but did not finish in time (logzip status ${logId})`;
  const since = job.createdAt === null ? '' : ` since ${job.createdAt}`;
  return `its queue job has been ${job.state}${since} and no worker took it: is a worker running? (systemctl status logzip-worker; pnpm start runs one)`;
}

/**
 * Why no manifest came: the log ID's queue job when it has one (no worker), else the route and
 * the trigger as AWS (or the local emulator) reports them.
 */
async function diagnose(backend: Backend, logId: string, delivery: CanaryDelivery): Promise<string> {
  const status = await backend.archiveStatus(logId).catch(() => undefined);
  if (status?.queue && ['waiting', 'prioritized', 'delayed', 'active'].includes(status.queue.state)) {
    return describeWaitingJob(logId, status.queue);
  }
  const route = await backend.routeStatus();
  const drift = route.drift.detected ? ` (${route.drift.messages.join('; ')})` : '';
  if (route.effective === 'lambda') {
    return `the S3 trigger is on (route lambda) but nothing extracted the archive${drift}: check the function (locally the trigger emulator) and its logs`;
  }
  if (route.effective === null) {
    return `the trigger state could not be read (${route.actualError ?? 'unknown'}) and no job was queued`;
  }
  const how =
    delivery.via === 'direct'
      ? 'a direct PUT reaches the queue only through the sweeper (every LOGZIP_SWEEP_INTERVAL)'
      : 'the ingest API did not queue it';
  return `nothing consumes it: the route is queue (the S3 trigger is off${route.desired === 'queue' ? '' : `, desired ${route.desired ?? 'unset'}`})${drift} and ${how}. Switch with \`logzip route lambda\`, or send through the ingest API (LOGZIP_ADMIN_URL + LOGZIP_INGEST_TOKEN)`;
}

/** The canary's ports for the CLI: send as chosen, observe and clean up through the backend. */
export async function createCliCanaryPorts(backend: Backend, sender: CanarySender): Promise<CanaryPorts> {
  const direct = sender.kind === 'direct' ? await openDirectStorage(sender.env) : undefined;
  const ports: CanaryPorts = {
    async send(logId, zip) {
      if (sender.kind === 'ingest') return sendThroughIngest(sender, logId, zip);
      const { config, storage } = direct as NonNullable<typeof direct>;
      const key = shardedArchiveKey(storage.incoming.prefix, logId);
      if (readLogId(key, config.logIdPattern) !== logId) {
        throw new ExitError(
          EXIT.config,
          `LOGZIP_LOG_ID_PATTERN does not read the log ID ${logId} from ${key}`,
        );
      }
      await storage.store.put(storage.incoming.bucket, key, zip, {
        size: zip.length,
        contentType: 'application/zip',
      });
      return { bucket: storage.incoming.bucket, key, via: 'direct' };
    },
    async observe(logId): Promise<CanaryObservation> {
      const status = await backend.archiveStatus(logId);
      return {
        ...(status?.manifest
          ? {
              manifest: {
                entries: status.manifest.entries,
                ...(status.manifest.route ? { route: status.manifest.route } : {}),
              },
            }
          : {}),
        ...(status?.failure ? { failure: status.failure } : {}),
      };
    },
    diagnose: (logId, delivery) => diagnose(backend, logId, delivery),
    async cleanup(logId) {
      const result = await backend.purge([logId], false, () => {});
      const item = result.results[0];
      if (item === undefined || !['purged', 'not_found'].includes(item.outcome))
        throw new Error(`purge: ${item?.outcome ?? 'no result'} ${item?.detail ?? ''}`.trim());
    },
    ...(direct === undefined
      ? {}
      : { readFile: (key: string) => direct.storage.store.get(direct.storage.output.bucket, key) }),
  };
  return ports;
}
