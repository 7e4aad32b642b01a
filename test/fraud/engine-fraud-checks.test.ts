import { describe, expect, it } from 'vitest';
import { compilePolicy, type EngineEnv } from '../../src/engine/engine.js';
import { EMPTY_USAGE, type CircuitBreakerState, type UsageSnapshot, type VelocityCounts } from '../../src/domain/usage.js';
import type { Decision, DecisionRequest } from '../../src/domain/decision.js';
import type { ExtensionState } from '../../src/engine/types.js';
import { openGeoIp } from '../../src/geo/geoip.js';
import { BUILTIN_HIGH_RISK } from '../../src/numbers/high-risk.js';
import { defaultPolicy } from '../../src/policy/defaults.js';
import { mergePolicy } from '../../src/policy/merge.js';
import type { PolicyOverrides } from '../../src/policy/schema.js';
import { compileRates } from '../../src/rates/rate-table.js';

/** The pure engine with counters handed in, as the store would read them in the transaction. */
const env: EngineEnv = {
  homeCountry: 'US',
  geoip: openGeoIp(),
  rates: compileRates([
    { prefix: '+', perMinute: 1, increment: 60 },
    { prefix: '+1', perMinute: 0.02, increment: 60 },
  ]),
  highRisk: BUILTIN_HIGH_RISK,
  blockedPrefixes: [],
  denyUnknownExtensions: false,
};
const defaults = defaultPolicy({ homeCountry: 'US', timezone: 'America/New_York' });
const known: ExtensionState = { known: true, locked: false, lockReason: null };
// Calls abroad are allowed, so that velocity is what decides.
const ABROAD: PolicyOverrides = { destinations: { allowCountries: ['*'] }, budget: { dailySpend: null, monthlySpend: null, dailyMinutes: null, maxConcurrent: null } };

const QUIET: VelocityCounts = {
  placedLastMinute: 0,
  internationalLastHour: 0,
  destinationsLastHour: 0,
  destinationInLastHour: false,
  deniedLastHour: 0,
  newCountriesLastHour: 0,
  countryKnown: true,
};

function decide(dialled: string, options: { overrides?: PolicyOverrides; velocity?: Partial<VelocityCounts>; breaker?: CircuitBreakerState; source?: string } = {}) {
  const policy = compilePolicy(mergePolicy(defaults, { ...ABROAD, ...options.overrides }), env, 1);
  const request: DecisionRequest = {
    extension: '1001',
    dialled,
    source: options.source ?? '192.168.1.20:5060',
    origin: 'phone',
    at: new Date('2026-11-17T15:00:00Z'),
    transport: 'cli',
  };
  const usage: UsageSnapshot = { ...EMPTY_USAGE, velocity: { ...QUIET, ...options.velocity }, ...(options.breaker ? { breaker: options.breaker } : {}) };
  return { decision: policy.evaluate(request, known, usage), query: policy.fraudQuery(request, known) };
}

const check = (d: Decision, name: string) => d.checks.find((c) => c.name === name);

describe('velocity: calls placed in the last minute', () => {
  it('allows the tenth call of a minute and denies the eleventh with velocity_exceeded, locking the extension', () => {
    const tenth = decide('12125550123', { velocity: { placedLastMinute: 9 } }).decision;
    expect(tenth).toMatchObject({ result: 'ALLOW', reason: 'allowed' });
    expect(tenth.fraud?.attempt).toMatchObject({ placed: true, policyDenied: false });

    const eleventh = decide('12125550123', { velocity: { placedLastMinute: 10 } }).decision;
    expect(eleventh).toMatchObject({ result: 'DENY', reason: 'velocity_exceeded', limitMs: 0, grant: null });
    expect(check(eleventh, 'velocity')).toMatchObject({ outcome: 'fail', detail: '11 calls placed in the last 60 s, limit 10' });
    expect(eleventh.fraud?.lock).toBe('velocity: 11 calls placed in the last 60 s, limit 10');
    expect(eleventh.fraud?.attempt?.placed).toBe(false);
    expect(eleventh.fraud?.findings).toEqual([expect.objectContaining({ counter: 'attemptsPerMinute', level: 'breach', count: 11, limit: 10, windowMs: 60_000 })]);
  });

  it('warns from 80 % of a limit: the eighth call of a minute passes with a warning', () => {
    const { decision } = decide('12125550123', { velocity: { placedLastMinute: 7 } });
    expect(decision.result).toBe('ALLOW');
    expect(check(decision, 'velocity')).toMatchObject({ outcome: 'pass', warn: true });
    expect(decision.fraud?.findings).toEqual([expect.objectContaining({ counter: 'attemptsPerMinute', level: 'warn', count: 8 })]);
    expect(decision.fraud?.lock).toBeNull();
  });

  it('does not count a call another check denies as placed, whatever the counters say', () => {
    const { decision } = decide('19002345678', { velocity: { placedLastMinute: 10 } });
    expect(decision.reason).toBe('destination_type_denied');
    expect(decision.fraud?.attempt).toMatchObject({ placed: false, policyDenied: true });
    expect(decision.fraud?.lock).toBeNull();
  });

  it('throttles without locking when lockOnBreach is false', () => {
    const { decision } = decide('12125550123', { velocity: { placedLastMinute: 10 }, overrides: { velocity: { lockOnBreach: false } } });
    expect(decision.reason).toBe('velocity_exceeded');
    expect(decision.fraud?.lock).toBeNull();
  });

  it('has no limit when the field is null', () => {
    const { decision, query } = decide('12125550123', { velocity: { placedLastMinute: 500 }, overrides: { velocity: { maxAttemptsPerMinute: null } } });
    expect(decision.result).toBe('ALLOW');
    expect(query?.caps.placedPerMinute).toBeNull();
  });
});

describe('velocity: international calls, distinct numbers and denied attempts an hour', () => {
  it('denies the 21st international call of an hour, but not the 21st domestic one', () => {
    expect(decide('011442079460000', { velocity: { internationalLastHour: 20 } }).decision.reason).toBe('velocity_exceeded');
    expect(decide('12125550123', { velocity: { internationalLastHour: 20 } }).decision.reason).toBe('allowed');
  });

  it('denies a 31st distinct number in an hour, but calling one of the 30 again is fine', () => {
    expect(decide('12125550123', { velocity: { destinationsLastHour: 30 } }).decision.reason).toBe('velocity_exceeded');
    expect(decide('12125550123', { velocity: { destinationsLastHour: 30, destinationInLastHour: true } }).decision.reason).toBe('allowed');
  });

  it('locks an extension probing the policy at its 11th denied attempt of an hour, naming velocity_exceeded', () => {
    const tenth = decide('18765551234', { velocity: { deniedLastHour: 9 }, overrides: { destinations: { allowCountries: ['US'] } } }).decision;
    expect(tenth.reason).toBe('destination_country_denied');
    const eleventh = decide('18765551234', { velocity: { deniedLastHour: 10 }, overrides: { destinations: { allowCountries: ['US'] } } }).decision;
    expect(eleventh.reason).toBe('velocity_exceeded');
    expect(eleventh.checks.filter((c) => c.outcome === 'fail').map((c) => c.name)).toEqual(['velocity', 'destination']);
    expect(eleventh.fraud?.lock).toContain('11 attempts denied by the policy in the last hour, limit 10');
  });

  it('does not count budget denials as probing: a busy line is not an attacker', () => {
    const { decision } = decide('12125550123', { velocity: { deniedLastHour: 10 }, overrides: { budget: { maxConcurrent: 0 } } });
    expect(decision.reason).toBe('budget_concurrency');
    expect(decision.fraud?.attempt).toMatchObject({ placed: false, policyDenied: false });
  });
});

describe('novelty', () => {
  it('flags the first call to a country not called in 30 days, and breaches at the fourth new country in an hour', () => {
    const first = decide('011442079460000', { velocity: { countryKnown: false } }).decision;
    expect(first.result).toBe('ALLOW');
    expect(check(first, 'novelty')).toMatchObject({ outcome: 'pass', warn: true, detail: 'warning: first call to GB in 30 days (1 new in the last hour, limit 3)' });
    expect(first.fraud?.attempt).toMatchObject({ country: 'GB', novelCountry: true });

    const fourth = decide('01133142685300', { velocity: { countryKnown: false, newCountriesLastHour: 3 } }).decision;
    expect(fourth).toMatchObject({ result: 'DENY', reason: 'velocity_exceeded' });
    expect(check(fourth, 'novelty')?.outcome).toBe('fail');
    expect(fourth.fraud?.lock).toContain('4 countries called for the first time in 30 days within the last hour (FR is the latest), limit 3');
  });

  it('never flags the home country or a country called within the window', () => {
    expect(check(decide('12125550123', { velocity: { countryKnown: false } }).decision, 'novelty')).toMatchObject({ outcome: 'pass', detail: 'a domestic call' });
    expect(check(decide('011442079460000', { velocity: { newCountriesLastHour: 3 } }).decision, 'novelty')).toMatchObject({ outcome: 'pass' });
  });

  it('asks the store to look back noveltyDays for the destination country', () => {
    const { query } = decide('011442079460000', { overrides: { velocity: { noveltyDays: 7 } } });
    expect(query).toMatchObject({ destination: '+442079460000', country: 'GB', breaker: true, noveltyMs: 7 * 86_400_000 });
  });
});

describe('what the store is asked to read', () => {
  it('reads nothing for an emergency call or an extension that may not call', () => {
    const policy = compilePolicy(defaults, env, 1);
    const request: DecisionRequest = { extension: '1001', dialled: '911', source: '', origin: 'phone', at: new Date(), transport: 'cli' };
    expect(policy.fraudQuery(request, known)).toBeNull();
    expect(policy.fraudQuery({ ...request, dialled: '12125550123' }, { known: true, locked: true, lockReason: 'x' })).toBeNull();
    expect(policy.fraudQuery({ ...request, dialled: '12125550123' }, known)).toMatchObject({ destination: '+12125550123', country: null, breaker: false });
  });

  it('skips the fraud checks of a locked extension: its attempts are not counted', () => {
    const policy = compilePolicy(defaults, env, 1);
    const request: DecisionRequest = { extension: '1001', dialled: '12125550123', source: '', origin: 'phone', at: new Date(), transport: 'cli' };
    const d = policy.evaluate(request, { known: true, locked: true, lockReason: 'x' }, EMPTY_USAGE);
    expect(d.reason).toBe('extension_locked');
    expect(check(d, 'velocity')).toMatchObject({ outcome: 'skip', detail: 'not counted: the extension may not call' });
    expect(d.fraud?.attempt).toBeNull();
  });
});

describe('the site circuit breaker', () => {
  const closed = (spent: number, limit = 500): CircuitBreakerState => ({ open: false, openedAt: null, limitMicros: limit * 1e6, spentMicros: spent * 1e6 });

  it('opens on the international call whose reservation would cross the hourly limit, and denies it', () => {
    // A 60-minute call at 1.00 a minute reserves 60.00.
    expect(decide('011442079460000', { breaker: closed(440) }).decision.result).toBe('ALLOW');
    const crossing = decide('011442079460000', { breaker: closed(441) }).decision;
    expect(crossing).toMatchObject({ result: 'DENY', reason: 'velocity_exceeded' });
    expect(check(crossing, 'circuit_breaker')?.detail).toBe(
      'international spend in the last hour would reach 501.00 USD, site limit 500.00 USD: the circuit breaker opens',
    );
    expect(crossing.fraud).toMatchObject({ tripBreaker: true, lock: null });
  });

  it('once open, denies every international call and no domestic or emergency one', () => {
    const open: CircuitBreakerState = { open: true, openedAt: Date.parse('2026-11-17T14:00:00Z'), limitMicros: 500e6, spentMicros: 0 };
    expect(decide('011442079460000', { breaker: open }).decision.reason).toBe('velocity_exceeded');
    expect(decide('12125550123', { breaker: open }).decision.reason).toBe('allowed');
    expect(decide('911', { breaker: open }).decision.reason).toBe('emergency');
  });
});

describe('shadow mode', () => {
  const SHADOW: PolicyOverrides = { mode: 'shadow', destinations: { allowCountries: ['US'] } };

  it('allows a call enforce mode would deny, and says what enforce mode would have said', () => {
    const { decision } = decide('18765551234', { overrides: SHADOW, source: '80.128.0.1:5060' });
    expect(decision).toMatchObject({ result: 'ALLOW', reason: 'allowed', mode: 'shadow', wouldDeny: true, wouldReason: 'destination_country_denied' });
    expect(decision.limitMs).toBe(3_600_000);
    expect(decision.grant).toMatchObject({ seconds: 3600 });
    expect(decision.message).toBe('Call to Jamaica allowed, limit 60 min (shadow mode; would be denied: destination_country_denied)');
    // Every check ran, the budget too, for the audit.
    expect(decision.checks.filter((c) => c.outcome === 'fail').map((c) => c.reason)).toEqual(['destination_country_denied', 'source_country_denied']);
    expect(check(decision, 'budget')?.outcome).toBe('pass');
  });

  it('counts a would-be denial as enforce mode would, but never locks', () => {
    const { decision } = decide('12125550123', { overrides: SHADOW, velocity: { placedLastMinute: 10 } });
    expect(decision).toMatchObject({ result: 'ALLOW', wouldDeny: true, wouldReason: 'velocity_exceeded' });
    expect(decision.fraud).toMatchObject({ mode: 'shadow', lock: null, attempt: { placed: false } });
    expect(decision.fraud?.findings).toEqual([expect.objectContaining({ level: 'breach', counter: 'attemptsPerMinute' })]);
  });

  it('leaves emergency calls as they are', () => {
    expect(decide('911', { overrides: SHADOW }).decision).toMatchObject({ reason: 'emergency' });
    expect(decide('911', { overrides: SHADOW }).decision.wouldDeny).toBeUndefined();
  });
});
