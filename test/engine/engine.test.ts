import { describe, expect, it } from 'vitest';
import { CHECK_NAMES } from '../../src/engine/checks/registry.js';
import { compilePolicy, type EngineEnv } from '../../src/engine/engine.js';
import { EMPTY_USAGE } from '../../src/domain/usage.js';
import type { DecisionRequest } from '../../src/domain/decision.js';
import type { ExtensionState } from '../../src/engine/types.js';
import { openGeoIp } from '../../src/geo/geoip.js';
import { BUILTIN_HIGH_RISK } from '../../src/numbers/high-risk.js';
import { defaultPolicy } from '../../src/policy/defaults.js';
import { mergePolicy } from '../../src/policy/merge.js';
import type { PolicyOverrides } from '../../src/policy/schema.js';
import { compileRates, seedRates } from '../../src/rates/rate-table.js';

const env: EngineEnv = {
  homeCountry: 'US',
  geoip: openGeoIp(),
  rates: compileRates(seedRates('1')),
  highRisk: BUILTIN_HIGH_RISK,
  blockedPrefixes: [],
  denyUnknownExtensions: false,
};
const defaults = defaultPolicy({ homeCountry: 'US', timezone: 'America/New_York' });
const known: ExtensionState = { known: true, locked: false, lockReason: null };

// Tuesday 2026-11-17 10:00 in New York: office hours.
const TUESDAY_MORNING = new Date('2026-11-17T15:00:00Z');
// Saturday 2026-11-21 03:12 in New York.
const SATURDAY_NIGHT = new Date('2026-11-21T08:12:00Z');

function decide(dialled: string, options: { overrides?: PolicyOverrides; source?: string; origin?: string; at?: Date; extension?: ExtensionState } = {}) {
  const policy = compilePolicy(mergePolicy(defaults, options.overrides ?? {}), env, 7);
  const request: DecisionRequest = {
    extension: '1001',
    dialled,
    source: options.source ?? '192.168.1.20:5060',
    origin: options.origin ?? 'phone',
    at: options.at ?? TUESDAY_MORNING,
    transport: 'cli',
  };
  return policy.evaluate(request, options.extension ?? known, EMPTY_USAGE);
}

describe('the decision engine on the secure defaults of a US site', () => {
  it('allows a domestic call from the office LAN with a limit in ms and every check recorded', () => {
    const d = decide('12125550123');
    expect(d).toMatchObject({ result: 'ALLOW', reason: 'allowed', e164: '+12125550123', country: 'US', policyVersion: 7 });
    expect(d.limitMs).toBe(3_600_000);
    expect(d.message).toBe('Call to United States allowed, limit 60 min');
    // The registry's order (test/engine/registry.test.ts holds it to the README's).
    expect(d.checks.map((c) => c.name)).toEqual(CHECK_NAMES);
    expect(d.checks.filter((c) => c.outcome === 'fail')).toEqual([]);
  });

  it('stops a hacked extension dialling Cuba from abroad: high-risk country first, foreign source recorded too', () => {
    const d = decide('0115352123456', { overrides: { destinations: { allowCountries: ['*'] } }, source: '80.128.0.1:5060' });
    expect(d.result).toBe('DENY');
    expect(d.reason).toBe('destination_high_risk');
    expect(d.limitMs).toBe(0);
    expect(d.source).toEqual({ ip: '80.128.0.1', country: 'DE' });
    expect(d.checks.find((c) => c.name === 'geofence')).toMatchObject({ outcome: 'fail', reason: 'source_country_denied' });
  });

  it('denies a Jamaican (+1 876) number: another country for a US site, though it dials like a domestic one', () => {
    const d = decide('18765551234');
    expect(d).toMatchObject({ result: 'DENY', reason: 'destination_country_denied', country: 'JM' });
  });

  it('denies a US premium-rate 1-900 number by type', () => {
    expect(decide('19002345678')).toMatchObject({ result: 'DENY', reason: 'destination_type_denied', numberType: 'PREMIUM_RATE' });
  });

  it('denies a voicemail dial-out under the default voicemailCallout: deny', () => {
    expect(decide('12125550123', { origin: 'voicemail' })).toMatchObject({ result: 'DENY', reason: 'voicemail_callout_denied' });
  });

  it('denies a weekend-night international call outside the schedule', () => {
    const d = decide('011442079460000', {
      overrides: {
        destinations: { allowCountries: ['US', 'GB'] },
        schedule: { appliesTo: 'international', windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' }] },
      },
      at: SATURDAY_NIGHT,
    });
    expect(d).toMatchObject({ result: 'DENY', reason: 'outside_schedule', country: 'GB' });
  });

  it('allows 911 from a locked extension with reason emergency, every other check skipped', () => {
    const d = decide('911', { extension: { known: true, locked: true, lockReason: 'fraud' }, source: '', at: SATURDAY_NIGHT });
    expect(d).toMatchObject({ result: 'ALLOW', reason: 'emergency' });
    expect(d.limitMs).toBeGreaterThan(0);
    expect(d.checks.slice(1).every((c) => c.outcome === 'skip')).toBe(true);
  });

  it('denies a locked extension any other call', () => {
    expect(decide('12125550123', { extension: { known: true, locked: true, lockReason: 'velocity' } })).toMatchObject({ result: 'DENY', reason: 'extension_locked' });
  });

  it('denies a disabled extension', () => {
    expect(decide('12125550123', { overrides: { enabled: false } })).toMatchObject({ reason: 'extension_disabled' });
  });

  it('denies an invalid number', () => {
    expect(decide('12345')).toMatchObject({ result: 'DENY', reason: 'number_invalid' });
  });

  it('denies an empty source address under unknownSource: deny', () => {
    expect(decide('12125550123', { source: '' })).toMatchObject({ result: 'DENY', reason: 'source_unknown' });
  });

  it('names the first failing check in precedence order when several fail', () => {
    const d = decide('0115352123456', { origin: 'voicemail', source: '' });
    expect(d.reason).toBe('destination_country_denied');
    expect(d.checks.filter((c) => c.outcome === 'fail').map((c) => c.reason)).toEqual([
      'destination_country_denied',
      'voicemail_callout_denied',
      'source_unknown',
    ]);
  });

  it('strips the trunk access prefix before parsing', () => {
    expect(decide('912125550123', { overrides: { numbering: { accessPrefix: '9' } } })).toMatchObject({ result: 'ALLOW', e164: '+12125550123' });
  });
});

describe('numbers of no country (satellite, international networks) are denied for what they are', () => {
  const NETWORKS = [
    { dialled: '011881612345678', e164: '+881612345678', kind: 'satellite number', type: 'SATELLITE' }, // Iridium
    { dialled: '011870772123456', e164: '+870772123456', kind: 'satellite number', type: 'SATELLITE' }, // Inmarsat
    { dialled: '+8821612345678', e164: '+8821612345678', kind: 'satellite number', type: 'SATELLITE' }, // Thuraya
    { dialled: '011883510012345678', e164: '+883510012345678', kind: 'international network number', type: 'INTERNATIONAL_NETWORK' },
    { dialled: '+979123456789', e164: '+979123456789', kind: 'international network number', type: 'PREMIUM_RATE' },
    { dialled: '+80012345678', e164: '+80012345678', kind: 'international network number', type: 'INTERNATIONAL_NETWORK' },
    { dialled: '+80812345678', e164: '+80812345678', kind: 'international network number', type: 'INTERNATIONAL_NETWORK' },
  ] as const;

  it.each(NETWORKS)('$dialled is a $kind denied by its type under the secure defaults', ({ dialled, e164, kind, type }) => {
    const d = decide(dialled);
    expect(d).toMatchObject({ result: 'DENY', reason: 'destination_type_denied', e164, country: null, numberType: type });
    expect(d.message).toBe(`Call to ${kind} ${e164} denied: this type of number is not allowed`);
  });

  it('denies Iridium by the high-risk list when satellite numbers are not denied by type', () => {
    const d = decide('011881612345678', { overrides: { destinations: { denyTypes: [] } } });
    expect(d).toMatchObject({ result: 'DENY', reason: 'destination_high_risk' });
    expect(d.message).toBe('Call to satellite number +881612345678 denied: the destination is on the high-risk list');
  });

  it('denies a network number by type, not by country, when neither its type nor the high-risk list denies it but allowCountries has no "*"', () => {
    const d = decide('011881612345678', { overrides: { destinations: { denyTypes: [], allowHighRisk: true, allowCountries: ['US', 'GB'] } } });
    expect(d).toMatchObject({ result: 'DENY', reason: 'destination_type_denied' });
    expect(d.message).toBe('Call to satellite number +881612345678 denied: this type of number is not allowed');
    expect(d.checks.find((c) => c.name === 'destination')?.detail).toBe('SATELLITE +881612345678 belongs to no country: only allowCountries "*" allows it');
  });

  it('never answers destination_country_denied or names a country for them, whatever the destination policy', () => {
    const policies: PolicyOverrides[] = [];
    for (const allowCountries of [['US'], ['US', 'GB'], ['*']])
      for (const denyTypes of [undefined, [], ['SATELLITE'], ['INTERNATIONAL_NETWORK']])
        for (const allowHighRisk of [false, true]) policies.push({ destinations: { allowCountries, allowHighRisk, ...(denyTypes ? { denyTypes } : {}) } });
    for (const { dialled } of NETWORKS) {
      for (const overrides of policies) {
        const d = decide(dialled, { overrides });
        expect(d.reason, `${dialled} ${JSON.stringify(overrides)}`).not.toBe('destination_country_denied');
        expect(d.message).not.toMatch(/country/);
        expect(d.message).toMatch(/satellite|international network/);
      }
    }
  });
});
