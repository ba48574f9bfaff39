#!/usr/bin/env node
// Bundles the handler for Lambda: dist/index.mjs (+ source map) and dist/lambda.zip holding both,
// ready for `aws lambda update-function-code --zip-file fileb://dist/lambda.zip`.
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { assertNoZodLocales, nodeBundleOptions } from '../../../scripts/lib/esbuild-node.mjs';
import { trimSourceMap } from './trim-source-map.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
await mkdir(dist, { recursive: true });
for (const name of await readdir(dist)) if (name.endsWith('.LEGAL.txt')) await rm(join(dist, name));
await rm(join(dist, 'chunks'), { recursive: true, force: true });

const result = await build({
  ...nodeBundleOptions,
  // The bundle's entry builds the handler from the environment; `@logzip/lambda` itself never reads it.
  entryPoints: { index: join(root, 'src/handler.ts') },
  outdir: dist,
  outExtension: { '.js': '.mjs' },
  // What the handler loads only when it needs it (BullMQ for a hand-off, iconv-lite for a
  // non-UTF-8 name) goes into chunks/, so a cold start parses only index.mjs. The AWS SDK is
  // bundled (pinned by our lockfile) rather than taken from the runtime: see docs/deployment.md.
  sourcemap: 'external',
  // Whitespace and syntax only: names stay readable in Lambda's stack traces (no source-map
  // support is enabled in the runtime by default).
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'linked',
});
assertNoZodLocales(result.metafile, 'Lambda');

// The maps keep only logzip's own sources (see trim-source-map.mjs).
for (const path of Object.keys(result.metafile.outputs).filter((p) => p.endsWith('.map'))) {
  const map = JSON.parse(await readFile(path, 'utf8'));
  await writeFile(path, JSON.stringify(trimSourceMap(map, (source) => !source.includes('node_modules/'))));
}

// Everything esbuild wrote (the entry, its chunks, their source maps and licence notices) and
// nothing else of dist/ goes into the zip. The maps are used only with NODE_OPTIONS=--enable-source-maps.
const outputs = Object.keys(result.metafile.outputs).map((path) => relative(dist, path));
const legal = (await readdir(dist, { recursive: true })).filter((name) =>
  String(name).endsWith('.LEGAL.txt'),
);
const files = [...new Set([...outputs, ...legal.map(String)])].sort();
const zipPath = join(dist, 'lambda.zip');
await rm(zipPath, { force: true });
execFileSync('zip', ['-q', '-X', '-9', 'lambda.zip', ...files], { cwd: dist });

const size = async (file) => (await stat(join(dist, file))).size;
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
// What a cold start parses: index.mjs and the chunks it imports statically (not the dynamic ones).
const outputsByPath = result.metafile.outputs;
const entryPath = Object.keys(outputsByPath).find((path) => path.endsWith('index.mjs'));
const cold = new Set();
const visit = (path) => {
  if (cold.has(path)) return;
  cold.add(path);
  for (const imported of outputsByPath[path].imports) {
    if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
  }
};
visit(entryPath);
let coldBytes = 0;
let allBytes = 0;
const byPackage = {};
for (const [path, output] of Object.entries(outputsByPath)) {
  if (!path.endsWith('.mjs')) continue;
  allBytes += output.bytes;
  if (!cold.has(path)) continue;
  coldBytes += output.bytes;
  for (const [input, info] of Object.entries(output.inputs)) {
    const match = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(input);
    const name = match ? match[1] : '(logzip)';
    byPackage[name] = (byPackage[name] ?? 0) + info.bytesInOutput;
  }
}
const top = Object.entries(byPackage)
  .sort((a, b) => b[1] - a[1])
  .slice(0, 8)
  .map(([name, bytes]) => `${name} ${kib(bytes)}`)
  .join(', ');
process.stdout.write(
  `lambda bundle: dist/lambda.zip ${kib(await size('lambda.zip'))} (${files.length} files); ` +
    `JavaScript ${kib(allBytes)}, of which ${kib(coldBytes)} loaded at cold start (index.mjs + ${cold.size - 1} chunks)\n` +
    `  cold start by package: ${top}\n`,
);
