import type { CheckName, CheckOutcome, ReasonCode } from '../../domain/decision.js';

/**
 * A decision's checks as the audit stores them: about a tenth of their JSON. Each check is its
 * name and outcome (and reason) in one character each, then its detail with the engine's most
 * common wording replaced by control characters; checks are separated by \x1e. Every outcome and
 * detail reads back exactly. Checks that do not fit that shape (a field, name or reason this
 * table does not know, a control character in a detail) are stored as their plain JSON, which
 * is also how rows written before packing read.
 *
 * The tables only ever grow: a stored row names its entries by position, so none may move or
 * change. Wording the engine stops writing costs nothing but its slot.
 */

/** Append only, like the phrases: positions are stored (the registry's order is not: it may change). */
const NAMES: readonly CheckName[] = [
  'emergency',
  'extension',
  'number',
  'destination',
  'voicemail',
  'schedule',
  'geofence',
  'budget',
  'velocity',
  'novelty',
  'circuit_breaker',
  'source_suspicious',
  'source_concurrency',
  'destination_spread',
];

/** Append only. */
const REASONS: readonly ReasonCode[] = [
  'allowed',
  'emergency',
  'extension_unknown',
  'extension_disabled',
  'extension_locked',
  'number_invalid',
  'destination_country_denied',
  'destination_type_denied',
  'destination_high_risk',
  'destination_prefix_blocked',
  'outside_schedule',
  'source_not_allowed',
  'source_country_denied',
  'source_unknown',
  'voicemail_callout_denied',
  'budget_concurrency',
  'budget_daily_spend',
  'budget_monthly_spend',
  'budget_daily_minutes',
  'velocity_exceeded',
  'guard_error',
  'source_suspicious',
  'source_concurrency',
  'destination_spread',
];

/** Append only. */
const PHRASES: readonly string[] = [
  'not an emergency number',
  'extension ',
  ' (not configured, default policy)',
  ' calls a minute, ',
  ' international an hour, ',
  ' numbers an hour, ',
  ' denied an hour',
  'a domestic call',
  'FIXED_LINE_OR_MOBILE',
  ' is allowed',
  'not a voicemail call-out',
  'no schedule applies',
  ' is inside ',
  ' s by maxCallSeconds at ',
  '/min, reserving ',
  'not an international call',
  'emergency numbers are always allowed',
  'not reached: an earlier check denied the call',
  'the site circuit breaker is open since ',
  ': international calls are stopped until an admin resets it',
  'not placed, so ',
  ' is not counted',
  ' is not in allowCountries',
  ' spent abroad in the last hour',
  ', this call reserves ',
  'warning: first call to ',
  ' new in the last hour)',
  ' was called in the last ',
  'PREMIUM_RATE',
  'FIXED_LINE',
  'MOBILE',
  'TOLL_FREE',
  'limit ',
  ' is denied',
  'country ',
  'type ',
  ' USD',
  'not counted',
  'novelty is off',
  'no velocity limits',
  ' is not a valid number',
  ' is locked',
  ' is outside every window',
  'voicemail call-out',
  ', an allowed country',
  ', not an allowed source country',
  ' has no known country and is outside every allowed network',
  'no site limit on international spend',
  'calls a minute',
  'international an hour',
  'numbers an hour',
  'denied an hour',
  ' days',
  ' failed authentications from ',
  ' failed authentications ',
  ' in the last ',
  ', not limited per source',
  ' is inside the trusted network ',
  ', the network of ',
  ' calls in progress from ',
  ' across extensions',
  ' from ',
  // A decision's message (packText).
  'Call to ',
  ' allowed, limit ',
  ' min',
  ' denied: ',
  ' (configured)',
];

const PACKED = '\x01';
const SEPARATOR = '\x1e';
// Phrase codes: \x02-\x1d for the first 28 phrases, \x1f and one printable character for the next 95.
const DIRECT = 28;
if (PHRASES.length > DIRECT + 95 || NAMES.length > 26 || REASONS.length > 94) throw new Error('packed-checks: a table outgrew its codes');

const codeOf = (i: number): string => (i < DIRECT ? String.fromCharCode(2 + i) : `\x1f${String.fromCharCode(0x20 + i - DIRECT)}`);
const phraseCode = new Map(PHRASES.map((phrase, i) => [phrase, codeOf(i)]));
const codePhrase = new Map(PHRASES.map((phrase, i) => [codeOf(i), phrase]));
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// Longest first: where phrases overlap, the longer one wins.
const PACK = new RegExp([...PHRASES].sort((a, b) => b.length - a.length).map(escape).join('|'), 'g');
const UNPACK = /\x1f[\s\S]|[\x02-\x1d]/g;
const CONTROL = /[\x00-\x1f]/;

const nameCode = new Map(NAMES.map((name, i) => [name, String.fromCharCode(0x61 + i)]));
const reasonCode = new Map(REASONS.map((reason, i) => [reason, String.fromCharCode(0x21 + i)]));
/** Outcome and warn in one character. */
const OUTCOMES = { pass: 'p', skip: 's', fail: 'f' } as const;
const WARNED = { pass: 'P', skip: 'S', fail: 'F' } as const;
const outcomeOf: Record<string, { outcome: CheckOutcome['outcome']; warn: boolean }> = {
  p: { outcome: 'pass', warn: false },
  s: { outcome: 'skip', warn: false },
  f: { outcome: 'fail', warn: false },
  P: { outcome: 'pass', warn: true },
  S: { outcome: 'skip', warn: true },
  F: { outcome: 'fail', warn: true },
};

// Most details repeat (per extension, number, network, rate): packing each once is the saving.
const DETAIL_MEMO = 4096;
const memo = new Map<string, string>();
function packDetail(detail: string): string {
  let packed = memo.get(detail);
  if (packed === undefined) {
    packed = detail.replace(PACK, (phrase) => phraseCode.get(phrase) as string);
    if (memo.size >= DETAIL_MEMO) memo.clear();
    memo.set(detail, packed);
  }
  return packed;
}

const ALLOWED_KEYS = new Set(['name', 'outcome', 'reason', 'detail', 'warn']);

function packable(c: CheckOutcome): boolean {
  if (!nameCode.has(c.name) || !(c.outcome in OUTCOMES) || typeof c.detail !== 'string' || CONTROL.test(c.detail)) return false;
  if ((c.outcome === 'fail') !== (c.reason !== undefined) || (c.reason !== undefined && !reasonCode.has(c.reason))) return false;
  if (c.warn !== undefined && c.warn !== true) return false;
  for (const key in c) if (!ALLOWED_KEYS.has(key)) return false;
  return true;
}

export function packChecks(checks: readonly CheckOutcome[]): string {
  if (!checks.every(packable)) return JSON.stringify(checks);
  let out = PACKED;
  checks.forEach((c, i) => {
    if (i > 0) out += SEPARATOR;
    out += (nameCode.get(c.name) as string) + (c.warn ? WARNED : OUTCOMES)[c.outcome];
    if (c.reason !== undefined) out += reasonCode.get(c.reason) as string;
    out += packDetail(c.detail);
  });
  return out;
}

const TEXT_JSON = PACKED + PACKED;

/**
 * A decision's message (and its number type, one of the phrases) as the audit stores it: the engine's wording replaced by the phrase codes
 * above after a mark (its messages are a few phrases around a destination and a limit). A text
 * with a control character is kept as its JSON after a double mark, so that every text reads back;
 * a row written before packing (no mark) reads as it is.
 */
export function packText(text: string): string {
  return CONTROL.test(text) ? TEXT_JSON + JSON.stringify(text) : PACKED + packDetail(text);
}

export function unpackText(stored: string): string {
  if (stored.startsWith(TEXT_JSON)) return JSON.parse(stored.slice(2)) as string;
  return stored.startsWith(PACKED) ? stored.slice(1).replace(UNPACK, (code) => codePhrase.get(code) as string) : stored;
}

export function unpackChecks(text: string): CheckOutcome[] {
  if (!text.startsWith(PACKED)) return JSON.parse(text) as CheckOutcome[];
  if (text.length === 1) return [];
  return text
    .slice(1)
    .split(SEPARATOR)
    .map((part) => {
      const name = NAMES[part.charCodeAt(0) - 0x61] as CheckName;
      const { outcome, warn } = outcomeOf[part[1] as string] as { outcome: CheckOutcome['outcome']; warn: boolean };
      let rest = part.slice(2);
      let reason: ReasonCode | undefined;
      if (outcome === 'fail') {
        reason = REASONS[rest.charCodeAt(0) - 0x21];
        rest = rest.slice(1);
      }
      const detail = rest.replace(UNPACK, (code) => codePhrase.get(code) as string);
      const check: CheckOutcome = reason === undefined ? { name, outcome, detail } : { name, outcome, reason, detail };
      if (warn) check.warn = true;
      return check;
    });
}
