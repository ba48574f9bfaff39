// autocannon setupRequest for the ingest flood (required by autocannon's worker thread, hence
// CommonJS): every PUT goes to a new log ID, as every upload of a desktop client is a new log.
let n = 0;
const run = `${process.pid.toString(36)}${Date.now().toString(36)}`;

module.exports = function setupRequest(request) {
  n += 1;
  // The zip reaches this thread as a Uint8Array (structured clone); autocannon wants a Buffer.
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body);
  return { ...request, body, path: `/api/archives/b${run}t${n}` };
};
