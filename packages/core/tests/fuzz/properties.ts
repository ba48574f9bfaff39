/**
 * The fuzz properties, shared by the bounded unit tests and the on-demand runner (`pnpm test:fuzz`).
 *
 * - `structured`: generated archives (honest + defects) through `extractArchive`, judged against
 *   what their defects may cause; one case in four replaces an earlier extraction of the log ID.
 * - `mutation`: mutated fixture archives through `extractArchive`, held to the general invariants.
 * - `reader`: both kinds of archive read from memory and through the block cache, each entry by the
 *   buffered and the streamed inflate: the two paths must agree.
 */
import { applyMutations, type CorpusItem, describeMutation } from '@logzip/test-utils';
import fc from 'fast-check';
import type { Limits } from '../../src/config.js';
import {
  atLimits,
  describeCase,
  limitShiftArb,
  materialize,
  mutationCaseArb,
  type Outcome,
  previousArchive,
  sometimes,
  structuredCases,
} from './arbitraries.js';
import { compareReaders, type ReaderShape } from './differential.js';
import { FUZZ_LIMITS, type FuzzHarness, findFuzzFailure } from './harness.js';

export const FUZZ_MODES = ['structured', 'mutation', 'reader'] as const;
export type FuzzMode = (typeof FUZZ_MODES)[number];

export interface PropertyContext {
  harness: FuzzHarness;
  corpus: readonly CorpusItem[];
  /** Counts of reader outcomes ('listed' or the directory's error code). */
  readerOutcomes: Map<string, number>;
  /**
   * Also generate what hit bugs found by fuzzing and since fixed (the earlier extraction has files
   * where the new archive has folders; streamed entries that fail early): regressions.
   */
  knownBugs?: boolean;
  /** Called before each case (the runner's heartbeat). */
  onCase?: () => void;
}

const shapeArb: fc.Arbitrary<ReaderShape> = fc.record({
  blockSize: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constantFrom(512, 4096, 65536)),
  maxBlocks: fc.integer({ min: 1, max: 4 }),
  piece: fc.oneof(fc.integer({ min: 1, max: 16 }), fc.constant(65536)),
});

/** Mutation cases run under the usual limits or small ones (limits met at planning or while inflating). */
const limitsArb: fc.Arbitrary<Limits | undefined> = sometimes(
  fc.record({
    maxEntries: fc.integer({ min: 1, max: 20 }),
    maxTotalBytes: fc.integer({ min: 1, max: 2 ** 20 }),
    maxEntryBytes: fc.integer({ min: 1, max: 2 ** 20 }),
    maxRatio: fc.integer({ min: 1, max: 1000 }),
  }),
  3,
);

const concurrencyArb = sometimes(fc.integer({ min: 1, max: 8 }), 2);

/** One in four structured cases replaces an earlier extraction. */
const replaceArb = fc.nat(3).map((n) => n === 0);

export interface FuzzRunOptions {
  seed: number;
  numRuns?: number;
  /** Replays one case of a failed run (fast-check's counterexample path). */
  path?: string;
}

/**
 * Runs `numRuns` cases of one mode with fast-check; throws fast-check's report (seed, path, the
 * shrunk counterexample, the FuzzFailure as its cause) when an invariant breaks.
 */
export async function assertFuzz(
  mode: FuzzMode,
  ctx: PropertyContext,
  options: FuzzRunOptions,
): Promise<void> {
  try {
    await assertMode(mode, ctx, options);
  } catch (error) {
    // Only the shrunk counterexample is saved, not every failing attempt on the way.
    const saved = findFuzzFailure(error)?.save();
    if (saved !== undefined && error instanceof Error) error.message += `\nfailing input saved to ${saved}`;
    throw error;
  }
}

async function assertMode(mode: FuzzMode, ctx: PropertyContext, options: FuzzRunOptions): Promise<void> {
  const params = {
    seed: options.seed,
    ...(options.numRuns === undefined ? {} : { numRuns: options.numRuns }),
    ...(options.path === undefined ? {} : { path: options.path }),
  };
  const previous = previousArchive({ collide: ctx.knownBugs === true });
  const structuredCaseArb = structuredCases({ knownBugs: ctx.knownBugs === true });
  const mutated = () =>
    mutationCaseArb(ctx.corpus.length).map(({ seed, mutations }) => {
      const item = ctx.corpus[seed]!;
      return {
        zip: applyMutations(item.zip, mutations),
        context: `seed ${item.name}; mutations ${mutations.map(describeMutation).join(' ')}`,
      };
    });
  switch (mode) {
    case 'structured':
      return fc.assert(
        fc.asyncProperty(
          structuredCaseArb,
          replaceArb,
          concurrencyArb,
          limitShiftArb,
          async (c, replace, concurrency, shift) => {
            ctx.onCase?.();
            const built = materialize(c);
            const { limits, expect } =
              shift === undefined
                ? { limits: undefined, expect: built.expect }
                : atLimits(c, built.expect, shift, FUZZ_LIMITS);
            const options = {
              ...(replace ? { previous } : {}),
              ...(concurrency === undefined ? {} : { concurrency }),
              ...(limits === undefined ? {} : { limits }),
            };
            const context = `${describeCase(c)}${limits === undefined ? '' : `; limits ${JSON.stringify(limits)}`}`;
            await ctx.harness.run(built.zip, expect, context, options);
          },
        ),
        params,
      );
    case 'mutation':
      return fc.assert(
        fc.asyncProperty(
          mutated(),
          limitsArb,
          concurrencyArb,
          async ({ zip, context }, limits, concurrency) => {
            ctx.onCase?.();
            const options = {
              ...(limits === undefined ? {} : { limits }),
              ...(concurrency === undefined ? {} : { concurrency }),
            };
            await ctx.harness.run(zip, {}, `${context}; ${JSON.stringify(options)}`, options);
          },
        ),
        params,
      );
    case 'reader': {
      const structuredBytes = structuredCaseArb.map((c) => ({
        zip: materialize(c).zip,
        context: describeCase(c),
      }));
      return fc.assert(
        fc.asyncProperty(fc.oneof(structuredBytes, mutated()), shapeArb, async ({ zip, context }, shape) => {
          ctx.onCase?.();
          const { directory } = await compareReaders(zip, shape, context);
          const outcome = directory === 'ok' ? 'listed' : directory;
          ctx.readerOutcomes.set(outcome, (ctx.readerOutcomes.get(outcome) ?? 0) + 1);
        }),
        params,
      );
    }
  }
}

export type { Outcome };
