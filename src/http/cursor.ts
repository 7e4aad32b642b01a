import { ValidationError } from '../errors.js';

/**
 * Opaque page cursors: the position after the last item returned (a keyset), never an offset,
 * so paging is stable while rows arrive. Base64url JSON; opaque to clients by contract only.
 */
export function encodeCursor(position: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/** The position of a cursor whose parts have the given types, or a ValidationError naming `cursor`. */
export function decodeCursor<const T extends readonly ('string' | 'number')[]>(
  text: string,
  types: T,
): { [K in keyof T]: T[K] extends 'string' ? string : number } {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parts = null;
  }
  const fits = Array.isArray(parts) && parts.length === types.length && parts.every((p, i) => typeof p === types[i]);
  if (!fits) throw new ValidationError([{ field: '/cursor', message: 'not a cursor this API gave out: pass nextCursor back unchanged' }], 'query string');
  return parts as { [K in keyof T]: T[K] extends 'string' ? string : number };
}
