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

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'cli');
await rm(join(outdir, 'chunks'), { recursive: true, force: true });

const result = await build({
  entryPoints: { index: join(root, 'src/cli/index.ts') },
  outdir,
  // Each command's `import()` becomes a chunk of its own.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Workspace packages from their TypeScript sources, the AWS SDK's ES builds (see the Lambda's build).
  conditions: ['@logzip/source', 'module'],
  mainFields: ['module', 'main'],
  // msgpackr's optional native accelerator (BullMQ) cannot be bundled; msgpackr works without it.
  external: ['msgpackr-extract'],
  // Not minified: an internal error prints its stack, and it should read as the source does.
  sourcemap: 'linked',
  sourcesContent: false,
  keepNames: true,
  treeShaking: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  banner: {
    js: [
      // CommonJS dependencies bundled into an ES module still call require() for Node built-ins.
      "import { createRequire as __logzipCreateRequire } from 'node:module';",
      'const require = __logzipCreateRequire(import.meta.url);',
    ].join('\n'),
  },
});

const entry = Object.entries(result.metafile.outputs).find(([path]) => path.endsWith('cli/index.js'));
const zodLocales = Object.values(result.metafile.outputs).flatMap((output) =>
  Object.keys(output.inputs).filter((input) => /\/zod\/v4\/locales\/(?!en\.js)/.test(input)),
);
if (zodLocales.length > 0) {
  throw new Error(
    `the CLI bundle holds zod locales (${zodLocales[0]}, …): import zod as \`import * as z from 'zod'\``,
  );
}
process.stdout.write(`cli bundle: dist/cli/index.js ${(entry[1].bytes / 1024).toFixed(1)} KiB + chunks\n`);
