/**
 * Opaque page cursors: base64url JSON, either the last item of a page (its score and member: the
 * next page continues after it) or an offset into a prefix search. Clients pass them back as is.
 */
export type IndexCursor = { after: { score: number; member: string } } | { offset: number };

export function encodeCursor(cursor: IndexCursor): string {
  const value = 'offset' in cursor ? { o: cursor.offset } : { s: cursor.after.score, m: cursor.after.member };
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The cursor, or undefined when the text is not one this version wrote. */
export function decodeCursor(text: string): IndexCursor | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as { o?: unknown; s?: unknown; m?: unknown };
  if (typeof v.o === 'number' && Number.isInteger(v.o) && v.o >= 0) return { offset: v.o };
  if (typeof v.s === 'number' && Number.isFinite(v.s) && typeof v.m === 'string' && v.m.length <= 256) {
    return { after: { score: v.s, member: v.m } };
  }
  return undefined;
}
