import { describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../src/domain/security.js';
import { openGeoIp } from '../../src/geo/geoip.js';
import { trustedNetworks } from '../../src/intrusion/networks.js';
import { ReputationTracker } from '../../src/intrusion/reputation.js';
import { assessTakeover, type TakeoverPolicy } from '../../src/intrusion/takeover.js';
import { captureEvents, from } from '../support/security-events.js';

const geoip = openGeoIp();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const tracker = (options: { maxSources?: number; learningMs?: number } = {}): ReputationTracker => new ReputationTracker({ country: (a) => geoip.country(a), ...options });
const feed = (t: ReputationTracker, events: SecurityEvent[]) => events.map((e) => t.record(e));
const policy = (over: Partial<TakeoverPolicy> = {}): TakeoverPolicy => ({ failureThreshold: 10, windowHours: 24, trustedCidrs: [], lockOnTakeover: true, shadow: false, ...over });
const NO_TRUST = trustedNetworks([]);
/** The account's own counts: reported by a takeover, never deciding one. */
const ACCOUNT = { failures: 0, successes: 1 };

const events = captureEvents();
/** The capture's last event: every count below is read then. */
const END = Math.max(...events.map((e) => e.at));

const failure = (address: string, at: number, over: Partial<SecurityEvent> = {}): SecurityEvent => ({
  kind: 'failed_auth',
  at,
  service: 'PJSIP',
  account: '1001',
  address,
  detail: 'ChallengeResponseFailed',
  ...over,
});
const success = (address: string, at: number, account = '1001'): SecurityEvent => ({ kind: 'successful_auth', at, service: 'PJSIP', account, address, detail: 'SuccessfulAuth' });

describe('attempts, not events (shared/asterisk/security, fact 7)', () => {
  it("the scan (a) of 13 accounts from 127.0.0.5 is 52 events and 13 attempts, each account tried once", () => {
    const scan = from(events, '127.0.0.5');
    expect(scan).toHaveLength(52);
    const t = tracker();
    feed(t, scan);
    expect(t.standing('127.0.0.5', DAY, END)).toEqual({ address: '127.0.0.5', failures: 13, network: '127.0.0.0/24', networkFailures: 13 });
    const [top] = t.topSources(DAY, END, 10);
    expect(top?.accounts).toEqual(['127', '128', '129', '1000', '1002', '1003', '1004', '1005', '1006', '1007', '1008', '1009', '1010']);
    expect(top?.successes).toBe(0);
  });

  it('the brute force (b) from 127.0.0.6 counts 4, then the SuccessfulAuth of (c) for 1001 is a takeover', () => {
    const t = tracker();
    const mine = from(events, '127.0.0.6');
    const breakIn = mine.findIndex((e) => e.kind === 'successful_auth');
    const observed = feed(t, mine.slice(0, breakIn));
    expect(observed.every((o) => o === null)).toBe(true);
    const at = mine[breakIn]?.at as number;
    const standing = t.standing('127.0.0.6', DAY, at);
    expect(standing.failures).toBe(4);

    const observation = t.record(mine[breakIn] as SecurityEvent);
    expect(observation).toMatchObject({ account: '1001', address: '127.0.0.6', country: null, service: 'PJSIP' });
    expect(t.accountStanding('1001', DAY, at)).toEqual({ failures: 4, successes: 1 });
    const finding = assessTakeover(observation!, standing, ACCOUNT, policy({ failureThreshold: 4 }), NO_TRUST);
    expect(finding).toMatchObject({ account: '1001', address: '127.0.0.6', failures: 4, threshold: 4 });
    // One failure fewer than the threshold is a phone with a typo, not a takeover.
    expect(assessTakeover(observation!, standing, ACCOUNT, policy({ failureThreshold: 5 }), NO_TRUST)).toBeNull();
    // 0 turns the check off.
    expect(assessTakeover(observation!, standing, ACCOUNT, policy({ failureThreshold: 0 }), NO_TRUST)).toBeNull();
  });

  it('the whole capture: challenges never count, each request once, the AMI logins against 127.0.0.1', () => {
    const t = tracker();
    feed(t, events);
    const failures = Object.fromEntries(t.topSources(DAY, END, 10).map((s) => [s.address, s.failures]));
    // (d1) a wrong password and (d2) a missing account from .7; (f) anonymous from .9; (e) the OPTIONS to 100 from .8
    // (its ChallengeSent for 1001 is not a failure); (h) two AMI logins from 127.0.0.1.
    expect(failures).toEqual({ '127.0.0.5': 13, '127.0.0.6': 4, '127.0.0.7': 2, '127.0.0.1': 2, '127.0.0.9': 1, '127.0.0.8': 1 });
    expect(t.standing('127.0.0.6', DAY, END).networkFailures).toBe(23);
  });

  it('a phone retrying a wrong password on one Call-ID counts each retry, seconds apart', () => {
    const t = tracker();
    for (let i = 0; i < 6; i++) t.record(failure('198.51.100.7', 1_000_000 + i * 60_000, { session: 'same-call-id@phone' }));
    expect(t.standing('198.51.100.7', DAY, 1_000_000 + 6 * 60_000).failures).toBe(6);
  });
});

describe('the sliding window', () => {
  it('counts the failures of the window only, and none after the time asked', () => {
    const t = tracker();
    const t0 = Date.UTC(2026, 11, 1, 0, 0);
    for (let i = 0; i < 5; i++) t.record(failure('203.0.113.9', t0 + i * HOUR));
    expect(t.standing('203.0.113.9', 3 * HOUR, t0 + 4 * HOUR).failures).toBe(3);
    expect(t.standing('203.0.113.9', DAY, t0 + 4 * HOUR).failures).toBe(5);
    expect(t.standing('203.0.113.9', DAY, t0 + 2 * HOUR).failures).toBe(3);
    expect(t.standing('203.0.113.9', DAY, t0 + 30 * HOUR).failures).toBe(0);
    // Kept 7 days at most, whatever the window asked.
    expect(t.standing('203.0.113.9', 30 * DAY, t0 + 8 * DAY).failures).toBe(0);
  });

  it('an event a few ms late goes to its own minute', () => {
    const t = tracker();
    t.record(failure('203.0.113.9', 10 * 60_000 + 5));
    t.record(failure('203.0.113.9', 9 * 60_000 + 59_990));
    expect(t.standing('203.0.113.9', 60_000, 10 * 60_000 + 10).failures).toBe(1);
    expect(t.standing('203.0.113.9', 2 * 60_000, 10 * 60_000 + 10).failures).toBe(2);
  });
});

describe('networks, trust and the suspicious list', () => {
  const t0 = Date.UTC(2026, 11, 1, 9, 0);

  it('an attacker rotating addresses in one /24 is listed as the range; a lone address as itself', () => {
    const t = tracker();
    for (let i = 0; i < 12; i++) t.record(failure(`203.0.113.${10 + (i % 4)}`, t0 + i * 1000));
    for (let i = 0; i < 10; i++) t.record(failure('198.51.100.200', t0 + i * 1000));
    for (let i = 0; i < 9; i++) t.record(failure('192.0.2.1', t0 + i * 1000));
    expect(t.suspicious(10, DAY, t0 + HOUR, NO_TRUST)).toEqual([
      { entry: '203.0.113.0/24', kind: 'network', failures: 12, country: null },
      { entry: '198.51.100.200', kind: 'address', failures: 10, country: null },
    ]);
    expect(t.suspicious(0, DAY, t0 + HOUR, NO_TRUST)).toEqual([]);
  });

  it('IPv6 sources are grouped by /64', () => {
    const t = tracker();
    for (let i = 0; i < 10; i++) t.record(failure(`2001:db8:1:2::${i + 1}`, t0 + i));
    expect(t.standing('2001:db8:1:2::ff', DAY, t0 + 10)).toEqual({ address: '2001:db8:1:2::ff', failures: 0, network: '2001:db8:1:2::/64', networkFailures: 10 });
    expect(t.suspicious(10, DAY, t0 + 10, NO_TRUST).map((s) => s.entry)).toEqual(['2001:db8:1:2::/64']);
  });

  it('the office: its NAT address with a phone stuck on a wrong password is never listed nor a takeover; its neighbours are listed one by one', () => {
    const t = tracker();
    const office = trustedNetworks(['198.51.100.7']);
    // All day, every minute, the same phone with the old password.
    for (let i = 0; i < 600; i++) t.record(failure('198.51.100.7', t0 + i * 60_000, { session: 'stuck@office-phone' }));
    for (let i = 0; i < 11; i++) t.record(failure('198.51.100.66', t0 + i * 1000, { kind: 'invalid_account', account: `${100 + i}` }));
    const at = t0 + 600 * 60_000;
    expect(t.standing('198.51.100.7', DAY, at).failures).toBe(600);
    expect(t.suspicious(10, DAY, at, office)).toEqual([{ entry: '198.51.100.66', kind: 'address', failures: 11, country: null }]);
    // Another phone of the office registers fine from the same address: not a takeover.
    const observed = t.record(success('198.51.100.7', at, '1002'));
    expect(assessTakeover(observed!, t.standing('198.51.100.7', DAY, at), ACCOUNT, policy(), office)).toBeNull();
    // Without the trust it would be.
    expect(assessTakeover(observed!, t.standing('198.51.100.7', DAY, at), ACCOUNT, policy(), NO_TRUST)).not.toBeNull();
  });
});

describe('places: a country new for the account', () => {
  const t0 = Date.UTC(2026, 11, 1, 9, 0);

  it('after the learning period, a success from a country never seen for the account is a takeover; before it, not', () => {
    const t = tracker({ learningMs: DAY });
    expect(t.record(success('80.128.0.1', t0))).toMatchObject({ country: 'DE', newCountry: false, newAddress: false });
    // An hour later from Britain: still learning (a phone and a softphone on a trip).
    const early = t.record(success('81.128.0.1', t0 + HOUR));
    expect(early).toMatchObject({ country: 'GB', newCountry: false, newAddress: true });
    expect(assessTakeover(early!, t.standing('81.128.0.1', DAY, t0 + HOUR), ACCOUNT, policy(), NO_TRUST)).toBeNull();
    // Two days later from Australia.
    const late = t.record(success('1.1.1.1', t0 + 2 * DAY));
    expect(late).toMatchObject({ country: 'AU', newCountry: true, newAddress: true });
    expect(assessTakeover(late!, t.standing('1.1.1.1', DAY, t0 + 2 * DAY), ACCOUNT, policy(), NO_TRUST)).toMatchObject({ newCountry: true, failures: 0, country: 'AU' });
    // Germany and Britain are known now.
    expect(t.record(success('80.128.0.2', t0 + 3 * DAY))).toMatchObject({ newCountry: false });
    expect(t.newPlaces(10).map((p) => p.address)).toEqual(['80.128.0.2', '1.1.1.1', '81.128.0.1']);
  });

  it('an AMI login is no extension: it is counted, it locks nothing', () => {
    const t = tracker();
    feed(t, events);
    const login = events.find((e) => e.kind === 'successful_auth' && e.service === 'AMI') as SecurityEvent;
    const observed = t.record({ ...login, at: END });
    expect(assessTakeover(observed!, t.standing('127.0.0.1', DAY, END), ACCOUNT, policy({ failureThreshold: 1 }), NO_TRUST)).toBeNull();
  });
});

describe('bounded memory', () => {
  it('keeps at most maxSources sources, forgetting the least recently seen', () => {
    const t = tracker({ maxSources: 3 });
    const t0 = Date.UTC(2026, 11, 1, 9, 0);
    for (let i = 1; i <= 5; i++) t.record(failure(`203.0.113.${i}`, t0 + i));
    t.record(failure('203.0.113.3', t0 + 10));
    expect(t.topSources(DAY, t0 + 20, 10).map((s) => s.address).sort()).toEqual(['203.0.113.3', '203.0.113.4', '203.0.113.5']);
    t.record(failure('203.0.113.6', t0 + 30));
    expect(t.topSources(DAY, t0 + 40, 10).map((s) => s.address).sort()).toEqual(['203.0.113.3', '203.0.113.5', '203.0.113.6']);
  });
});
