import { usageError } from './exit.js';

/** Runs node:util parseArgs (strict); any problem it finds is a usage error (exit 64). */
export function usageOnError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw usageError((error as Error).message);
  }
}

/** Log IDs from a file's text: one per line (or separated by spaces/commas), `#` starts a comment. */
export function parseIdList(text: string): string[] {
  const ids: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const content = line.replace(/#.*$/, '').trim();
    if (content === '') continue;
    for (const id of content.split(/[\s,]+/)) if (id !== '') ids.push(id);
  }
  return ids;
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
