// Loads the Lambda bundle in a fresh process (a cold start) and invokes it once:
//   node run-bundle.mjs <bundle> <event.json> <result.json> [awsRequestId]
// The result goes to a file because the handler's own log lines own stdout.
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, eventPath, resultPath, awsRequestId = 'bundle-test'] = process.argv.slice(2);
let outcome;
try {
  const { handler } = await import(pathToFileURL(bundle).href);
  const deadline = Date.now() + 900_000;
  const event = JSON.parse(readFileSync(eventPath, 'utf8'));
  const result = await handler(event, {
    awsRequestId,
    functionName: 'logzip-bundle-test',
    getRemainingTimeInMillis: () => deadline - Date.now(),
  });
  outcome = { ok: true, result };
} catch (error) {
  outcome = { ok: false, error: { name: error.name, message: error.message, code: error.code } };
}
writeFileSync(resultPath, JSON.stringify(outcome));
process.exit(0);
