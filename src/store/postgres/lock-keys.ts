import type { DecisionRequest } from '../../domain/decision.js';
import { parseSource } from '../../geo/source.js';

/**
 * First keys of the decision path's transaction-scoped advisory locks: an extension ('dgex'),
 * a signalling source address ('dgsr'), a destination ('dgds'). The second key is the item's.
 */
export const EXTENSION_LOCKS = 0x64676578;
export const SOURCE_LOCKS = 0x64677372;
export const DESTINATION_LOCKS = 0x64676473;

/** FNV-1a: the same 32-bit key for a name in every guard (a collision only makes two names take turns). */
export function extensionKey(ext: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < ext.length; i++) {
    h ^= ext.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/**
 * Digits of a destination's key: every way of dialling one number (with the access prefix,
 * the international or the trunk prefix, or "+") ends in the same digits, so the key is known
 * before the extension's policy says how to read the number.
 */
const DESTINATION_KEY_DIGITS = 7;
const NOT_DIGITS = /\D/g;

/** The keys of the site-wide locks of one request (source_concurrency, destination_spread); null when it has no such part. */
export function siteLockKeys(request: DecisionRequest): { source: number | null; destination: number | null } {
  const ip = parseSource(request.source);
  const digits = request.dialled.replace(NOT_DIGITS, '').slice(-DESTINATION_KEY_DIGITS);
  return { source: ip === null ? null : extensionKey(ip), destination: digits === '' ? null : Number(digits) };
}
