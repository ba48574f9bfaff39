import { setTimeout as delay } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import { ERROR_CODES } from '../errors.js';
import { buildCanaryArchive, type CanaryEntry } from './archive.js';
import { compareCanaryEntries, type ObservedEntry } from './verify.js';

/** What the canary sees of its log ID while it waits. */
export interface CanaryObservation {
  manifest?: { entries: Array<ObservedEntry & { key: string }>; route?: string };
  failure?: { state: 'retrying' | 'failed' | 'resolved'; code: string; message: string };
}

/** Where the canary archive went. */
export interface CanaryDelivery {
  bucket: string;
  key: string;
  /** `ingest` (the admin's ingest API) or `direct` (a PUT to the incoming bucket). */
  via: string;
  /** The route the ingest API (or the worker's own dispatch) chose, when known. */
  route?: string;
}

/**
 * The canary's reach into a deployment. The CLI and the worker implement these differently (admin
 * API or storage); the run itself is the same.
 */
export interface CanaryPorts {
  send(logId: string, zip: Buffer): Promise<CanaryDelivery>;
  observe(logId: string): Promise<CanaryObservation>;
  /** One sentence on why nothing consumed the archive (route, trigger, queue job, workers). */
  diagnose(logId: string, delivery: CanaryDelivery): Promise<string>;
  /** Removes the archive, its files and its state. */
  cleanup(logId: string): Promise<void>;
  /** The extracted object's bytes, when the caller can read storage: checked too. */
  readFile?(key: string): Promise<Buffer>;
  sleep?(ms: number): Promise<void>;
  now?(): number;
}

export interface CanaryOptions {
  logId: string;
  /** How long to wait for the manifest. */
  timeoutMs: number;
  pollMs?: number;
  /** Stops the wait early (a worker shutting down); the run still cleans up. */
  signal?: AbortSignal;
}

/**
 * `ok`: the manifest came and every file is right; `wrong_content`: files differ, or the pipeline
 * rejected the valid archive; `failed`: it failed in a way worth retrying; `timeout`: no manifest
 * in time (the message says why, as far as it can be told).
 */
export type CanaryStatus = 'ok' | 'wrong_content' | 'failed' | 'timeout';

export interface CanaryResult {
  status: CanaryStatus;
  logId: string;
  bucket?: string;
  key?: string;
  via?: string;
  route?: string;
  entries: CanaryEntry[];
  problems: string[];
  message: string;
  durationMs: number;
  cleanedUp: boolean;
}

const DEFAULT_POLL_MS = 500;

async function checkStoredFiles(
  ports: CanaryPorts,
  expected: readonly CanaryEntry[],
  manifest: NonNullable<CanaryObservation['manifest']>,
): Promise<string[]> {
  if (ports.readFile === undefined) return [];
  const problems: string[] = [];
  for (const entry of manifest.entries) {
    const want = expected.find((e) => e.path === entry.path);
    if (want === undefined) continue;
    const bytes = await ports.readFile(entry.key);
    const crc = (crc32(bytes) >>> 0).toString(16).padStart(8, '0');
    if (bytes.length !== want.size || crc !== want.crc32)
      problems.push(`${entry.path}: the stored object has ${bytes.length} bytes, CRC32 ${crc}`);
  }
  return problems;
}

/**
 * Sends the canary archive through the live path, waits for its manifest, checks every file's
 * size and CRC32 (and the stored bytes when storage is readable), and removes everything it
 * created, whatever the outcome.
 *
 * @example
 * const result = await runCanary(ports, { logId: makeCanaryLogId(new Date(), hex), timeoutMs: 120_000 });
 */
export async function runCanary(ports: CanaryPorts, options: CanaryOptions): Promise<CanaryResult> {
  const now = ports.now ?? Date.now;
  // An abort ends the sleep early (and the loop below sees it); the timer's listener goes with it.
  const sleep =
    ports.sleep ??
    ((ms: number) =>
      delay(ms, undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined));
  const started = now();
  const { zip, entries } = buildCanaryArchive(options.logId);
  const base = { logId: options.logId, entries };
  const finish = async (
    partial: Omit<CanaryResult, 'logId' | 'entries' | 'durationMs' | 'cleanedUp'>,
    sent: boolean,
  ): Promise<CanaryResult> => {
    const durationMs = now() - started;
    let cleanedUp = false;
    let message = partial.message;
    if (sent) {
      try {
        await ports.cleanup(options.logId);
        cleanedUp = true;
      } catch (error) {
        message += `; cleaning up failed (run \`logzip purge ${options.logId}\`): ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    return { ...base, ...partial, message, durationMs, cleanedUp };
  };

  let delivery: CanaryDelivery;
  try {
    delivery = await ports.send(options.logId, zip);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return finish(
      { status: 'failed', problems: [], message: `the canary archive could not be sent: ${reason}` },
      false,
    );
  }
  const where = {
    ...(delivery.bucket === '' ? {} : { bucket: delivery.bucket }),
    key: delivery.key,
    via: delivery.via,
    ...(delivery.route === undefined ? {} : { route: delivery.route }),
  };

  const deadline = started + options.timeoutMs;
  let observation: CanaryObservation = {};
  for (;;) {
    observation = await ports.observe(options.logId).catch(() => observation);
    const { manifest, failure } = observation;
    if (manifest !== undefined) {
      const problems = [
        ...compareCanaryEntries(entries, manifest.entries),
        ...(await checkStoredFiles(ports, entries, manifest)),
      ];
      const route = manifest.route ?? delivery.route;
      const took = ((now() - started) / 1000).toFixed(1);
      return finish(
        problems.length === 0
          ? {
              ...where,
              ...(route === undefined ? {} : { route }),
              status: 'ok',
              problems,
              message: `the canary archive came back complete and correct in ${took} s (${entries.length} files${route === undefined ? '' : `, route ${route}`})`,
            }
          : {
              ...where,
              status: 'wrong_content',
              problems,
              message: `the canary archive was extracted WRONG: ${problems.join('; ')}`,
            },
        true,
      );
    }
    if (failure?.state === 'failed') {
      // A valid archive rejected for good is wrong content; a retryable failure that ran out of attempts is not.
      const permanent = !(ERROR_CODES[failure.code as keyof typeof ERROR_CODES]?.retryable ?? true);
      return finish(
        {
          ...where,
          status: permanent ? 'wrong_content' : 'failed',
          problems: [`${failure.code}: ${failure.message}`],
          message: permanent
            ? `the pipeline rejected the valid canary archive (${failure.code}): ${failure.message}`
            : `the canary archive failed (${failure.code}, worth retrying): ${failure.message}`,
        },
        true,
      );
    }
    if (options.signal?.aborted) {
      return finish(
        {
          ...where,
          status: 'failed',
          problems: [],
          message: 'the canary run was stopped before its manifest came',
        },
        true,
      );
    }
    if (now() >= deadline) break;
    await sleep(Math.min(options.pollMs ?? DEFAULT_POLL_MS, Math.max(0, deadline - now())));
  }

  const why = await ports
    .diagnose(options.logId, delivery)
    .catch((error: unknown) => `(no diagnosis: ${error instanceof Error ? error.message : String(error)})`);
  const retrying =
    observation.failure?.state === 'retrying'
      ? ` It is being retried after ${observation.failure.code}.`
      : '';
  return finish(
    {
      ...where,
      status: 'timeout',
      problems: [],
      message: `no manifest for the canary archive after ${Math.round(options.timeoutMs / 1000)} s: ${why}${retrying}`,
    },
    true,
  );
}
