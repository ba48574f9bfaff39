import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { LogzipError } from '../errors.js';
import type { ObjectStore } from '../ports/object-store.js';

/** An S3 Inventory report: its data files and which column holds what (from its manifest.json). */
export interface InventoryReport {
  /** The bucket the report lists. */
  sourceBucket: string;
  /** The bucket the data files are in. */
  bucket: string;
  files: string[];
  columns: { bucket: number; key: number; size?: number; lastModified?: number; etag?: number };
}

/** One row of a report, as far as the sweep needs it; size, time and ETag only when the schema has them. */
export interface InventoryRow {
  bucket: string;
  key: string;
  size?: number;
  lastModified?: Date;
  etag?: string;
}

/** `s3://bucket/key` (or `bucket/key`) of a report's manifest.json. */
export function parseInventoryLocation(location: string): { bucket: string; key: string } {
  const rest = location.startsWith('s3://') ? location.slice(5) : location;
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) {
    throw new LogzipError(
      'internal',
      `the inventory location "${location}" is not s3://<bucket>/<key of manifest.json>`,
      { retryable: false },
    );
  }
  return { bucket: rest.slice(0, slash), key: rest.slice(slash + 1) };
}

/**
 * Reads an S3 Inventory manifest.json: CSV reports only (the format logzip reads), with the
 * columns found by name in `fileSchema` ("Bucket, Key, Size, LastModifiedDate, ETag, ...").
 */
export async function readInventoryManifest(
  store: ObjectStore,
  location: { bucket: string; key: string },
): Promise<InventoryReport> {
  const bad = (why: string) =>
    new LogzipError('internal', `inventory manifest s3://${location.bucket}/${location.key}: ${why}`, {
      retryable: false,
    });
  let manifest: {
    sourceBucket?: unknown;
    destinationBucket?: unknown;
    fileFormat?: unknown;
    fileSchema?: unknown;
    files?: unknown;
  };
  try {
    manifest = JSON.parse((await store.get(location.bucket, location.key)).toString('utf8'));
  } catch (error) {
    if (error instanceof LogzipError && error.code !== 'source_not_found') throw error;
    throw bad(error instanceof SyntaxError ? 'not JSON' : 'not found');
  }
  if (manifest.fileFormat !== 'CSV')
    throw bad(`fileFormat ${String(manifest.fileFormat)} (only CSV is read)`);
  if (typeof manifest.fileSchema !== 'string') throw bad('no fileSchema');
  if (typeof manifest.sourceBucket !== 'string') throw bad('no sourceBucket');
  if (!Array.isArray(manifest.files)) throw bad('no files');
  const schema = manifest.fileSchema.split(',').map((c) => c.trim());
  const at = (name: string) => {
    const i = schema.indexOf(name);
    return i === -1 ? undefined : i;
  };
  const bucketColumn = at('Bucket');
  const keyColumn = at('Key');
  if (bucketColumn === undefined || keyColumn === undefined) throw bad('fileSchema has no Bucket or Key');
  const destination =
    typeof manifest.destinationBucket === 'string'
      ? manifest.destinationBucket.replace(/^arn:aws:s3:::/, '')
      : location.bucket;
  const files = manifest.files.map((f: { key?: unknown }) => {
    if (typeof f?.key !== 'string') throw bad('a file without a key');
    return f.key;
  });
  const optional = (name: string, column: string) => {
    const i = at(column);
    return i === undefined ? {} : { [name]: i };
  };
  return {
    sourceBucket: manifest.sourceBucket,
    bucket: destination,
    files,
    columns: {
      bucket: bucketColumn,
      key: keyColumn,
      ...optional('size', 'Size'),
      ...optional('lastModified', 'LastModifiedDate'),
      ...optional('etag', 'ETag'),
    },
  };
}

/** One CSV line of an inventory report (every field quoted, `""` inside a field). */
export function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i += 1;
      for (;;) {
        const quote = line.indexOf('"', i);
        if (quote === -1) {
          value += line.slice(i);
          i = line.length;
          break;
        }
        value += line.slice(i, quote);
        if (line[quote + 1] === '"') {
          value += '"';
          i = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
      fields.push(value);
      i += 1; // the comma
    } else {
      const comma = line.indexOf(',', i);
      const end = comma === -1 ? line.length : comma;
      fields.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return fields;
}

/**
 * The rows of one data file (gzipped CSV), from row `skip` on; each with its row number (1-based),
 * which is where a resumed read continues. Keys are URL-encoded in reports.
 */
export async function* readInventoryRows(
  store: ObjectStore,
  report: InventoryReport,
  file: string,
  skip = 0,
): AsyncGenerator<{ row: InventoryRow; position: number }> {
  const info = await store.head(report.bucket, file);
  if (info === undefined) {
    throw new LogzipError('source_not_found', `inventory data file s3://${report.bucket}/${file} not found`);
  }
  const body = await store.getStream(report.bucket, file, 0, info.size);
  const lines = createInterface({ input: body.pipe(createGunzip()), crlfDelay: Number.POSITIVE_INFINITY });
  const { columns } = report;
  let position = 0;
  for await (const line of lines) {
    if (line === '') continue;
    position += 1;
    if (position <= skip) continue;
    const fields = parseCsvLine(line);
    const key = decodeURIComponent((fields[columns.key] ?? '').replace(/\+/g, ' '));
    const size = columns.size === undefined ? undefined : Number(fields[columns.size]);
    const time =
      columns.lastModified === undefined ? undefined : new Date(fields[columns.lastModified] ?? '');
    const etag = columns.etag === undefined ? undefined : fields[columns.etag];
    yield {
      row: {
        bucket: fields[columns.bucket] ?? report.sourceBucket,
        key,
        ...(size === undefined || Number.isNaN(size) ? {} : { size }),
        ...(time === undefined || Number.isNaN(time.getTime()) ? {} : { lastModified: time }),
        ...(etag === undefined || etag === '' ? {} : { etag: etag.replace(/"/g, '') }),
      },
      position,
    };
  }
}
