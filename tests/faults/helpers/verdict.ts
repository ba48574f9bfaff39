/**
 * The verdict of a fault run, from an independent look at the store: it lists the bucket and reads
 * the objects itself, parses manifests and failure records itself, and recomputes every extracted
 * file's CRC32 with node:zlib. No logzip code is involved, so a bug in the engine cannot hide
 * itself from the check.
 *
 * - lost = uploaded − (archives whose manifest names their current source ∪ archives with a
 *   `failed` record for their key);
 * - half-done = folders under the output prefix with files but no manifest;
 * - inconsistent = a manifest whose folder is not exactly its entries (extra, missing, wrong size
 *   or CRC32), or whose files are not exactly the named source version's files (mixed content);
 * - failed-with-files = a `failed` archive that left files in its folder;
 * - open failures = an extracted archive whose failure record is still `retrying` or `failed`
 *   (shown to operators, alerted on, swept up by `--all-failed`, though nothing is wrong).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { UploadedArchive } from './corpus.js';

export interface StoreLayout {
  bucket: string;
  incomingPrefix: string;
  outputPrefix: string;
  statePrefix: string;
}

export const DEFAULT_LAYOUT = {
  incomingPrefix: 'incoming/',
  outputPrefix: 'extracted/',
  statePrefix: 'logzip-state/',
} as const;

interface ParsedManifest {
  logId: string;
  source: { bucket: string; key: string; etag: string; size: number };
  entries: Array<{ path: string; key: string; size: number; crc32: string }>;
  route?: string;
}

interface ParsedFailure {
  logId: string;
  state: string;
  code: string;
  source: { bucket: string; key: string };
  attempts: unknown[];
}

export interface Verdict {
  archives: number;
  extracted: string[];
  failed: string[];
  lost: string[];
  halfDone: string[];
  inconsistent: Array<{ logId: string; problem: string }>;
  failedWithFiles: string[];
  openFailures: string[];
  /** Earlier manifests kept in the history (one per replaced extraction). */
  historyManifests: number;
  /** Extracted files checked byte for byte. */
  filesChecked: number;
  /** Every failure record's attempts, summed (retries recorded by the routes themselves). */
  recordedAttempts: number;
  /** The failure records found, by log ID. */
  failures: Map<string, { state: string; code: string; attempts: number }>;
}

async function listAll(s3: S3Client, bucket: string, prefix: string) {
  const objects: Array<{ key: string; etag: string; size: number }> = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ...(token === undefined ? {} : { ContinuationToken: token }),
      }),
    );
    for (const o of page.Contents ?? []) {
      objects.push({ key: o.Key as string, etag: (o.ETag ?? '').replace(/"/g, ''), size: o.Size ?? 0 });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return objects;
}

async function readBytes(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(
    await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await fn(items[index] as T);
      }
    }),
  );
  return results;
}

function isManifest(value: unknown): value is ParsedManifest {
  const m = value as ParsedManifest;
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof m.logId === 'string' &&
    typeof m.source?.key === 'string' &&
    typeof m.source?.etag === 'string' &&
    Array.isArray(m.entries) &&
    m.entries.every(
      (e) =>
        typeof e.path === 'string' &&
        typeof e.key === 'string' &&
        typeof e.size === 'number' &&
        /^[0-9a-f]{8}$/.test(e.crc32),
    )
  );
}

function isFailure(value: unknown): value is ParsedFailure {
  const f = value as ParsedFailure;
  return (
    typeof f === 'object' &&
    f !== null &&
    typeof f.logId === 'string' &&
    typeof f.state === 'string' &&
    typeof f.source?.key === 'string' &&
    Array.isArray(f.attempts)
  );
}

async function readJsonObjects<T>(
  s3: S3Client,
  bucket: string,
  prefix: string,
  check: (value: unknown) => value is T,
): Promise<Map<string, T>> {
  const objects = (await listAll(s3, bucket, prefix)).filter((o) => o.key.endsWith('.json'));
  const parsed = await mapLimit(objects, 8, async (o) => {
    const value: unknown = JSON.parse((await readBytes(s3, bucket, o.key)).toString('utf8'));
    if (!check(value))
      throw new Error(`s3://${bucket}/${o.key} is not what it should be: ${JSON.stringify(value)}`);
    return [o.key.slice(prefix.length, -'.json'.length), value] as const;
  });
  return new Map(parsed);
}

const hex = (data: Buffer) => (crc32(data) >>> 0).toString(16).padStart(8, '0');

/** Looks at the store and judges every uploaded archive; see the module comment. */
export async function checkStore(
  s3: S3Client,
  layout: StoreLayout,
  uploaded: readonly UploadedArchive[],
): Promise<Verdict> {
  const { bucket, incomingPrefix, outputPrefix, statePrefix } = layout;
  const [incoming, manifests, failures, outputs, history] = await Promise.all([
    listAll(s3, bucket, incomingPrefix),
    readJsonObjects(s3, bucket, `${statePrefix}manifests/`, isManifest),
    readJsonObjects(s3, bucket, `${statePrefix}failures/`, isFailure),
    listAll(s3, bucket, outputPrefix),
    listAll(s3, bucket, `${statePrefix}history/`),
  ]);
  const ours = new Set(uploaded.map((a) => a.logId));
  const current = new Map(incoming.map((o) => [o.key, o]));
  const folders = new Map<string, Array<{ key: string; size: number }>>();
  for (const o of outputs) {
    const logId = o.key.slice(outputPrefix.length).split('/')[0] as string;
    folders.set(logId, [...(folders.get(logId) ?? []), o]);
  }

  const verdict: Verdict = {
    archives: uploaded.length,
    extracted: [],
    failed: [],
    lost: [],
    halfDone: [],
    inconsistent: [],
    failedWithFiles: [],
    openFailures: [],
    filesChecked: 0,
    historyManifests: history.filter((o) =>
      ours.has(o.key.slice(`${statePrefix}history/`.length).split('/')[0] as string),
    ).length,
    recordedAttempts: [...failures.values()].reduce((n, f) => n + f.attempts.length, 0),
    failures: new Map(
      [...failures].map(([logId, f]) => [
        logId,
        { state: f.state, code: f.code, attempts: f.attempts.length },
      ]),
    ),
  };

  for (const [logId, files] of folders) {
    if (files.length > 0 && !manifests.has(logId)) verdict.halfDone.push(logId);
  }

  await mapLimit(uploaded, 4, async (archive) => {
    const { logId, key } = archive;
    const object = current.get(key);
    const manifest = manifests.get(logId);
    const failure = failures.get(logId);
    const folder = folders.get(logId) ?? [];
    const forSource =
      object !== undefined &&
      manifest !== undefined &&
      manifest.source.bucket === bucket &&
      manifest.source.key === key &&
      manifest.source.etag === object.etag &&
      manifest.source.size === object.size;
    const failed = failure !== undefined && failure.state === 'failed' && failure.source.key === key;
    if (forSource) verdict.extracted.push(logId);
    else if (failed) verdict.failed.push(logId);
    else verdict.lost.push(logId);
    if (failed && !forSource && folder.length > 0) verdict.failedWithFiles.push(logId);
    if (forSource && failure !== undefined && failure.state !== 'resolved') verdict.openFailures.push(logId);
    if (manifest === undefined) return;

    // The folder must be exactly the manifest's entries, with their sizes and CRC32s...
    const problems: string[] = [];
    const wanted = new Map(manifest.entries.map((e) => [e.key, e]));
    const present = new Set(folder.map((o) => o.key));
    for (const k of present) if (!wanted.has(k)) problems.push(`extra file ${k}`);
    for (const k of wanted.keys()) if (!present.has(k)) problems.push(`missing file ${k}`);
    // ...and exactly the files of the archive version the manifest names (ground truth).
    const version = archive.versions.find((v) => v.etag === manifest.source.etag);
    if (version === undefined)
      problems.push(`manifest names an ETag never uploaded: ${manifest.source.etag}`);
    else {
      const paths = new Set(manifest.entries.map((e) => e.path));
      for (const p of version.files.keys()) if (!paths.has(p)) problems.push(`entry ${p} not in manifest`);
      for (const p of paths)
        if (!version.files.has(p)) problems.push(`manifest entry ${p} not in that archive`);
    }
    await mapLimit(manifest.entries, 4, async (entry) => {
      if (!present.has(entry.key)) return;
      const data = await readBytes(s3, bucket, entry.key);
      verdict.filesChecked += 1;
      if (entry.key !== `${outputPrefix}${logId}/${entry.path}`)
        problems.push(`${entry.path} written to ${entry.key}`);
      if (data.length !== entry.size)
        problems.push(`${entry.key}: ${data.length} bytes, manifest says ${entry.size}`);
      if (hex(data) !== entry.crc32)
        problems.push(`${entry.key}: CRC32 ${hex(data)}, manifest says ${entry.crc32}`);
      const truth = version?.files.get(entry.path);
      if (truth !== undefined && !truth.equals(data))
        problems.push(`${entry.key}: bytes differ from the archive's`);
    });
    if (problems.length > 0) verdict.inconsistent.push({ logId, problem: problems.slice(0, 5).join('; ') });
  });
  for (const list of [
    verdict.extracted,
    verdict.failed,
    verdict.lost,
    verdict.halfDone,
    verdict.failedWithFiles,
    verdict.openFailures,
  ]) {
    list.sort();
  }
  return verdict;
}

export interface FaultFigures {
  scenario: string;
  seed: number;
  rounds: number;
  archives: number;
  extracted: number;
  failed: number;
  /** Faults injected, by kind (S3 proxy kinds, plus `sigkill`, `redis-restart`, `duplicate-event`...). */
  faults: Record<string, number>;
  /** Extraction attempts beyond each archive's first (job retries, Lambda retries, stalled re-runs). */
  retries: number;
  /** Other counts worth printing (stalled re-runs, kills that hit a running job...). */
  detail: Record<string, number>;
  lost: number;
  halfDone: number;
  inconsistent: number;
  openFailures: number;
  /** Extractions that replaced an earlier one (a duplicate that ran again, a re-upload). */
  replaced: number;
  filesChecked: number;
  durationMs: number;
}

/** Sums one round's verdict into the scenario's figures. */
export function addVerdict(figures: FaultFigures, verdict: Verdict): void {
  figures.rounds += 1;
  figures.archives += verdict.archives;
  figures.extracted += verdict.extracted.length;
  figures.failed += verdict.failed.length;
  figures.lost += verdict.lost.length;
  figures.halfDone += verdict.halfDone.length;
  figures.inconsistent += verdict.inconsistent.length;
  figures.openFailures += verdict.openFailures.length;
  figures.replaced += verdict.historyManifests;
  figures.filesChecked += verdict.filesChecked;
}

export function addFaults(figures: FaultFigures, faults: Partial<Record<string, number>>): void {
  for (const [kind, n] of Object.entries(faults)) {
    if (n !== undefined && n > 0) figures.faults[kind] = (figures.faults[kind] ?? 0) + n;
  }
}

export function newFigures(scenario: string, seed: number): FaultFigures {
  return {
    scenario,
    seed,
    rounds: 0,
    archives: 0,
    extracted: 0,
    failed: 0,
    faults: {},
    retries: 0,
    detail: {},
    lost: 0,
    halfDone: 0,
    inconsistent: 0,
    openFailures: 0,
    replaced: 0,
    filesChecked: 0,
    durationMs: 0,
  };
}

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/faults/', import.meta.url));

/** Prints the figures (one block per scenario) and appends them to test-artifacts/faults/figures.jsonl. */
export function printFigures(figures: FaultFigures): void {
  const total = Object.values(figures.faults).reduce((a, b) => a + b, 0);
  const kinds = Object.entries(figures.faults)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const detail = Object.entries(figures.detail)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  console.log(
    `[fault suite] ${figures.scenario} (FAULT_SEED=${figures.seed}, ${figures.rounds} round(s), ${(figures.durationMs / 1000).toFixed(1)} s)\n` +
      `  archives ${figures.archives} (extracted ${figures.extracted}, failed ${figures.failed}), files checked ${figures.filesChecked}\n` +
      `  faults injected ${total}${kinds === '' ? '' : ` (${kinds})`}\n` +
      `  retries ${figures.retries}${detail === '' ? '' : ` (${detail})`}\n` +
      `  lost ${figures.lost}, half-done ${figures.halfDone}, inconsistent ${figures.inconsistent}, ` +
      `open failure records on extracted archives ${figures.openFailures}, replaced extractions ${figures.replaced}`,
  );
  try {
    mkdirSync(ARTIFACTS, { recursive: true });
    appendFileSync(
      `${ARTIFACTS}figures.jsonl`,
      `${JSON.stringify({ at: new Date().toISOString(), ...figures })}\n`,
    );
  } catch {
    // The figures are printed; the file is a convenience.
  }
}
