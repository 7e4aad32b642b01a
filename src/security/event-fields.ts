/**
 * One Asterisk security event as named fields → the SecurityEvent dialguard counts. The same
 * fields arrive as an AMI block (`Event: InvalidAccountID`, `AccountID: 127`, …) and as a
 * `security` log line (`SecurityEvent="InvalidAccountID",AccountID="127",…`): one mapper for both,
 * so that the live feed and forensics can never disagree on what an event means.
 */
import type { SecurityEvent, SecurityEventKind } from '../domain/security.js';
import { formatAddress, parseAddress } from '../net/address.js';

/**
 * Every event of Asterisk's security framework (include/asterisk/security_events.h), by what it
 * means for a source. A wrong PJSIP password is ChallengeResponseFailed, never InvalidPassword
 * (README fact 3); InvalidPassword comes from AMI and chan_sip.
 */
const KINDS: ReadonlyMap<string, SecurityEventKind> = new Map([
  ['InvalidAccountID', 'invalid_account'],
  ['ChallengeResponseFailed', 'failed_auth'],
  ['InvalidPassword', 'failed_auth'],
  ['SuccessfulAuth', 'successful_auth'],
  ['ChallengeSent', 'challenge_sent'],
  ['FailedACL', 'other'],
  ['SessionLimit', 'other'],
  ['MemoryLimit', 'other'],
  ['LoadAverageLimit', 'other'],
  ['RequestNotSupported', 'other'],
  ['RequestNotAllowed', 'other'],
  ['AuthMethodNotAllowed', 'other'],
  ['RequestBadFormat', 'other'],
  ['UnexpectedAddress', 'other'],
  ['InvalidTransport', 'other'],
]);

/** Whether an event name is one of Asterisk's security events (the AMI stream also carries others). */
export function isSecurityEventName(name: string): boolean {
  return KINDS.has(name);
}

/**
 * Null when the fields are not a security event, or one without a usable EventTV (Asterisk always
 * sends it: without it the event cannot be placed in a window). The name is read from `Event`
 * (AMI) or `SecurityEvent` (the log channel).
 */
export function securityEventFromFields(fields: ReadonlyMap<string, string> | Record<string, string>): SecurityEvent | null {
  const get = fields instanceof Map ? (name: string) => fields.get(name) : (name: string) => (Object.hasOwn(fields, name) ? (fields as Record<string, string>)[name] : undefined);
  const detail = get('SecurityEvent') ?? get('Event') ?? '';
  const kind = KINDS.get(detail);
  if (kind === undefined) return null;
  const at = parseEventTime(get('EventTV') ?? '');
  if (at === null) return null;
  const event: SecurityEvent = {
    kind,
    at,
    service: get('Service') ?? '',
    account: accountOf(get('AccountID')),
    address: remoteAddress(get('RemoteAddress') ?? ''),
    detail,
  };
  const session = get('SessionID');
  if (session) event.session = session;
  return event;
}

/** `<unknown>` is what PJSIP says for the digest of an account that does not exist (README fact 2). */
function accountOf(value: string | undefined): string | null {
  return value === undefined || value === '' || value === '<unknown>' ? null : value;
}

/**
 * `IPV4/UDP/127.0.0.5/5060`, `IPV6/TCP/2001:db8::1/5061` (security_events.c: family, transport,
 * address, port; brackets around an IPv6 address are accepted too) → the address alone.
 */
export function remoteAddress(value: string): string | null {
  const m = /^IPV[46]\/[A-Za-z0-9]+\/(.+)\/\d+$/.exec(value);
  const text = m?.[1]?.replace(/^\[(.*)\]$/, '$1');
  const address = text === undefined ? null : parseAddress(text);
  return address === null ? null : formatAddress(address);
}

const ISO_TIME = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d:?\d\d)$/;
/** Asterisk 11 wrote `1373098165-824497`: seconds and microseconds (printed as a plain number, not padded). */
const EPOCH_TIME = /^(\d{1,12})-(\d{1,6})$/;

/** EventTV → ms since the epoch; null when it is neither form or not a real time. */
export function parseEventTime(text: string): number | null {
  const epoch = EPOCH_TIME.exec(text);
  if (epoch) return Number(epoch[1]) * 1000 + Math.floor(Number(epoch[2]) / 1000);
  const m = ISO_TIME.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Math.floor(Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3)));
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const check = new Date(utc);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return null;
  const zone = m[8] ?? 'Z';
  if (zone === 'Z') return utc;
  const digits = zone.replace(':', '');
  const offset = (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5))) * 60_000;
  return zone.startsWith('-') ? utc + offset : utc - offset;
}
