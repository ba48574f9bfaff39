// What the Lambda bundle (packages/lambda/scripts/build.mjs) and the CLI bundle
// (packages/admin/scripts/bundle-cli.mjs) share: an ES module for Node 20 whose lazily imported
// parts become chunks of their own.

/** esbuild options of both bundles; each adds its entry points, outdir, source maps and minification. */
export const nodeBundleOptions = {
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Workspace packages from their TypeScript sources: a bundle does not depend on core's dist.
  // `module` (which esbuild drops once conditions are set) picks the AWS SDK's and Smithy's ES
  // builds over their CommonJS ones, so tree-shaking applies to them: a third less to parse at
  // start. Bundlers resolve it for import and require() alike, so no package loads twice.
  conditions: ['@logzip/source', 'module'],
  mainFields: ['module', 'main'],
  // msgpackr's optional native accelerator (BullMQ): a .node binary cannot be bundled and
  // msgpackr falls back to plain JavaScript without it.
  external: ['msgpackr-extract'],
  sourcesContent: false,
  keepNames: true,
  treeShaking: true,
  metafile: true,
  logLevel: 'warning',
  banner: {
    // CommonJS dependencies bundled into an ES module still call require() for Node built-ins.
    js: [
      "import { createRequire as __logzipCreateRequire } from 'node:module';",
      "import { fileURLToPath as __logzipFileURLToPath } from 'node:url';",
      "import { dirname as __logzipDirname } from 'node:path';",
      'const require = __logzipCreateRequire(import.meta.url);',
      'const __filename = __logzipFileURLToPath(import.meta.url);',
      'const __dirname = __logzipDirname(__filename);',
    ].join('\n'),
  },
};

/**
 * Zod's namespace, imported as `import { z } from 'zod'`, defeats esbuild's tree-shaking and drags
 * every locale and the JSON-schema converters into a bundle (450 KiB to parse at start).
 * `import * as z` shakes; this keeps it that way.
 */
export function assertNoZodLocales(metafile, bundle) {
  const locales = Object.values(metafile.outputs).flatMap((output) =>
    Object.keys(output.inputs).filter((input) => /\/zod\/v4\/locales\/(?!en\.js)/.test(input)),
  );
  if (locales.length > 0) {
    throw new Error(
      `the ${bundle} bundle holds zod locales (${locales[0]}, …): import zod as \`import * as z from 'zod'\``,
    );
  }
}
