#!/usr/bin/env node
// Bundles the CLI into dist/cli/index.js (the `logzip` bin) after `tsc` has built dist/.
//
// Why: run from tsc output, every `logzip` process resolved and parsed a few hundred module files
// before doing anything (zod alone is about 100 of them, half of them locales): about 0.3 s of
// start on the 2-core machine, which is a third of `logzip extract` on a 5,000-file archive.
// One file per command (their chunks load lazily, so `logzip extract` parses no Redis or AWS
// code) starts in a fraction of that. The rest of dist/ stays tsc's output, which the admin
// service and the package's importers use.
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { assertNoZodLocales, nodeBundleOptions } from '../../../scripts/lib/esbuild-node.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'cli');
await rm(join(outdir, 'chunks'), { recursive: true, force: true });

const result = await build({
  ...nodeBundleOptions,
  // Each command's `import()` becomes a chunk of its own.
  entryPoints: { index: join(root, 'src/cli/index.ts') },
  outdir,
  // Not minified: an internal error prints its stack, and it should read as the source does.
  sourcemap: 'linked',
  legalComments: 'none',
});
assertNoZodLocales(result.metafile, 'CLI');

const entry = Object.entries(result.metafile.outputs).find(([path]) => path.endsWith('cli/index.js'));
process.stdout.write(`cli bundle: dist/cli/index.js ${(entry[1].bytes / 1024).toFixed(1)} KiB + chunks\n`);
