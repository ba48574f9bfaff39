import { parseArgs } from 'node:util';
import { usageOnError } from '../args.js';
import { EXIT, ExitError, usageError } from '../exit.js';
import { type CliIo, printJson } from '../io.js';
import { describeOperation, followOperation, renderOperations } from '../operation-output.js';
import { withBackend } from '../run-command.js';

const ACTIONS = ['pause', 'resume', 'abort'] as const;

/** `logzip ops list|show|pause|resume|abort [id] [--reason TEXT] [--follow] [--limit N] [--json]` */
export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = usageOnError(() =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        reason: { type: 'string' },
        follow: { type: 'boolean' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
      },
    }),
  );
  const [sub, id, extra] = positionals;
  if (extra !== undefined) throw usageError(`unexpected argument "${extra}"`);
  const json = values.json ?? false;
  if (sub === 'list') {
    if (id !== undefined) throw usageError('ops list takes no operation id');
    const limit = values.limit === undefined ? 50 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      throw usageError('--limit must be an integer from 1 to 500');
    return withBackend(io, async (backend) => {
      const answer = await backend.operations(limit);
      if (json) printJson(io, answer);
      else io.stdout.write(renderOperations(answer.operations));
      return EXIT.ok;
    });
  }
  if (sub !== 'show' && !(ACTIONS as readonly string[]).includes(sub ?? '')) {
    throw usageError('use ops list, or ops show|pause|resume|abort <id>');
  }
  if (id === undefined) throw usageError(`ops ${sub} needs an operation id`);
  return withBackend(io, async (backend) => {
    if (sub === 'show') {
      const op = await backend.operation(id);
      if (op === undefined) throw new ExitError(EXIT.rejected, `no operation ${id}`, 'not_found');
      if (values.follow) return followOperation(io, backend, op, json);
      if (json) printJson(io, op);
      else
        io.stdout.write(
          `${describeOperation(op)}\ncreated by ${op.createdBy} at ${op.createdAt}: ${op.reason || '(no reason)'}\nselection ${JSON.stringify(op.selection)}\n`,
        );
      return EXIT.ok;
    }
    const op = await backend.controlOperation(id, sub as (typeof ACTIONS)[number], values.reason ?? '');
    if (json) printJson(io, op);
    else io.stdout.write(`${describeOperation(op)}\n`);
    return EXIT.ok;
  });
}
