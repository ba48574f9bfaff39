#!/usr/bin/env node
// One Lambda cold start: imports the bundle (configuration, SDK clients and logger are built at
// its module scope) and prints the milliseconds since this process began, Node's own start included.
// Usage: node lambda-cold.mjs <path to dist/index.mjs>
import { pathToFileURL } from 'node:url';

const { handler } = await import(pathToFileURL(process.argv[2]).href);
if (typeof handler !== 'function') throw new Error('the bundle exports no handler');
process.stdout.write(`${JSON.stringify({ ms: performance.now() })}\n`);
