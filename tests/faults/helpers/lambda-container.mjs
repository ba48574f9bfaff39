// One Lambda "container" for the fault suite: a process that imports the deployed bundle
// (dist/index.mjs: configuration, SDK clients and logger built at module scope from its
// environment, as at a cold start) and runs one invocation at a time, like a Lambda execution
// environment. The parent sends { id, event, awsRequestId, timeoutMs } over IPC and gets
// { id, ok, result } or { id, ok: false, error } back; the handler's log lines go to stdout.
//   fork(lambda-container.mjs, [bundlePath], { env, stdio: [..., 'ipc'] })
import { pathToFileURL } from 'node:url';

const [bundle] = process.argv.slice(2);
let handler;
try {
  ({ handler } = await import(pathToFileURL(bundle).href));
  process.send({ ready: true });
} catch (error) {
  process.send({ ready: false, error: { name: error.name, message: error.message } });
  process.exit(1);
}

process.on('message', async (message) => {
  const { id, event, awsRequestId, timeoutMs } = message;
  const deadline = Date.now() + timeoutMs;
  try {
    const result = await handler(event, {
      awsRequestId,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    });
    process.send({ id, ok: true, result });
  } catch (error) {
    process.send({
      id,
      ok: false,
      error: {
        name: error?.name ?? 'Error',
        message: String(error?.message ?? error),
        code: error?.code,
        stack: String(error?.stack ?? ''),
      },
    });
  }
});
process.on('disconnect', () => process.exit(0));
