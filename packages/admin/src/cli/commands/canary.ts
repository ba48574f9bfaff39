import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { parseDuration } from '@logzip/core';
import { type CanaryResult, makeCanaryLogId, runCanary } from '@logzip/core/canary';
import { usageOnError } from '../args.js';
import { chooseCanarySender, createCliCanaryPorts } from '../canary-ports.js';
import { EXIT, ExitError, usageError } from '../exit.js';
import { type CliIo, printJson } from '../io.js';
import { withBackend } from '../run-command.js';

const DEFAULT_TIMEOUT = '2m';

const EXIT_OF_STATUS: Record<CanaryResult['status'], number> = {
  ok: EXIT.ok,
  timeout: EXIT.failed,
  failed: EXIT.failed,
  wrong_content: EXIT.rejected,
};

function render(result: CanaryResult): string {
  const lines = [`canary ${result.status === 'ok' ? 'OK' : result.status.toUpperCase()}: ${result.message}`];
  lines.push(
    `  log ID ${result.logId}${result.via === undefined ? '' : `, sent via ${result.via}`}${result.key ? ` to ${result.key}` : ''}`,
  );
  for (const problem of result.problems) lines.push(`  - ${problem}`);
  if (!result.cleanedUp && result.key !== undefined)
    lines.push(`  not cleaned up: logzip purge ${result.logId}`);
  return `${lines.join('\n')}\n`;
}

/**
 * `logzip canary [--timeout DURATION] [--json]`: a small known archive (Japanese names, a
 * zero-byte file) through the live path, its manifest checked file by file, then purged.
 * Exit 0 ok, 1 timeout or a failure worth retrying (the message says what consumes nothing),
 * 2 wrong content (or a valid archive rejected).
 */
export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = usageOnError(() =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { timeout: { type: 'string' }, json: { type: 'boolean' } },
    }),
  );
  if (positionals.length > 0) throw usageError('logzip canary takes no arguments');
  const timeoutText = values.timeout ?? DEFAULT_TIMEOUT;
  const timeoutMs = parseDuration(timeoutText);
  if (timeoutMs === undefined || timeoutMs < 1_000 || timeoutMs > 3_600_000) {
    throw usageError(`--timeout "${timeoutText}" is not a duration from 1s to 1h like 90s or 5m`);
  }
  const sender = chooseCanarySender(io.env);
  return withBackend(io, async (backend) => {
    const ports = await createCliCanaryPorts(backend, sender);
    let fatal: ExitError | undefined;
    const send = ports.send;
    ports.send = async (logId, zip) => {
      try {
        return await send(logId, zip);
      } catch (error) {
        // A refused token or a pattern that cannot read the canary's key is configuration, not bad luck.
        if (error instanceof ExitError) fatal = error;
        throw error;
      }
    };
    const logId = makeCanaryLogId(new Date(), randomBytes(3).toString('hex'));
    const result = await runCanary(ports, { logId, timeoutMs });
    if (fatal !== undefined) throw fatal;
    if (values.json) printJson(io, result);
    else io.stdout.write(render(result));
    return EXIT_OF_STATUS[result.status];
  });
}
