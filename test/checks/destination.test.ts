import { describe, expect, it } from 'vitest';
import { callTo } from '../support/check-context.js';
import { compileDestinationCheck } from '../../src/engine/checks/destination.js';
import { ValidationError } from '../../src/errors.js';
import { BUILTIN_HIGH_RISK } from '../../src/numbers/high-risk.js';
import type { Policy } from '../../src/policy/schema.js';

const call = callTo;

/** The secure default of the design: home country only, premium and satellite denied. */
function destinations(overrides: Partial<Policy['destinations']> = {}): Policy['destinations'] {
  return {
    allowCountries: ['US'],
    denyCountries: [],
    denyTypes: ['PREMIUM_RATE', 'SHARED_COST', 'SATELLITE', 'INTERNATIONAL_NETWORK'],
    allowHighRisk: false,
    blockedPrefixes: [],
    ...overrides,
  };
}

const siteLists = { highRisk: BUILTIN_HIGH_RISK, blockedPrefixes: [] as string[] };
const check = (overrides: Partial<Policy['destinations']> = {}, lists = siteLists) => compileDestinationCheck(destinations(overrides), lists);

describe('destination check: countries', () => {
  it('allows a domestic call under the secure default', () => {
    expect(check()(call('12125550123'))).toEqual({ name: 'destination', outcome: 'pass', detail: 'US FIXED_LINE_OR_MOBILE is allowed' });
  });

  it('denies a call to a Jamaican number dialled as 1 876 … from a US site', () => {
    expect(check()(call('18762101234'))).toMatchObject({
      outcome: 'fail',
      reason: 'destination_country_denied',
      detail: 'country JM is not in allowCountries',
    });
  });

  it('denies the same Jamaican number dialled with 9 and 011', () => {
    expect(check()(call('901118762101234', 'US', '9'))).toMatchObject({ outcome: 'fail', reason: 'destination_country_denied' });
  });

  it('denies a London number dialled with 011 unless GB is allowed', () => {
    expect(check()(call('011442079460000'))).toMatchObject({ outcome: 'fail', reason: 'destination_country_denied' });
    expect(check({ allowCountries: ['US', 'GB'] })(call('011442079460000'))).toMatchObject({ outcome: 'pass' });
  });

  it('reads allowCountries and denyCountries in any case', () => {
    expect(check({ allowCountries: ['us', 'gb'] })(call('011442079460000')).outcome).toBe('pass');
    expect(check({ allowCountries: ['*'], denyCountries: ['gb'] })(call('011442079460000')).reason).toBe('destination_country_denied');
  });

  it('lets "*" allow every country, but denyCountries still wins', () => {
    expect(check({ allowCountries: ['*'] })(call('011442079460000')).outcome).toBe('pass');
    expect(check({ allowCountries: ['*'], denyCountries: ['GB'] })(call('011442079460000'))).toMatchObject({
      outcome: 'fail',
      reason: 'destination_country_denied',
      detail: 'country GB is denied',
    });
  });

  it('allows an international network number (no country) only with "*", and denies it by type otherwise, not by country', () => {
    const network = call('+883510012345678');
    expect(check({ denyTypes: [], allowCountries: ['US', 'GB'], allowHighRisk: true })(network)).toMatchObject({
      outcome: 'fail',
      reason: 'destination_type_denied',
      detail: 'INTERNATIONAL_NETWORK +883510012345678 belongs to no country: only allowCountries "*" allows it',
    });
    expect(check({ denyTypes: [], allowCountries: ['*'], allowHighRisk: true })(network).outcome).toBe('pass');
  });

  it('judges a number of no country by its type and the high-risk list before asking for "*"', () => {
    expect(check()(call('011881612345678'))).toMatchObject({ reason: 'destination_type_denied', detail: 'type SATELLITE is denied' });
    expect(check({ denyTypes: [] })(call('011881612345678'))).toMatchObject({ reason: 'destination_high_risk', detail: 'high-risk destination: prefix +881' });
  });
});

describe('destination check: number types', () => {
  it('denies US 1-900 premium rate numbers', () => {
    expect(check()(call('19002001234'))).toMatchObject({ outcome: 'fail', reason: 'destination_type_denied', detail: 'type PREMIUM_RATE is denied' });
  });

  it('denies GB 09… premium rate numbers from a GB site', () => {
    expect(check({ allowCountries: ['GB'] })(call('09098790000', 'GB'))).toMatchObject({ outcome: 'fail', reason: 'destination_type_denied' });
  });

  it('denies an Iridium satellite number (+8816…) by type once its country is allowed', () => {
    expect(check({ allowCountries: ['*'] })(call('+881631234567'))).toMatchObject({
      outcome: 'fail',
      reason: 'destination_type_denied',
      detail: 'type SATELLITE is denied',
    });
  });

  it('denies an Inmarsat number (+870…) by the high-risk list when satellite calls are allowed by type', () => {
    expect(check({ allowCountries: ['*'], denyTypes: [] })(call('011870772123456'))).toMatchObject({
      outcome: 'fail',
      reason: 'destination_high_risk',
      detail: 'high-risk destination: prefix +870',
    });
  });

  it('allows a satellite number when the policy allows every country, type and high-risk destination', () => {
    expect(check({ allowCountries: ['*'], denyTypes: [], allowHighRisk: true })(call('+881631234567'))).toMatchObject({
      outcome: 'pass',
      detail: '+881631234567 SATELLITE is allowed',
    });
  });
});

describe('destination check: high-risk list', () => {
  it('denies Jamaica (+1876) from a US site that allows every country', () => {
    expect(check({ allowCountries: ['*'] })(call('18762101234'))).toMatchObject({
      outcome: 'fail',
      reason: 'destination_high_risk',
      detail: 'high-risk destination: prefix +1876',
    });
  });

  it('denies Cuba by country', () => {
    expect(check({ allowCountries: ['*'] })(call('011 53 5 1234567'))).toMatchObject({
      reason: 'destination_high_risk',
      detail: 'high-risk destination: country CU',
    });
  });

  it('allows a high-risk destination when allowHighRisk is set', () => {
    expect(check({ allowCountries: ['*'], allowHighRisk: true })(call('18762101234')).outcome).toBe('pass');
  });

  it('does not apply to domestic calls: a Jamaican site calling a Jamaican number', () => {
    expect(check({ allowCountries: ['JM'] })(call('8762101234', 'JM'))).toMatchObject({ outcome: 'pass' });
  });

  it('uses the site high-risk list it is given', () => {
    const lists = { highRisk: { countries: ['GB'], prefixes: [] }, blockedPrefixes: [] };
    expect(check({ allowCountries: ['*'] }, lists)(call('011442079460000'))).toMatchObject({ reason: 'destination_high_risk' });
    expect(check({ allowCountries: ['*'] }, lists)(call('18762101234')).outcome).toBe('pass');
  });
});

describe('destination check: blocked prefixes', () => {
  it('denies a prefix blocked by the policy, before any other rule', () => {
    expect(check({ blockedPrefixes: ['+1876'] })(call('18762101234'))).toMatchObject({
      outcome: 'fail',
      reason: 'destination_prefix_blocked',
      detail: 'prefix +1876 is blocked by the policy',
    });
  });

  it('denies a prefix on the site-wide list', () => {
    const lists = { highRisk: BUILTIN_HIGH_RISK, blockedPrefixes: ['+1212555'] };
    expect(check({}, lists)(call('12125550123'))).toMatchObject({
      reason: 'destination_prefix_blocked',
      detail: 'prefix +1212555 is blocked by the site-wide list',
    });
  });

  it('matches the longest blocked prefix', () => {
    const lists = { highRisk: BUILTIN_HIGH_RISK, blockedPrefixes: ['+1'] };
    expect(check({ blockedPrefixes: ['+1212'] }, lists)(call('12125550123')).detail).toBe('prefix +1212 is blocked by the policy');
  });

  it('refuses a blocked prefix that is not an E.164 prefix', () => {
    expect(() => check({ blockedPrefixes: ['011 53'] })).toThrow(ValidationError);
  });
});

describe('destination check: what it does not judge', () => {
  it('skips an invalid number (the number check denies it)', () => {
    expect(check()(call('411'))).toMatchObject({ name: 'destination', outcome: 'skip' });
  });

  it('skips an emergency number, which has no E.164 form', () => {
    expect(check({ denyTypes: ['UNKNOWN'] })(call('911'))).toMatchObject({ outcome: 'skip' });
  });
});
