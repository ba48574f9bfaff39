// Keeps the mappings of logzip's own sources in an esbuild source map and drops those of bundled
// dependencies: a stack frame in our code still points at the TypeScript line, one inside the AWS
// SDK or BullMQ points at the bundle (function names are kept). The maps shrink to about a tenth,
// which keeps lambda.zip under 1 MiB and --enable-source-maps cheap at a cold start.
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

function decodeSegment(text) {
  const values = [];
  let value = 0;
  let shift = 0;
  for (const char of text) {
    const digit = B64_INDEX.get(char);
    if (digit === undefined) throw new Error(`source map: bad VLQ digit ${char}`);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

function encodeValue(n) {
  let vlq = n < 0 ? (-n << 1) | 1 : n << 1;
  let out = '';
  do {
    let digit = vlq & 31;
    vlq >>>= 5;
    if (vlq > 0) digit |= 32;
    out += B64[digit];
  } while (vlq > 0);
  return out;
}

/**
 * @param {{ sources: string[], names?: string[], mappings: string }} map an esbuild v3 source map
 * @param {(source: string) => boolean} keep whether a source's mappings stay
 */
export function trimSourceMap(map, keep) {
  const kept = map.sources.map((source) => keep(source));
  // Positions are deltas over the whole file (source, line, column, name) and per line (column):
  // decode to absolute values, keep what is ours, encode the deltas again.
  let source = 0;
  let line = 0;
  let column = 0;
  let name = 0;
  const out = { source: 0, line: 0, column: 0, name: 0 };
  const lines = map.mappings.split(';').map((text) => {
    let generated = 0;
    let outGenerated = 0;
    let mapped = false;
    const segments = [];
    for (const segment of text === '' ? [] : text.split(',')) {
      const v = decodeSegment(segment);
      generated += v[0];
      if (v.length >= 4) {
        source += v[1];
        line += v[2];
        column += v[3];
        if (v.length >= 5) name += v[4];
      }
      if (v.length >= 4 && kept[source]) {
        let encoded =
          encodeValue(generated - outGenerated) +
          encodeValue(source - out.source) +
          encodeValue(line - out.line) +
          encodeValue(column - out.column);
        if (v.length >= 5) {
          encoded += encodeValue(name - out.name);
          out.name = name;
        }
        Object.assign(out, { source, line, column });
        outGenerated = generated;
        segments.push(encoded);
        mapped = true;
      } else if (mapped) {
        // A bare column ends the previous mapping, so dependency code is not attributed to ours.
        segments.push(encodeValue(generated - outGenerated));
        outGenerated = generated;
        mapped = false;
      }
    }
    return segments.join(',');
  });
  return { ...map, mappings: lines.join(';') };
}
