/**
 * Runs one fuzzed archive through `extractArchive` on a folder store and checks the invariants
 * from the disk itself (not from what the engine reports):
 *
 * - it throws nothing but a LogzipError, never `internal`, never `timeout` (a run that needs the
 *   deadline hung), never a retryable code: a malformed archive maps to a precise archive code;
 * - `extracted`: the files under `<output prefix><logId>/` are exactly the manifest's, byte for
 *   byte (size and CRC32; the bytes themselves when the case knows them), and the manifest is the
 *   only state written;
 * - an archive error: nothing under the folder (temp files included) and no state at all;
 * - in every case nothing is written anywhere else in the temp dir, and the source is untouched.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { createFsObjectStore } from '../../src/adapters/fs/index.js';
import type { Limits } from '../../src/config.js';
import { crc32Hex, extractArchive } from '../../src/engine/extract.js';
import type { ExtractResult } from '../../src/engine/types.js';
import { type ErrorCode, LogzipError } from '../../src/errors.js';
import type { ObjectStore } from '../../src/ports/object-store.js';
import { createStateStore } from '../../src/state/object-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import type { Expectation, Outcome } from './arbitraries.js';

/** Tight limits: a fuzzed archive never needs more, and a bomb is stopped early. */
export const FUZZ_LIMITS: Limits = {
  maxEntries: 1000,
  maxTotalBytes: 64 * 2 ** 20,
  maxEntryBytes: 16 * 2 ** 20,
  maxRatio: 1000,
};

/** Codes that describe a defect of the archive itself (what a fuzzed archive may be rejected with). */
export const ARCHIVE_DEFECT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'not_zip',
  'corrupt',
  'crc_mismatch',
  'encrypted',
  'unsupported_method',
  'limits_exceeded',
  'unsafe_path',
  'duplicate_entry',
  'name_mismatch',
  'undecodable_name',
  'key_too_long',
]);

const SOURCE_BUCKET = 'in';
const OUTPUT_BUCKET = 'out';
const OUTPUT_PREFIX = 'extracted/';
const STATE_PREFIX = 'logzip-state/';

/** Where failing inputs are saved (gitignored). */
export const ARTIFACT_DIR = fileURLToPath(new URL('../../../../test-artifacts/fuzz/', import.meta.url));

class HungError extends Error {
  constructor() {
    super('ignored the abort signal');
    this.name = 'HungError';
  }
}

/** An invariant was broken. `input` is the archive. */
export class FuzzFailure extends Error {
  readonly input: Buffer;

  constructor(reason: string, input: Buffer, context: string, cause?: unknown) {
    const shown =
      input.length <= 2048
        ? input.toString('hex')
        : `${input.subarray(0, 512).toString('hex')}… (${input.length} bytes, see the saved file)`;
    super(
      `${reason}\n  case: ${context}\n  input (${input.length} bytes): ${shown}`,
      cause === undefined ? undefined : { cause },
    );
    this.name = 'FuzzFailure';
    this.input = input;
  }

  /** Writes the input to test-artifacts/fuzz/<sha256 prefix>.zip; returns the path (undefined if it cannot). */
  save(): string | undefined {
    try {
      mkdirSync(ARTIFACT_DIR, { recursive: true });
      const name = `${createHash('sha256').update(this.input).digest('hex').slice(0, 16)}.zip`;
      const path = join(ARTIFACT_DIR, name);
      writeFileSync(path, this.input);
      return path;
    } catch {
      return undefined;
    }
  }
}

/** The FuzzFailure behind a fast-check report, if there is one. */
export function findFuzzFailure(error: unknown): FuzzFailure | undefined {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    if (current instanceof FuzzFailure) return current;
    current = current.cause;
  }
  return undefined;
}

export interface FuzzHarnessOptions {
  /** Label of the temp dir. */
  label: string;
  /** Per-case deadline: the run is aborted through its signal (default 5 s). */
  timeoutMs?: number;
  limits?: Limits;
}

export interface RunOptions {
  /**
   * An archive extracted to the same log ID first (it must extract). The fuzzed one then replaces
   * it: on success the old manifest is in the history; on failure the folder holds either the old
   * files with the old manifest (rejected before anything changed) or nothing and no manifest.
   */
  previous?: Buffer;
  /** Limits for this case (default: the harness's). */
  limits?: Limits;
  /** Parallel writes (the engine's default when unset). */
  concurrency?: number;
}

export interface FuzzHarness {
  /** Runs one archive; throws FuzzFailure when an invariant is broken. */
  run(zip: Buffer, expect?: Expectation, context?: string, options?: RunOptions): Promise<Outcome>;
  /** The temp dir (removed by close()). */
  readonly dir: string;
  /** Outcomes so far, by code. */
  readonly outcomes: ReadonlyMap<Outcome, number>;
  readonly cases: number;
  /** "N cases: extracted a, corrupt b, …" */
  summary(): string;
  close(): Promise<void>;
}

interface DiskFile {
  /** Path relative to the temp dir, with '/'. */
  path: string;
  kind: 'file' | 'symlink' | 'other';
}

/** Every non-directory under `dir`, found with lstat (symlinks are not followed). */
function walk(dir: string, base: string, out: DiskFile[]): DiskFile[] {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const stats = lstatSync(full);
    if (stats.isDirectory()) {
      walk(full, base, out);
      continue;
    }
    const kind = stats.isFile() ? 'file' : stats.isSymbolicLink() ? 'symlink' : 'other';
    out.push({ path: relative(base, full).split(sep).join('/'), kind });
  }
  return out;
}

type Manifest = ExtractResult['manifest'];

/**
 * One temp dir per harness (per test file): `<tmp>/root/<bucket>/<key>` holds the folder store.
 * Each case gets a fresh log ID; after it the output bucket and the sources are removed, so the
 * check of the whole temp dir stays cheap.
 */
export function createFuzzHarness(options: FuzzHarnessOptions): FuzzHarness {
  const dir = mkdtempSync(join(tmpdir(), `logzip-fuzz-${options.label}-`));
  const root = join(dir, 'root');
  mkdirSync(root);
  // A case that crashes the process (an unhandled 'error' event) never reaches close().
  const removeOnExit = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeOnExit);
  const store: ObjectStore = createFsObjectStore({ rootDir: root });
  const state: StateStore = createStateStore({ store, bucket: OUTPUT_BUCKET, prefix: STATE_PREFIX });
  const limits = options.limits ?? FUZZ_LIMITS;
  const timeoutMs = options.timeoutMs ?? 5000;
  const outcomes = new Map<Outcome, number>();
  let cases = 0;

  /** extractArchive under a deadline (through its signal) and a hard bound for a run that ignores it. */
  const extract = async (
    logId: string,
    key: string,
    runOptions: RunOptions = {},
  ): Promise<{ result?: ExtractResult; thrown?: unknown; ms: number }> => {
    const controller = new AbortController();
    const deadline = setTimeout(() => controller.abort(new Error('fuzz case deadline')), timeoutMs);
    let hardTimer: NodeJS.Timeout | undefined;
    const hard = new Promise<never>((_, reject) => {
      hardTimer = setTimeout(() => reject(new HungError()), timeoutMs + 5000);
    });
    const started = Date.now();
    try {
      const result = await Promise.race([
        extractArchive(
          { source: store, output: store, state },
          {
            logId,
            source: { bucket: SOURCE_BUCKET, key },
            output: { bucket: OUTPUT_BUCKET, prefix: OUTPUT_PREFIX },
            limits: runOptions.limits ?? limits,
            fallbackEncoding: 'cp932',
            signal: controller.signal,
            ...(runOptions.concurrency === undefined ? {} : { concurrency: runOptions.concurrency }),
          },
        ),
        hard,
      ]);
      return { result, ms: Date.now() - started };
    } catch (thrown) {
      return { thrown, ms: Date.now() - started };
    } finally {
      clearTimeout(deadline);
      clearTimeout(hardTimer);
    }
  };

  const run = async (
    zip: Buffer,
    expect: Expectation = {},
    context = '',
    runOptions: RunOptions = {},
  ): Promise<Outcome> => {
    cases += 1;
    const logId = `f${cases}`;
    const sourceKey = `incoming/${logId}.zip`;
    const previousKey = `incoming/${logId}-previous.zip`;
    const fail = (reason: string, cause?: unknown): never => {
      throw new FuzzFailure(
        reason,
        zip,
        `${context}${runOptions.previous ? ' (replacing an extraction)' : ''}`,
        cause,
      );
    };
    let previous: Manifest | undefined;
    if (runOptions.previous !== undefined) {
      await store.put(SOURCE_BUCKET, previousKey, runOptions.previous);
      const first = await extract(logId, previousKey);
      if (first.result === undefined) fail(`the previous archive did not extract: ${String(first.thrown)}`);
      previous = first.result!.manifest;
    }
    await store.put(SOURCE_BUCKET, sourceKey, zip);
    const { result, thrown, ms } = await extract(logId, sourceKey, runOptions);

    const error = thrown instanceof LogzipError ? thrown : undefined;
    const outcome: Outcome = thrown === undefined ? 'extracted' : (error?.code ?? 'internal');
    try {
      // The disk, walked independently of the store.
      const folder = `root/${OUTPUT_BUCKET}/${OUTPUT_PREFIX}${logId}/`;
      const manifestPath = `root/${OUTPUT_BUCKET}/${STATE_PREFIX}manifests/${logId}.json`;
      const historyFolder = `root/${OUTPUT_BUCKET}/${STATE_PREFIX}history/${logId}/`;
      const sources = [`root/${SOURCE_BUCKET}/${sourceKey}`, `root/${SOURCE_BUCKET}/${previousKey}`];
      const onDisk = walk(dir, dir, []);
      const strange = onDisk.filter((f) => f.kind !== 'file');
      if (strange.length > 0)
        fail(`not regular files: ${strange.map((f) => `${f.path} (${f.kind})`).join(', ')}`);
      const outside = onDisk.filter(
        (f) =>
          !sources.includes(f.path) &&
          f.path !== manifestPath &&
          !f.path.startsWith(historyFolder) &&
          !f.path.startsWith(folder),
      );
      if (outside.length > 0)
        fail(`wrote outside the log ID's folder: ${outside.map((f) => f.path).join(', ')}`);
      if (!readFileSync(join(dir, sources[0]!)).equals(zip)) fail('the source archive changed');
      const extracted = onDisk
        .filter((f) => f.path.startsWith(folder))
        .map((f) => f.path.slice(folder.length));
      const history = onDisk.filter((f) => f.path.startsWith(historyFolder));
      const current = onDisk.some((f) => f.path === manifestPath)
        ? (JSON.parse(readFileSync(join(dir, manifestPath), 'utf8')) as Manifest)
        : undefined;

      /** The folder holds exactly the manifest's files, with its sizes and CRCs. */
      const matchFolder = (manifest: Manifest, what: string) => {
        const listed = manifest.entries.map((e) => e.path).sort();
        const actual = [...extracted].sort();
        if (JSON.stringify(listed) !== JSON.stringify(actual)) {
          fail(
            `${what}: files on disk ${JSON.stringify(actual)} differ from the manifest's ${JSON.stringify(listed)}`,
          );
        }
        for (const entry of manifest.entries) {
          if (entry.key !== `${OUTPUT_PREFIX}${logId}/${entry.path}`)
            fail(`manifest key ${entry.key} is not its path's`);
          const bytes = readFileSync(join(dir, folder, ...entry.path.split('/')));
          if (bytes.length !== entry.size || crc32Hex(crc32(bytes)) !== entry.crc32) {
            fail(
              `${what}: ${entry.path} has ${bytes.length} bytes with CRC ${crc32Hex(crc32(bytes))} on disk, the manifest says ${entry.size} / ${entry.crc32}`,
            );
          }
        }
      };

      if (result === undefined) {
        if (current === undefined) {
          if (extracted.length > 0)
            fail(`${outcome}, but files remain in the folder: ${extracted.join(', ')}`);
        } else {
          // Rejected before anything changed: the previous extraction must be intact.
          if (previous === undefined) fail(`${outcome}, but a manifest was written`);
          if (JSON.stringify(current) !== JSON.stringify(previous))
            fail(`${outcome}, but the manifest changed`);
          matchFolder(current!, `${outcome} with the previous manifest kept`);
        }
        if (previous === undefined && history.length > 0) fail(`${outcome}, but history was written`);
      } else {
        if (result.status !== 'extracted') fail(`a fresh log ID ended ${result.status}`);
        if (current === undefined) fail('extracted without a manifest on disk');
        if (JSON.stringify(current) !== JSON.stringify(result.manifest))
          fail('the manifest on disk differs from the result');
        matchFolder(current!, 'extracted');
        if (previous !== undefined && history.length !== 1) {
          fail(
            `replaced an extraction, but the history holds ${history.length} manifests (expected the previous one)`,
          );
        }
        if (expect.files !== undefined) {
          const want = expect.files.map((f) => f.path).sort();
          const listed = current!.entries.map((e) => e.path).sort();
          if (JSON.stringify(want) !== JSON.stringify(listed)) {
            fail(`extracted ${JSON.stringify(listed)}, the archive holds ${JSON.stringify(want)}`);
          }
          for (const f of expect.files) {
            const bytes = readFileSync(join(dir, folder, ...f.path.split('/')));
            if (!bytes.equals(f.data)) fail(`${f.path}: extracted bytes differ from the archive's`);
          }
        }
      }

      if (thrown !== undefined && !(thrown instanceof LogzipError)) {
        if (thrown instanceof HungError) {
          fail(`hung: no result ${timeoutMs + 5000} ms after the start, the abort signal was ignored`);
        }
        fail(`threw a non-LogzipError: ${String((thrown as Error)?.stack ?? thrown)}`, thrown);
      }
      if (error !== undefined) {
        const detail = `${error.code}: ${error.message}${error.entry === undefined ? '' : ` (entry ${JSON.stringify(error.entry)})`}`;
        if (error.code === 'internal') {
          fail(
            `internal error (malformed input must map to a precise code): ${detail}\n${error.stack}`,
            error,
          );
        }
        if (error.code === 'timeout')
          fail(`hung: aborted by the ${timeoutMs} ms deadline after ${ms} ms: ${detail}`, error);
        if (!ARCHIVE_DEFECT_CODES.has(error.code)) fail(`not an archive defect code: ${detail}`, error);
        if (error.retryable) fail(`an archive defect reported as retryable: ${detail}`, error);
      }
      if (expect.outcomes !== undefined && !expect.outcomes.has(outcome)) {
        const detail = error === undefined ? 'extracted' : `${error.code}: ${error.message}`;
        fail(`expected ${[...expect.outcomes].join(' | ')}, got ${detail}`, error);
      }
    } finally {
      rmSync(join(root, OUTPUT_BUCKET), { recursive: true, force: true });
      rmSync(join(root, SOURCE_BUCKET), { recursive: true, force: true });
    }
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    return outcome;
  };

  return {
    run,
    dir,
    get outcomes() {
      return outcomes;
    },
    get cases() {
      return cases;
    },
    summary: () => formatOutcomes(cases, outcomes),
    close: async () => {
      process.off('exit', removeOnExit);
      removeOnExit();
    },
  };
}

/** "N cases: extracted a, corrupt b, …" (most frequent first). */
export function formatOutcomes(cases: number, outcomes: ReadonlyMap<Outcome, number>): string {
  const parts = [...outcomes.entries()].sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} ${n}`);
  return `${cases} cases: ${parts.join(', ') || 'none'}`;
}
