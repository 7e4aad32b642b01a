import { describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../src/domain/security.js';
import { parseEventTime, parseSecurityAddress, securityEventFromFields } from '../../src/security/event-fields.js';
import { parseAsteriskLine } from '../../src/security/parse-line.js';
import { amiCaptureBlocks, captureLines } from '../support/security-captures.js';

const blocks = amiCaptureBlocks();
const events = blocks.filter((b) => b.Event !== undefined);
/** When an AMI block arrived: stands in for an unreadable EventTV only. */
const ARRIVED = Date.UTC(2030, 0, 1);
const CONTEXT = { timezone: 'UTC', referenceMs: ARRIVED };
const readLine = (line: string) => parseAsteriskLine(line, CONTEXT);
const SECURITY = new Set(['InvalidAccountID', 'ChallengeSent', 'ChallengeResponseFailed', 'SuccessfulAuth', 'InvalidPassword']);

describe('securityEventFromFields on the captured AMI events', () => {
  const mapped = events.map((b) => securityEventFromFields(b, ARRIVED));

  it('maps every security event and nothing else (FullyBooted, PeerStatus, ContactStatus are not)', () => {
    events.forEach((b, i) => expect(mapped[i] === null, b.Event).toBe(!SECURITY.has(b.Event as string)));
    expect(mapped.filter(Boolean).length).toBe(events.filter((b) => SECURITY.has(b.Event as string)).length);
  });

  it('reads a wrong PJSIP password (ChallengeResponseFailed) and AMI InvalidPassword as failed_auth, InvalidAccountID as invalid_account', () => {
    events.forEach((b, i) => {
      const kind = mapped[i]?.kind;
      if (b.Event === 'ChallengeResponseFailed' || b.Event === 'InvalidPassword') expect(kind).toBe('failed_auth');
      if (b.Event === 'InvalidAccountID') expect(kind).toBe('invalid_account');
      if (b.Event === 'SuccessfulAuth') expect(kind).toBe('successful_auth');
      if (b.Event === 'ChallengeSent') expect(kind).toBe('challenge_sent');
    });
  });

  it('gives the account named, null for <unknown>, and the remote address without its port', () => {
    events.forEach((b, i) => {
      const event = mapped[i];
      if (!event) return;
      expect(event.account).toBe(b.AccountID === '<unknown>' ? null : b.AccountID);
      expect(event.address).toBe((b.RemoteAddress as string).split('/')[2]);
      expect(event.service).toBe(b.Service);
      expect(event.detail).toBe(b.Event);
      expect(event.session).toBe(b.SessionID);
      expect(event.at).toBe(Date.parse(b.EventTV as string));
    });
  });

  it('shows the break-in: failures for 1001 from 127.0.0.6, then its SuccessfulAuth from the same address', () => {
    const from6 = mapped.filter((e): e is SecurityEvent => e?.address === '127.0.0.6');
    const firstSuccess = from6.findIndex((e) => e.kind === 'successful_auth');
    expect(firstSuccess).toBeGreaterThan(0);
    expect(from6[firstSuccess]).toMatchObject({ account: '1001', service: 'PJSIP', at: Date.parse('2026-12-01T22:10:07.596Z') });
    expect(from6.slice(0, firstSuccess).filter((e) => e.kind === 'failed_auth' && e.account === '1001').length).toBe(4);
  });

  it('names the accounts the scanner tried only in InvalidAccountID', () => {
    const tried = mapped.filter((e) => e?.kind === 'invalid_account' && e.address === '127.0.0.5').map((e) => e?.account);
    expect(new Set(tried)).toEqual(new Set(['127', '128', '129', '1000', '1002', '1003', '1004', '1005', '1006', '1007', '1008', '1009', '1010']));
    expect(mapped.filter((e) => e?.kind === 'failed_auth' && e.address === '127.0.0.5').every((e) => e?.account === null)).toBe(true);
  });

  it('places an event without a readable EventTV at the fallback time, and ignores inherited names', () => {
    expect(securityEventFromFields({ Event: 'InvalidAccountID', AccountID: '1' }, ARRIVED)).toMatchObject({ kind: 'invalid_account', at: ARRIVED });
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      expect(securityEventFromFields(Object.fromEntries([['Event', name], ['EventTV', '2026-12-01T22:10:01.676+0000']]), ARRIVED), name).toBeNull();
    }
  });
});

describe('security log lines (the placeholder adapter until the shared line parser lands)', () => {
  it('maps every line of security.log to the same event as the AMI block of the same moment', () => {
    const lines = captureLines('security.log');
    const fromLog = lines.map(readLine);
    expect(fromLog.every((l) => l.kind === 'event')).toBe(true);
    const fromAmi = events.map((b) => securityEventFromFields(b, ARRIVED)).filter((e): e is SecurityEvent => e !== null);
    // Both were recorded over the same window: the log channel and AMI carry the same 80 events.
    const key = (e: SecurityEvent): string => `${e.at} ${e.detail} ${e.account} ${e.address} ${e.session}`;
    const logKeys = fromLog.map((l) => (l.kind === 'event' ? key(l.event) : l.kind));
    expect(logKeys.sort()).toEqual(fromAmi.map(key).sort());
  });

  it('reads the default-dateformat capture, ignoring the "built by" header, and counts garbage as unparsed', () => {
    const lines = captureLines('capture2-security.log');
    const read = lines.map(readLine);
    expect(read[0]).toEqual({ kind: 'ignored' });
    expect(read.slice(1).every((l) => l.kind === 'event')).toBe(true);
    expect(readLine('[2026-12-01 22:10:01.676] SECURITY[1] res_security_log.c: SecurityEvent="NoSuchEvent",EventTV="x"').kind).toBe('unrecognised');
    expect(readLine('[2026-12-01 22:10:01.676] SECURITY[1] res_security_log.c: SecurityEvent="InvalidAccountID",EventTV="x').kind).toBe('unrecognised');
    expect(readLine('random text').kind).toBe('unrecognised');
  });
});

describe('field grammars', () => {
  it('reads RemoteAddress in its IPv4 and IPv6 forms', () => {
    expect(parseSecurityAddress('IPV4/UDP/127.0.0.5/5060')).toBe('127.0.0.5');
    expect(parseSecurityAddress('IPV4/TCP/127.0.0.1/45574')).toBe('127.0.0.1');
    expect(parseSecurityAddress('IPV6/UDP/2001:DB8::1/5060')).toBe('2001:db8::1');
    expect(parseSecurityAddress('')).toBeNull();
    expect(parseSecurityAddress('IPV4/UDP/999.0.0.1/5060')).toBeNull();
  });

  it('reads EventTV as ISO 8601 with an offset, and as Asterisk 11 seconds-microseconds', () => {
    expect(parseEventTime('2026-12-01T22:10:01.676+0000')).toBe(Date.UTC(2026, 11, 1, 22, 10, 1, 676));
    expect(parseEventTime('2026-12-01T23:10:01.676+0100')).toBe(Date.UTC(2026, 11, 1, 22, 10, 1, 676));
    expect(parseEventTime('1373098165-824497')).toBe(1373098165824);
    expect(parseEventTime('yesterday')).toBeNull();
  });
});
