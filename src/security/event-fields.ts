import type { SecurityEvent, SecurityEventKind } from '../domain/security.js';
import { formatAddress, parseAddress } from '../net/address.js';
import type { SecurityFields } from './security-fields.js';

/**
 * One mapper from Asterisk's security event fields to a SecurityEvent, whichever way they came:
 * a `security` log line (`SecurityEvent="…"`, via parseSecurityFields) or an AMI event block
 * (`Event: …`, same field names). The AMI client and the log parsers both call it, so that one
 * event means the same thing from either.
 */

/** Every event of main/security_events.c; the ones that say nothing about a secret are kept as `other`. */
const KINDS: Readonly<Record<string, SecurityEventKind>> = {
  InvalidAccountID: 'invalid_account',
  ChallengeResponseFailed: 'failed_auth',
  InvalidPassword: 'failed_auth',
  SuccessfulAuth: 'successful_auth',
  ChallengeSent: 'challenge_sent',
  FailedACL: 'other',
  SessionLimit: 'other',
  MemoryLimit: 'other',
  LoadAverageLimit: 'other',
  RequestNotSupported: 'other',
  RequestNotAllowed: 'other',
  AuthMethodNotAllowed: 'other',
  RequestBadFormat: 'other',
  UnexpectedAddress: 'other',
  InvalidTransport: 'other',
};

/**
 * The SecurityEvent the fields describe; null when they are not a security event (`PeerStatus`,
 * `FullyBooted`, a response). `fallbackAt` is used when EventTV is missing or unreadable (the
 * log line's own time, or the moment an AMI block arrived).
 */
export function securityEventFromFields(fields: SecurityFields, fallbackAt: number): SecurityEvent | null {
  const name = fields.SecurityEvent ?? fields.Event;
  if (name === undefined) return null;
  const kind = KINDS[name];
  if (kind === undefined) return null;
  const event: SecurityEvent = {
    kind,
    at: parseEventTime(fields.EventTV ?? '') ?? fallbackAt,
    service: fields.Service ?? '',
    account: accountOf(fields.AccountID),
    address: parseSecurityAddress(fields.RemoteAddress ?? ''),
    detail: name,
  };
  if (fields.SessionID) event.session = fields.SessionID;
  return event;
}

function accountOf(id: string | undefined): string | null {
  return id === undefined || id === '' || id === '<unknown>' ? null : id;
}

// `2026-12-01T22:10:01.676+0000`: Asterisk 12 and later (ast_tvdate with `%FT%T.%3q%z`).
const ISO_TV = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?([+-])(\d{2}):?(\d{2})$/;
// `1373098165-824497`: seconds and microseconds (Asterisk 11).
const SECONDS_TV = /^(\d{1,12})-(\d{1,6})$/;

/** EventTV (or SessionTV) in epoch ms; null when it is in neither form. */
export function parseEventTime(text: string): number | null {
  const s = SECONDS_TV.exec(text);
  if (s) return Number(s[1]) * 1000 + Math.floor(Number((s[2] as string).padStart(6, '0')) / 1000);
  const m = ISO_TV.exec(text);
  if (!m) return null;
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  const utc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
  const offset = (Number(m[9]) * 60 + Number(m[10])) * 60_000;
  return m[8] === '+' ? utc - offset : utc + offset;
}

// `IPV4/UDP/127.0.0.5/5060`, `IPV6/TCP/2001:db8::1/5061`: family, transport, address, port.
const SECURITY_ADDRESS = /^IPV[46]\/[A-Za-z]+\/(.+)\/\d{1,5}$/i;

/** The address of RemoteAddress/LocalAddress, canonical and without its port; null when unreadable. */
export function parseSecurityAddress(text: string): string | null {
  const m = SECURITY_ADDRESS.exec(text);
  const address = m ? parseAddress(m[1] as string) : null;
  return address === null ? null : formatAddress(address);
}
