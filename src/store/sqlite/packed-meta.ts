/**
 * A decision's meta as the audit stores it. The transports record what they know of the calling
 * channel under the same five keys every time (guard/authorize-args.ts), so a row keeps only the
 * values, in that order, separated by \x1e after a \x01 mark: about half of their JSON (some 70
 * bytes a decision). Any other shape (other keys, another order, a control character in a value)
 * is stored as its plain JSON, which is also how rows written before packing read.
 */

/** Append only: a stored row names its values by position. */
const KEYS = ['channel', 'uniqueid', 'context', 'callerid', 'calleridname'] as const;

const PACKED = '\x01';
const SEPARATOR = '\x1e';
const CONTROL = /[\x00-\x1f]/;

function packable(meta: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(meta);
  return keys.length === KEYS.length && keys.every((key, i) => key === KEYS[i] && typeof meta[key] === 'string' && !CONTROL.test(meta[key]));
}

export function packMeta(meta: Readonly<Record<string, string>>): string {
  return packable(meta) ? PACKED + KEYS.map((key) => meta[key]).join(SEPARATOR) : JSON.stringify(meta);
}

export function unpackMeta(text: string): Record<string, string> {
  if (!text.startsWith(PACKED)) return JSON.parse(text) as Record<string, string>;
  const values = text.slice(1).split(SEPARATOR);
  const meta: Record<string, string> = {};
  KEYS.forEach((key, i) => (meta[key] = values[i] as string));
  return meta;
}
