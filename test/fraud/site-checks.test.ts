import { describe, expect, it } from 'vitest';
import type { Decision, DecisionRequest } from '../../src/domain/decision.js';
import type { SiteCounts } from '../../src/domain/site.js';
import { EMPTY_USAGE, type UsageSnapshot, type VelocityCounts } from '../../src/domain/usage.js';
import { compilePolicy, type EngineEnv } from '../../src/engine/engine.js';
import type { ExtensionState } from '../../src/engine/types.js';
import { composeFraudEffects } from '../../src/fraud/effects.js';
import { openGeoIp } from '../../src/geo/geoip.js';
import { BUILTIN_HIGH_RISK } from '../../src/numbers/high-risk.js';
import { defaultPolicy } from '../../src/policy/defaults.js';
import { mergePolicy } from '../../src/policy/merge.js';
import type { PolicyOverrides } from '../../src/policy/schema.js';
import { validateDocument } from '../../src/policy/document.js';
import { compileRates } from '../../src/rates/rate-table.js';

/** The site-wide checks in the pure engine, with the counters handed in as the store would read them. */
const env: EngineEnv = {
  homeCountry: 'US',
  geoip: openGeoIp(),
  rates: compileRates([
    { prefix: '+', perMinute: 0.05, increment: 60 },
    { prefix: '+1', perMinute: 0.02, increment: 60 },
  ]),
  highRisk: BUILTIN_HIGH_RISK,
  blockedPrefixes: [],
  denyUnknownExtensions: false,
};
const defaults = defaultPolicy({ homeCountry: 'US', timezone: 'America/New_York' });
const known: ExtensionState = { known: true, locked: false, lockReason: null };
/** Calls abroad and from anywhere are allowed, budgets are off: the site-wide checks decide. */
const OPEN: PolicyOverrides = {
  destinations: { allowCountries: ['*'] },
  geofence: { allowCountries: ['*'] },
  budget: { dailySpend: null, monthlySpend: null, dailyMinutes: null, maxConcurrent: null },
};
const QUIET: VelocityCounts = {
  placedLastMinute: 0,
  internationalLastHour: 0,
  destinationsLastHour: 0,
  destinationInLastHour: false,
  deniedLastHour: 0,
  newCountriesLastHour: 0,
  countryKnown: true,
};
/** A German address: outside the PBX's own networks. */
const REMOTE = '80.128.0.1:5060';
const LONDON = '011442079460000';

function decide(dialled: string, site: SiteCounts, options: { overrides?: PolicyOverrides; source?: string } = {}) {
  const policy = compilePolicy(mergePolicy(mergePolicy(defaults, OPEN), options.overrides ?? {}), env, 1);
  const request: DecisionRequest = { extension: '1001', dialled, source: options.source ?? REMOTE, origin: 'phone', at: new Date('2026-11-17T15:00:00Z'), transport: 'cli' };
  const usage: UsageSnapshot = { ...EMPTY_USAGE, velocity: QUIET, site };
  return { request, decision: policy.evaluate(request, known, usage), query: policy.fraudQuery(request, known) };
}

const check = (d: Decision, name: string) => d.checks.find((c) => c.name === name);

describe('source_concurrency: calls in progress from one source address, across extensions', () => {
  it('allows the tenth call at once from an address and denies the eleventh', () => {
    const tenth = decide('12125550123', { sourceActiveCalls: 9 }).decision;
    expect(tenth).toMatchObject({ result: 'ALLOW', reason: 'allowed' });
    expect(check(tenth, 'source_concurrency')).toMatchObject({ outcome: 'pass', detail: '10/10 calls at once from 80.128.0.1' });
    const eleventh = decide('12125550123', { sourceActiveCalls: 10 }).decision;
    expect(eleventh).toMatchObject({ result: 'DENY', reason: 'source_concurrency', message: 'Call to United States denied: too many calls at once from this network address' });
    expect(check(eleventh, 'source_concurrency')).toMatchObject({ outcome: 'fail', detail: '10 calls in progress from 80.128.0.1 across extensions, limit 10' });
    // Not a velocity breach: nothing is locked, no alert.
    expect(eleventh.fraud).toMatchObject({ lock: null, findings: [] });
    expect(eleventh.fraud?.attempt).toMatchObject({ placed: false, policyDenied: false });
  });

  it('asks the store for the calls of the address without its port, read up to the limit', () => {
    expect(decide('12125550123', {}).query?.site).toEqual({ source: { ip: '80.128.0.1', cap: 10 }, spread: null });
    expect(decide('12125550123', {}, { source: '[2001:db8::7]:5060' }).query?.site?.source).toEqual({ ip: '2001:db8::7', cap: 10 });
  });

  it('does not limit the PBX’s own networks, nor a network the admin exempts, and reads nothing for them', () => {
    const lan = decide('12125550123', { sourceActiveCalls: 50 }, { source: '192.168.1.20:5060' });
    expect(lan.decision.reason).toBe('allowed');
    expect(check(lan.decision, 'source_concurrency')).toMatchObject({ outcome: 'skip', detail: '192.168.1.20 is inside 192.168.0.0/16, not limited per source' });
    expect(lan.query?.site).toBeUndefined();
    const office = decide('12125550123', { sourceActiveCalls: 50 }, { overrides: { sources: { exemptCidrs: ['80.128.0.0/24'] } } });
    expect(office.decision.reason).toBe('allowed');
    expect(office.query?.site).toBeUndefined();
  });

  it('lets an office behind NAT carry more calls when its extensions raise the limit', () => {
    expect(decide('12125550123', { sourceActiveCalls: 10 }, { overrides: { sources: { maxConcurrentPerSource: 30 } } }).decision.reason).toBe('allowed');
    expect(decide('12125550123', { sourceActiveCalls: 30 }, { overrides: { sources: { maxConcurrentPerSource: 30 } } }).decision.reason).toBe('source_concurrency');
  });

  it('is off at 0, and skipped without a source address', () => {
    const off = decide('12125550123', { sourceActiveCalls: 500 }, { overrides: { sources: { maxConcurrentPerSource: 0 } } });
    expect(off.decision.reason).toBe('allowed');
    expect(off.query?.site).toBeUndefined();
    const none = decide('12125550123', {}, { source: '', overrides: { geofence: { unknownSource: 'allow' } } });
    expect(check(none.decision, 'source_concurrency')).toMatchObject({ outcome: 'skip', detail: 'no source address' });
  });

  it('only counts a call that would be placed: a call the policy denies says why', () => {
    const d = decide('0115352123456', { sourceActiveCalls: 10 }).decision; // Cuba, on the high-risk list
    expect(d.reason).toBe('destination_high_risk');
    expect(check(d, 'source_concurrency')).toMatchObject({ outcome: 'pass' });
  });
});

describe('destination_spread: extensions calling one number, site-wide', () => {
  it('lets the fifth extension call a number abroad and denies the sixth, with a breach alert about the number and no lock', () => {
    const fifth = decide(LONDON, { spread: { extensions: 4, includesCaller: false } }).decision;
    expect(fifth.reason).toBe('allowed');
    expect(check(fifth, 'destination_spread')).toMatchObject({ outcome: 'pass', detail: '5/5 extensions calling +442079460000 in the last hour' });

    const { request, decision: sixth } = decide(LONDON, { spread: { extensions: 5, includesCaller: false } });
    expect(sixth).toMatchObject({ result: 'DENY', reason: 'destination_spread', message: 'Call to United Kingdom denied: too many extensions called this number recently' });
    expect(sixth.fraud?.findings).toEqual([
      {
        check: 'destination_spread',
        counter: 'extensionsPerDestination',
        level: 'breach',
        count: 6,
        limit: 5,
        windowMs: 3_600_000,
        detail: '5 other extensions called +442079460000 in the last hour, limit 5',
        destination: '+442079460000',
        country: 'GB',
      },
    ]);
    // lockOnBreach is the velocity checks' setting: a number called from many extensions locks none of them.
    expect(sixth.fraud?.lock).toBeNull();

    const effects = composeFraudEffects(request, sixth, '01JCALL');
    expect(effects?.lock).toBeNull();
    expect(effects?.alerts).toEqual([
      expect.objectContaining({
        kind: 'breach',
        severity: 'error',
        check: 'destination_spread',
        counter: 'extensionsPerDestination',
        ext: '1001',
        message: 'Extension 1001: 5 other extensions called +442079460000 in the last hour, limit 5',
        // One alert per number, whichever extension dials it next.
        dedupKey: 'breach::number:+442079460000',
        dedupWindowMs: 3_600_000,
        calls: { only: { id: '01JCALL', number: '+442079460000' } },
        details: expect.objectContaining({ count: 6, limit: 5, windowSeconds: 3600, country: 'GB', locked: false }),
      }),
    ]);
  });

  it('lets an extension that already called the number go on calling it', () => {
    const d = decide(LONDON, { spread: { extensions: 5, includesCaller: true } }).decision;
    expect(d.reason).toBe('allowed');
    expect(check(d, 'destination_spread')).toMatchObject({ outcome: 'pass', detail: '5/5 extensions called +442079460000 in the last hour, this one among them' });
  });

  it('asks the store for the number’s E.164 form over the window, up to the limit', () => {
    expect(decide(LONDON, {}, { source: '10.0.0.5:5060' }).query?.site).toEqual({ source: null, spread: { e164: '+442079460000', windowMs: 3_600_000, cap: 5 } });
    const longer = decide(LONDON, { spread: { extensions: 2, includesCaller: false } }, { source: '10.0.0.5:5060', overrides: { spread: { windowHours: 6, maxExtensionsPerDestination: 2 } } });
    expect(longer.query?.site?.spread).toEqual({ e164: '+442079460000', windowMs: 6 * 3_600_000, cap: 2 });
    expect(check(longer.decision, 'destination_spread')).toMatchObject({ outcome: 'fail', detail: '2 other extensions called +442079460000 in the last 6 hours, limit 2' });
  });

  it('counts calls abroad only unless internationalOnly is false, and is off at 0', () => {
    const domestic = decide('12125550123', { spread: { extensions: 50, includesCaller: false } }, { source: '10.0.0.5:5060' });
    expect(domestic.decision.reason).toBe('allowed');
    expect(check(domestic.decision, 'destination_spread')).toMatchObject({ outcome: 'skip', detail: 'a domestic call' });
    expect(domestic.query?.site).toBeUndefined();
    const everywhere = decide('12125550123', { spread: { extensions: 5, includesCaller: false } }, { source: '10.0.0.5:5060', overrides: { spread: { internationalOnly: false } } });
    expect(everywhere.decision.reason).toBe('destination_spread');
    expect(everywhere.query?.site?.spread).toMatchObject({ e164: '+12125550123' });
    const off = decide(LONDON, { spread: { extensions: 50, includesCaller: false } }, { overrides: { spread: { maxExtensionsPerDestination: 0 } } });
    expect(off.decision.reason).toBe('allowed');
    expect(off.query?.site?.spread).toBeNull();
  });

  it('in shadow mode is audited as a would-be denial and its alert is marked shadow', () => {
    const { request, decision } = decide(LONDON, { spread: { extensions: 5, includesCaller: false } }, { overrides: { mode: 'shadow' } });
    expect(decision).toMatchObject({ result: 'ALLOW', wouldDeny: true, wouldReason: 'destination_spread' });
    expect(composeFraudEffects(request, decision, '01JCALL')?.alerts[0]).toMatchObject({ shadow: true, dedupKey: 'breach:shadow:number:+442079460000' });
  });
});

describe('the policy sections sources and spread', () => {
  it('are in the secure defaults', () => {
    expect(defaults.sources).toEqual({ maxConcurrentPerSource: 10, exemptCidrs: ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '::1/128', 'fc00::/7', 'fe80::/10'] });
    expect(defaults.spread).toEqual({ maxExtensionsPerDestination: 5, windowHours: 1, internationalOnly: true });
  });

  it('refuse a bad network, a negative limit and a window past a day, naming the field', () => {
    const problems = (doc: unknown) => {
      try {
        validateDocument(doc);
        return [];
      } catch (err) {
        return (err as { problems: Array<{ field: string }> }).problems.map((p) => p.field);
      }
    };
    expect(problems({ defaults: { sources: { exemptCidrs: ['10.0.0.0/33'] } } })).toEqual(['/defaults/sources/exemptCidrs/0']);
    expect(problems({ extensions: { '1001': { sources: { maxConcurrentPerSource: -1 } } } })).toEqual(['/extensions/1001/sources/maxConcurrentPerSource']);
    expect(problems({ defaults: { spread: { windowHours: 25 } } })).toEqual(['/defaults/spread/windowHours']);
    expect(problems({ defaults: { sources: { maxConcurrentPerSource: 30 }, spread: { maxExtensionsPerDestination: 0 } } })).toEqual([]);
  });
});
