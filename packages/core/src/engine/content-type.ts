const TYPES: Record<string, string> = {
  log: 'text/plain; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  out: 'text/plain; charset=utf-8',
  err: 'text/plain; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  tsv: 'text/tab-separated-values; charset=utf-8',
  json: 'application/json',
  jsonl: 'application/x-ndjson',
  ndjson: 'application/x-ndjson',
  xml: 'application/xml',
  ini: 'text/plain; charset=utf-8',
  cfg: 'text/plain; charset=utf-8',
  yaml: 'text/plain; charset=utf-8',
  yml: 'text/plain; charset=utf-8',
  gz: 'application/gzip',
  zip: 'application/zip',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  pdf: 'application/pdf',
};

/**
 * Content-Type by extension. Anything that a browser could render as active content (html, svg)
 * stays application/octet-stream: extracted uploads are untrusted.
 */
export function contentTypeFor(path: string): string {
  const dot = path.lastIndexOf('.');
  if (dot < 0 || dot < path.lastIndexOf('/')) return 'application/octet-stream';
  return TYPES[path.slice(dot + 1).toLowerCase()] ?? 'application/octet-stream';
}
