#!/usr/bin/env node
import { withLocalStack } from './local-stack.js';
import { main } from './main.js';

// A reader that goes away (`logzip … --json | head -c 100`) is not a failure of the command: the
// rest of its output is dropped and it ends with its own exit code, not an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
    throw error;
  });
}

// Without a configuration of its own, the CLI talks to the local stack of `pnpm start`.
const local = withLocalStack(process.argv.slice(2), process.env, process.cwd());
if (local.file !== undefined) process.stderr.write(`logzip: using the local stack (${local.file})\n`);

// `pnpm logzip …` runs in the repository root; paths on the command line are relative to where
// the user typed it, which pnpm passes as INIT_CWD.
const viaPnpmScript = process.env['npm_lifecycle_event'] === 'logzip' && process.env['INIT_CWD'];
const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: local.env,
  cwd: viaPnpmScript ? (process.env['INIT_CWD'] as string) : process.cwd(),
});
// Let stdout drain before exiting: a piped --json result must arrive whole.
process.exitCode = code;
