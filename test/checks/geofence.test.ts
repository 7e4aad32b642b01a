import { describe, expect, it } from 'vitest';
import type { CheckContext } from '../../src/engine/checks/check.js';
import { compileGeofence, resolveSource } from '../../src/engine/checks/geofence.js';
import { EMPTY_USAGE } from '../../src/domain/usage.js';
import { ValidationError } from '../../src/errors.js';
import { openGeoIp } from '../../src/geo/geoip.js';
import type { Policy } from '../../src/policy/schema.js';

// Countries come from the shipped DB-IP Lite database (see test/geo/geoip.test.ts for why these
// addresses are stable): 8.8.8.8 is US, 80.128.0.1 and 2003::1 are Deutsche Telekom (DE),
// 2a00:23c4::1 is BT (GB). TEST-NET and private addresses have no country.
const geoip = openGeoIp();

/** A call whose SOURCE argument is `source`, resolved as the engine resolves it. */
function callFrom(source: string): CheckContext {
  return {
    request: { extension: '1001', dialled: '2125550100', source, origin: 'phone', at: new Date('2026-11-21T12:00:00Z'), transport: 'agi' },
    number: { digits: '2125550100', e164: '+12125550100', country: 'US', type: 'FIXED_LINE', valid: true, international: false },
    source: resolveSource(source, geoip),
    extension: { known: true, locked: false, lockReason: null },
    usage: EMPTY_USAGE,
    homeCountry: 'US',
    standing: null,
  };
}

function geofence(overrides: Partial<Policy['geofence']> = {}): Policy['geofence'] {
  return {
    allowCidrs: ['10.0.0.0/8', '192.168.0.0/16', '2001:db8:100::/48', '198.51.100.7'],
    allowCountries: ['US'],
    unknownSource: 'deny',
    ...overrides,
  };
}

describe('resolveSource', () => {
  it('gives the engine the normalised address and its country, once per request', () => {
    expect(resolveSource('[::ffff:8.8.8.8]:5060', geoip)).toEqual({ ip: '8.8.8.8', country: 'US' });
    expect(resolveSource('192.168.1.20:5060', geoip)).toEqual({ ip: '192.168.1.20', country: null });
    expect(resolveSource('', geoip)).toEqual({ ip: null, country: null });
  });
});

describe('geofence: office networks in allowCidrs', () => {
  const check = compileGeofence(geofence());

  it('allows a desk phone on the office LAN, though a LAN address has no country', () => {
    expect(check(callFrom('192.168.1.20:5060'))).toEqual({ name: 'geofence', outcome: 'pass', detail: '192.168.1.20 is inside 192.168.0.0/16' });
  });

  it('allows an IPv6 phone inside the office prefix', () => {
    expect(check(callFrom('[2001:db8:100::5]:5060')).detail).toBe('2001:db8:100::5 is inside 2001:db8:100::/48');
  });

  it('allows an IPv4-mapped source from a dual-stack socket, in dotted and in hex form', () => {
    expect(check(callFrom('[::ffff:10.1.2.3]:5060')).detail).toBe('10.1.2.3 is inside 10.0.0.0/8');
    expect(check(callFrom('[::ffff:c0a8:114]:5060')).detail).toBe('192.168.1.20 is inside 192.168.0.0/16');
  });

  it('allows a single listed address and nothing next to it', () => {
    expect(check(callFrom('198.51.100.7:5060')).outcome).toBe('pass');
    expect(check(callFrom('198.51.100.8:5060'))).toEqual({
      name: 'geofence',
      outcome: 'fail',
      reason: 'source_not_allowed',
      detail: '198.51.100.8 has no known country and is outside every allowed network',
    });
  });

  it('denies a private address outside the listed networks', () => {
    expect(check(callFrom('172.16.0.5:5060')).reason).toBe('source_not_allowed');
    expect(check(callFrom('[2001:db8:200::5]:5060')).reason).toBe('source_not_allowed');
  });

  it('matches an IPv4-mapped IPv6 CIDR against IPv4 sources', () => {
    const mapped = compileGeofence(geofence({ allowCidrs: ['::ffff:172.16.0.0/108'], allowCountries: [] }));
    expect(mapped(callFrom('172.16.0.5:5060')).detail).toBe('172.16.0.5 is inside ::ffff:172.16.0.0/108');
    expect(mapped(callFrom('192.168.1.20:5060')).reason).toBe('source_not_allowed');
  });
});

describe('geofence: GeoIP countries', () => {
  const check = compileGeofence(geofence());

  it('allows a remote worker registering from the United States', () => {
    expect(check(callFrom('8.8.8.8:5060')).detail).toBe('8.8.8.8 is in US, an allowed country');
  });

  it('denies a registration from a German broadband line, naming the address and the country', () => {
    expect(check(callFrom('80.128.0.1:5060'))).toEqual({
      name: 'geofence',
      outcome: 'fail',
      reason: 'source_country_denied',
      detail: '80.128.0.1 is in DE, not an allowed source country',
    });
  });

  it('denies IPv6 sources abroad too', () => {
    expect(check(callFrom('[2003::1]:5060')).reason).toBe('source_country_denied');
    expect(check(callFrom('[2a00:23c4::1]:5060')).detail).toBe('2a00:23c4::1 is in GB, not an allowed source country');
  });

  it('compares country codes without regard to case', () => {
    expect(compileGeofence(geofence({ allowCountries: ['de'] }))(callFrom('80.128.0.1:5060')).outcome).toBe('pass');
  });

  it('with "*", allows any parsable source, including one with no country', () => {
    const anywhere = compileGeofence(geofence({ allowCidrs: [], allowCountries: ['*'] }));
    expect(anywhere(callFrom('80.128.0.1:5060')).detail).toBe('80.128.0.1 (DE) is allowed: any country');
    expect(anywhere(callFrom('172.16.0.5:5060')).detail).toBe('172.16.0.5 (no known country) is allowed: any country');
  });

  it('with no countries and no networks, denies every address', () => {
    const closed = compileGeofence(geofence({ allowCidrs: [], allowCountries: [] }));
    expect(closed(callFrom('8.8.8.8:5060')).reason).toBe('source_country_denied');
  });
});

describe('geofence: empty and unparsable sources', () => {
  it('under unknownSource "deny", denies a call with no source address', () => {
    expect(compileGeofence(geofence())(callFrom(''))).toEqual({
      name: 'geofence',
      outcome: 'fail',
      reason: 'source_unknown',
      detail: 'no source address; unknown sources are denied',
    });
  });

  it('under unknownSource "deny", denies a source that is not an address', () => {
    expect(compileGeofence(geofence())(callFrom('sip:1001@pbx')).detail).toBe('unparsable source address "sip:1001@pbx"; unknown sources are denied');
  });

  it('under unknownSource "allow", lets both through (a Local channel or a voicemail call-back has no SIP source)', () => {
    const lenient = compileGeofence(geofence({ unknownSource: 'allow' }));
    expect(lenient(callFrom(''))).toEqual({ name: 'geofence', outcome: 'pass', detail: 'no source address; unknown sources are allowed' });
    expect(lenient(callFrom('garbage')).outcome).toBe('pass');
  });

  it('under unknownSource "allow", still judges a source it can parse', () => {
    expect(compileGeofence(geofence({ unknownSource: 'allow' }))(callFrom('80.128.0.1:5060')).reason).toBe('source_country_denied');
  });
});

// What each entry means is tested once, for the geofence and the FastAGI allow-list alike, in test/net/address.test.ts.
describe('geofence: allowCidrs that cannot be compiled', () => {
  it('rejects entries that are not addresses or CIDRs, naming each', () => {
    try {
      compileGeofence(geofence({ allowCidrs: ['10.0.0.0/8', '10.0.0.0/33', 'office-lan', '10/8'] }));
      expect.unreachable('compileGeofence accepted bad CIDRs');
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).problems.map((p) => p.field)).toEqual(['/geofence/allowCidrs/1', '/geofence/allowCidrs/2', '/geofence/allowCidrs/3']);
    }
  });
});
