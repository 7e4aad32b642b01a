import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { defaultPolicy } from '../../src/policy/defaults.js';
import { validatePolicy } from '../../src/policy/validate.js';

const us = () => defaultPolicy({ homeCountry: 'US', timezone: 'America/New_York' });

describe('defaultPolicy', () => {
  it('is a valid policy for several home countries', () => {
    for (const [homeCountry, timezone] of [
      ['US', 'America/New_York'],
      ['GB', 'Europe/London'],
      ['JP', 'Asia/Tokyo'],
      ['JM', 'America/Jamaica'],
    ] as const) {
      const policy = defaultPolicy({ homeCountry, timezone });
      expect(validatePolicy(policy)).toBe(policy);
    }
  });

  it('lets a US site call only the US: Canada and the +1 Caribbean countries are foreign', () => {
    const { destinations } = us();
    expect(destinations.allowCountries).toEqual(['US']);
    expect(destinations.allowCountries).not.toContain('CA');
    expect(destinations.allowCountries).not.toContain('JM');
    expect(destinations.allowHighRisk).toBe(false);
  });

  it('denies premium-rate, shared-cost, satellite and international-network numbers', () => {
    expect(us().destinations.denyTypes).toEqual(['PREMIUM_RATE', 'SHARED_COST', 'SATELLITE', 'INTERNATIONAL_NETWORK']);
  });

  it('denies voicemail call-out and sources it cannot place', () => {
    const policy = us();
    expect(policy.voicemailCallout).toBe('deny');
    expect(policy.geofence.unknownSource).toBe('deny');
    expect(policy.geofence.allowCountries).toEqual(['US']);
  });

  it('trusts loopback and private networks but not carrier-grade NAT', () => {
    const { allowCidrs } = us().geofence;
    for (const cidr of ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '::1/128', 'fc00::/7', 'fe80::/10']) {
      expect(allowCidrs).toContain(cidr);
    }
    expect(allowCidrs).not.toContain('100.64.0.0/10');
    expect(allowCidrs).not.toContain('0.0.0.0/0');
  });

  it('sets no time restriction until an admin writes windows', () => {
    expect(us().schedule).toEqual({ timezone: 'America/New_York', appliesTo: 'none', windows: [] });
  });

  it('caps spend, minutes, concurrency and call length', () => {
    expect(us().budget).toEqual({
      currency: 'USD',
      dailySpend: 25,
      monthlySpend: 300,
      dailyMinutes: 600,
      maxConcurrent: 2,
      maxCallSeconds: 3600,
      minCallSeconds: 30,
    });
  });

  it('denies sources with ten failed authentications in a day, trusts no network, and locks an account taken over', () => {
    expect(us().intrusion).toEqual({ failureThreshold: 10, windowHours: 24, trustedCidrs: [], lockOnTakeover: true });
    const a = us();
    a.intrusion.trustedCidrs.push('198.51.100.7');
    expect(us().intrusion.trustedCidrs).toEqual([]);
  });

  it('budgets in euros in Germany but in dollars where 25 local units would be almost nothing', () => {
    expect(defaultPolicy({ homeCountry: 'DE', timezone: 'Europe/Berlin' }).budget.currency).toBe('EUR');
    expect(defaultPolicy({ homeCountry: 'JP', timezone: 'Asia/Tokyo' }).budget.currency).toBe('USD');
  });

  it('is enabled, strips no access prefix, and gives each call its own arrays', () => {
    const a = us();
    const b = us();
    expect(a.enabled).toBe(true);
    expect(a.numbering.accessPrefix).toBe('');
    a.destinations.allowCountries.push('CA');
    expect(b.destinations.allowCountries).toEqual(['US']);
  });

  it('refuses an unknown home country or time zone, naming both', () => {
    const build = () => defaultPolicy({ homeCountry: 'UK', timezone: 'Mars/Olympus' });
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(/homeCountry: unknown country code "UK".*timezone: unknown IANA time zone "Mars\/Olympus"/);
  });
});
