import { COMMANDS } from './commands.js';
import { EXIT, ExitError } from './exit.js';
import { type CliIo, printJson } from './io.js';

export function helpText(): string {
  const lines = ['Usage: logzip <command> [options]', '', 'Commands:'];
  for (const spec of Object.values(COMMANDS)) lines.push(`  ${spec.usage}`, `      ${spec.summary}`);
  lines.push(
    '',
    'Exit codes: 0 done, 1 failed (retry may help), 2 rejected / not found, 64 usage, 78 configuration.',
  );
  return lines.join('\n');
}

/** Runs one CLI invocation and returns its exit code; never exits the process itself. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stderr.write(`${helpText()}\n`);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const spec = COMMANDS[name];
  if (spec === undefined) {
    io.stderr.write(`logzip: unknown command "${name}"\n\n${helpText()}\n`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stderr.write(`${spec.usage}\n  ${spec.summary}\n`);
    return EXIT.ok;
  }
  try {
    const command = await spec.load();
    return await command.run(rest, io);
  } catch (error) {
    // With --json, stdout holds exactly one JSON value even when the command fails.
    const json = rest.includes('--json');
    if (error instanceof ExitError) {
      io.stderr.write(`logzip ${name}: ${error.message}\n`);
      if (error.exitCode === EXIT.usage) io.stderr.write(`usage: ${spec.usage}\n`);
      if (json) printJson(io, { error: { code: error.code, message: error.message } });
      return error.exitCode;
    }
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    io.stderr.write(`logzip ${name}: internal error: ${message}\n`);
    if (json) printJson(io, { error: { code: 'internal', message: 'internal error (details on stderr)' } });
    return EXIT.failed;
  }
}
