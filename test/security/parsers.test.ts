import { describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../src/domain/security.js';
import { parseEventTime, parseSecurityAddress, securityEventFromFields } from '../../src/security/event-fields.js';
import { parseLogLine } from '../../src/security/log-line.js';
import { parseAsteriskLine, type ParsedLine } from '../../src/security/parse-line.js';
import { parseSecurityFields } from '../../src/security/security-fields.js';
import { loadCapture, loadText } from '../support/captures.js';

// The captures were written on 2026-12-01, machine clock UTC; the year-less ones read against the next day.
const context = { timezone: 'UTC', referenceMs: Date.parse('2026-12-02T00:00:00Z') };

function linesOf(name: string): string[] {
  const lines = loadText(`security/${name}`).split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function parseFile(name: string): ParsedLine[] {
  return linesOf(name).map((line) => parseAsteriskLine(line, context));
}

function tally(parsed: ParsedLine[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const p of parsed) {
    const key = p.kind === 'event' ? p.event.kind : p.kind;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

const events = (parsed: ParsedLine[]): SecurityEvent[] => parsed.flatMap((p) => (p.kind === 'event' ? [p.event] : []));
const iso = (ms: number): string => new Date(ms).toISOString();

describe('every captured log line is parsed or counted', () => {
  it('messages.log and full.log: 31 unknown-account and 21 failed NOTICEs, 3 successes, 14 other lines', () => {
    for (const name of ['messages.log', 'full.log']) {
      const parsed = parseFile(name);
      expect(parsed).toHaveLength(69);
      expect(tally(parsed)).toEqual({ invalid_account: 31, failed_auth: 21, successful_auth: 3, ignored: 14 });
    }
    const all = events(parseFile('messages.log'));
    expect(all[0]).toEqual({ kind: 'successful_auth', at: Date.parse('2026-12-01T22:09:59.662Z'), service: 'AMI', account: 'dgsec', address: '127.0.0.1', detail: 'AMI logged on' });
    expect(all[1]).toEqual({
      kind: 'invalid_account',
      at: Date.parse('2026-12-01T22:10:01.676Z'),
      service: 'PJSIP',
      account: '127',
      address: '127.0.0.5',
      detail: 'REGISTER No matching endpoint found',
      session: '1-17081@127.0.0.5',
    });
    expect(all[3]).toMatchObject({ kind: 'failed_auth', account: '127', detail: 'REGISTER Failed to authenticate', session: '1-17081@127.0.0.5' });
    // (b): the brute force on 1001 from 127.0.0.6, one NOTICE per wrong password.
    const brute = all.filter((e) => e.kind === 'failed_auth' && e.address === '127.0.0.6');
    expect(brute.map((e) => e.account)).toEqual(['1001', '1001', '1001', '1001']);
    // (c): the break-in shows only as VERBOSE lines, one with the Contact's address, one with none.
    expect(all.filter((e) => e.kind === 'successful_auth' && e.service === 'PJSIP')).toEqual([
      { kind: 'successful_auth', at: Date.parse('2026-12-01T22:10:07.597Z'), service: 'PJSIP', account: '1001', address: '127.0.0.6', detail: 'Added contact' },
      { kind: 'successful_auth', at: Date.parse('2026-12-01T22:10:07.597Z'), service: 'PJSIP', account: '1001', address: null, detail: 'Endpoint is now Reachable' },
    ]);
    // (f) and (e): the From as pjproject prints it, display name and all.
    expect(all.find((e) => e.address === '127.0.0.9')).toMatchObject({ kind: 'invalid_account', account: 'anonymous', detail: 'INVITE No matching endpoint found' });
    expect(all.find((e) => e.address === '127.0.0.8')).toMatchObject({ kind: 'invalid_account', account: '100', detail: 'OPTIONS No matching endpoint found' });
    // (h): AMI guessing, address without a port.
    expect(all.filter((e) => e.service === 'AMI' && e.kind !== 'successful_auth').map((e) => [e.kind, e.account, e.address])).toEqual([
      ['invalid_account', 'admin', '127.0.0.1'],
      ['failed_auth', 'admin', '127.0.0.1'],
      ['failed_auth', 'dgsec', '127.0.0.1'],
    ]);
  });

  it('security.log: every line is a security event, mapped like AMI', () => {
    const parsed = parseFile('security.log');
    expect(parsed).toHaveLength(80);
    expect(tally(parsed)).toEqual({ invalid_account: 31, challenge_sent: 25, failed_auth: 20, successful_auth: 4 });
    const all = events(parsed);
    expect(all[4]).toEqual({
      kind: 'failed_auth',
      at: Date.parse('2026-12-01T22:10:01.676Z'),
      service: 'PJSIP',
      account: null,
      address: '127.0.0.5',
      detail: 'ChallengeResponseFailed',
      session: '1-17081@127.0.0.5',
    });
    const success = all.filter((e) => e.kind === 'successful_auth' && e.service === 'PJSIP');
    expect(success.map((e) => [iso(e.at), e.account, e.address])).toEqual([
      ['2026-12-01T22:10:07.596Z', '1001', '127.0.0.6'],
      ['2026-12-01T22:10:09.714Z', '1001', '127.0.0.6'],
      ['2026-12-01T22:10:23.517Z', '1001', '127.0.0.6'],
    ]);
    expect(all.find((e) => e.detail === 'InvalidPassword')).toMatchObject({ kind: 'failed_auth', service: 'AMI', account: 'dgsec', address: '127.0.0.1' });
  });

  it('capture 2, default dateformat: the year comes from the reference, seconds only', () => {
    const messages = parseFile('capture2-messages.log');
    expect(messages).toHaveLength(14);
    expect(tally(messages)).toEqual({ successful_auth: 2, invalid_account: 2, failed_auth: 2, ignored: 8 });
    expect(events(messages).map((e) => [iso(e.at), e.kind, e.account, e.address])).toEqual([
      ['2026-12-01T22:12:32.000Z', 'successful_auth', 'dgsec', '127.0.0.1'],
      ['2026-12-01T22:12:34.000Z', 'invalid_account', '127', '127.0.0.5'],
      ['2026-12-01T22:12:34.000Z', 'invalid_account', '127', '127.0.0.5'],
      ['2026-12-01T22:12:34.000Z', 'failed_auth', '127', '127.0.0.5'],
      ['2026-12-01T22:12:34.000Z', 'failed_auth', '1001', '127.0.0.6'],
      ['2026-12-01T22:12:35.000Z', 'successful_auth', '1001', null],
    ]);
    const security = parseFile('capture2-security.log');
    expect(security).toHaveLength(14);
    // Line 1 is the `Asterisk 22.10.1 built by …` header.
    expect(security[0]).toEqual({ kind: 'ignored' });
    expect(tally(security)).toEqual({ ignored: 1, successful_auth: 4, invalid_account: 2, challenge_sent: 5, failed_auth: 2 });
  });

  it('chan_sip-lines.txt: grep prefixes, syslog forms, bare messages and an Asterisk 11 security line', () => {
    const parsed = parseFile('chan_sip-lines.txt');
    expect(parsed).toHaveLength(11);
    expect(tally(parsed)).toEqual({ invalid_account: 3, successful_auth: 1, failed_auth: 6, unrecognised: 1 });
    // Line 5 is the file's own `# from public examples` comment.
    expect(parsed[4]).toEqual({ kind: 'unrecognised' });
    const rows = parsed.map((p) => (p.kind === 'event' ? [iso(p.event.at), p.event.kind, p.event.service, p.event.account, p.event.address, p.event.detail] : p.kind));
    expect(rows).toEqual([
      ['2026-07-21T04:39:50.000Z', 'invalid_account', 'SIP', '127', '174.121.165.202', 'No matching peer found'],
      ['2026-07-21T04:39:50.000Z', 'invalid_account', 'SIP', '128', '174.121.165.202', 'No matching peer found'],
      ['2026-07-21T04:39:50.000Z', 'invalid_account', 'SIP', '129', '174.121.165.202', 'No matching peer found'],
      ['2026-07-17T04:55:21.000Z', 'successful_auth', 'SIP', '0004F72A00057', '74.115.96.19', 'Registered SIP'],
      'unrecognised',
      ['2026-11-04T18:30:40.000Z', 'failed_auth', 'SIP', '301', '192.168.200.100', 'Wrong password'],
      ['2012-02-13T17:21:54.000Z', 'failed_auth', 'SIP', '301', '1.2.3.4', 'Wrong password'],
      // The message part only, as syslog delivers it: no time, so the reference's.
      ['2026-12-02T00:00:00.000Z', 'failed_auth', 'SIP', '1001', '195.154.185.244', 'Wrong password'],
      ['2012-02-13T17:21:21.000Z', 'failed_auth', 'SIP', '301', '1.2.3.4', 'Username/auth name mismatch'],
      ['2026-10-17T23:52:29.000Z', 'failed_auth', 'SIP', '9973', '203.86.167.220', 'Username/auth name mismatch'],
      // EventTV in seconds-microseconds wins over the line's local time.
      ['2013-07-06T08:09:25.824Z', 'failed_auth', 'SIP', '972592891005', '141.255.164.106', 'InvalidPassword'],
    ]);
  });

  it('every line of every file in the folder, sip-messages.txt and the AMI stream included, is parsed or counted, never thrown', () => {
    for (const name of ['sip-messages.txt', 'ami-security-events.txt', 'README.md']) {
      const parsed = parseFile(name);
      expect(parsed.length).toBeGreaterThan(10);
      for (const p of parsed) expect(['event', 'ignored', 'unrecognised']).toContain(p.kind);
    }
    // SIP messages and AMI blocks are not log lines: nothing in them is taken for an authentication.
    expect(events(parseFile('sip-messages.txt'))).toEqual([]);
    expect(events(parseFile('ami-security-events.txt'))).toEqual([]);
  });
});

describe('the log line prefix', () => {
  it('reads the thread, the call id and the module', () => {
    const line = parseLogLine("[2026-12-01 22:10:09.713] VERBOSE[17229][C-00000001] pbx.c: Executing [0044207946000@lab-out:1] Verbose(\"PJSIP/1001-00000000\", \"x\") in new stack", context);
    expect(line).toEqual({ at: Date.parse('2026-12-01T22:10:09.713Z'), level: 'VERBOSE', thread: '17229', callId: 'C-00000001', module: 'pbx.c', message: 'Executing [0044207946000@lab-out:1] Verbose("PJSIP/1001-00000000", "x") in new stack' });
  });

  it('reads the syslog form with host and program, and the grep file prefix', () => {
    expect(parseLogLine(linesOf('chan_sip-lines.txt')[5] as string, context)).toMatchObject({ level: 'NOTICE', thread: '32257', module: 'chan_sip.c:23417 in handle_request_register' });
    expect(parseLogLine(linesOf('chan_sip-lines.txt')[3] as string, context)).toMatchObject({ file: '/var/log/asterisk/messages.1', level: 'VERBOSE', message: "-- Registered SIP '0004F72A00057' at 74.115.96.19 port 5060" });
  });

  it('a year-less date belongs to the latest year not after the reference, in the PBX zone', () => {
    const january = { timezone: 'America/New_York', referenceMs: Date.parse('2027-01-02T12:00:00Z') };
    expect(parseLogLine('[Dec 31 23:59:59] NOTICE[1] x.c: y', january).at).toBe(Date.parse('2027-01-01T04:59:59Z'));
    expect(parseLogLine('[Jan  2 08:00:00] NOTICE[1] x.c: y', january).at).toBe(Date.parse('2027-01-02T13:00:00Z'));
    // Summer time in New York: -4 h.
    expect(parseLogLine('[2026-07-01 12:00:00.250] NOTICE[1] x.c: y', january).at).toBe(Date.parse('2026-07-01T16:00:00.250Z'));
  });
});

describe('security fields and their mapper', () => {
  it('reads empty values and a Response field inside an event', () => {
    const text = loadText('security/security.log').split('\n')[4] as string;
    const fields = parseSecurityFields(text.slice(text.indexOf('SecurityEvent=')));
    expect(fields).toMatchObject({ SecurityEvent: 'ChallengeResponseFailed', Response: '45e15ccb365b7dece2872184b8d6349b', ExpectedResponse: '' });
    expect(Object.keys(fields ?? {})).toHaveLength(12);
    expect(parseSecurityFields('SecurityEvent="ChallengeSent",Challenge=""')).toEqual({ SecurityEvent: 'ChallengeSent', Challenge: '' });
    expect(parseSecurityFields('Asterisk 22.10.1 built by root')).toBeNull();
    expect(parseSecurityFields('SecurityEvent="unterminated')).toBeNull();
  });

  it('maps the AMI events of the capture with the same mapper', () => {
    const blocks = loadCapture<never>('security/ami-security-events.json') as unknown as Array<Record<string, string>>;
    const mapped = blocks.map((b) => securityEventFromFields(b, 0));
    // Responses, FullyBooted, PeerStatus and ContactStatus are not security events.
    expect(mapped.filter((e) => e === null)).toHaveLength(7);
    const kinds: Record<string, number> = {};
    for (const e of mapped) if (e) kinds[e.kind] = (kinds[e.kind] ?? 0) + 1;
    expect(kinds).toEqual({ invalid_account: 31, challenge_sent: 25, failed_auth: 20, successful_auth: 4 });
    expect(mapped[2]).toEqual({ kind: 'successful_auth', at: Date.parse('2026-12-01T22:09:59.662Z'), service: 'AMI', account: 'dgsec', address: '127.0.0.1', detail: 'SuccessfulAuth', session: '0x7f3be4001ed0' });
  });

  it('EventTV in both forms, addresses in both families', () => {
    expect(parseEventTime('2026-12-01T22:10:01.676+0000')).toBe(Date.parse('2026-12-01T22:10:01.676Z'));
    expect(parseEventTime('2026-12-01T17:10:01.676-0500')).toBe(Date.parse('2026-12-01T22:10:01.676Z'));
    expect(parseEventTime('1373098165-824497')).toBe(1373098165824);
    expect(parseEventTime('1373098165-5')).toBe(1373098165000);
    expect(parseEventTime('yesterday')).toBeNull();
    expect(parseSecurityAddress('IPV4/UDP/127.0.0.5/5060')).toBe('127.0.0.5');
    expect(parseSecurityAddress('IPV6/UDP/2001:DB8:0::1/5060')).toBe('2001:db8::1');
    expect(parseSecurityAddress('IPV4/UDP/127.0.0.5')).toBeNull();
    expect(securityEventFromFields({ SecurityEvent: 'ChallengeSent', EventTV: 'bad', AccountID: '<unknown>' }, 42)).toMatchObject({ at: 42, account: null, address: null });
  });
});
