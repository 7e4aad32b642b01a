import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { compileAllowList } from '../../src/agi/server.js';
import { loadConfig } from '../../src/config/config.js';
import { compileGeofence, resolveSource } from '../../src/engine/checks/geofence.js';
import { ConfigError, ValidationError } from '../../src/errors.js';
import { openGeoIp } from '../../src/geo/geoip.js';
import { compileNetworks, formatAddress, networkOf, parseAddress, parseNetwork, sourceRangeText, type Address, type Network } from '../../src/net/address.js';
import { overridesProblems } from '../../src/policy/validate.js';
import { callTo } from '../support/check-context.js';

/**
 * One grammar for addresses and networks (src/net/address.ts), and the proof that its two users,
 * the FastAGI allow-list and the geofence (with the policy validator and the config in front of
 * them), read every entry alike: accepted by all or refused by all, matching the same addresses.
 */

const geoip = openGeoIp();

/** Entries every user accepts, with addresses inside and outside, as a socket or Asterisk gives them. */
const ACCEPTED: Array<{ entry: string; inside: string[]; outside: string[] }> = [
  { entry: '10.0.0.0/8', inside: ['10.1.2.3', '::ffff:10.1.2.3', '::ffff:a01:203'], outside: ['11.0.0.1', '9.255.255.255', '2001:db8::1'] },
  { entry: '::ffff:10.0.0.0/104', inside: ['10.1.2.3', '::ffff:10.1.2.3'], outside: ['11.0.0.1', '::a01:203'] },
  { entry: '::FFFF:0A00:0000/104', inside: ['10.255.0.1'], outside: ['11.0.0.1'] },
  { entry: '192.0.2.7', inside: ['192.0.2.7', '::ffff:192.0.2.7'], outside: ['192.0.2.8', '192.0.2.6'] },
  { entry: '::ffff:192.0.2.7', inside: ['192.0.2.7'], outside: ['192.0.2.8'] },
  { entry: '192.0.2.7/32', inside: ['192.0.2.7'], outside: ['192.0.2.8'] },
  { entry: '2001:db8::/32', inside: ['2001:db8:1::5', '2001:DB8:0:0:0:0:0:1'], outside: ['2001:db9::1', '10.0.0.1'] },
  { entry: '2001:0db8:0000:0000:0000:0000:0000:0001', inside: ['2001:db8::1'], outside: ['2001:db8::2'] },
  // Host bits set: the network the address is in, as ipaddr.js read it before.
  { entry: '192.168.1.10/24', inside: ['192.168.1.200', '192.168.1.0'], outside: ['192.168.2.10'] },
  { entry: '2001:db8:100::5/48', inside: ['2001:db8:100:ffff::1'], outside: ['2001:db8:101::5'] },
  { entry: ' 172.16.0.0/12 ', inside: ['172.31.255.255'], outside: ['172.32.0.0'] },
  // The whole of one family, and only that family.
  { entry: '0.0.0.0/0', inside: ['203.0.113.9', '::ffff:203.0.113.9'], outside: ['2001:db8::1', '::1'] },
  { entry: '::/0', inside: ['2001:db8::1', '::1'], outside: ['203.0.113.9', '::ffff:203.0.113.9'] },
  { entry: '::ffff:0.0.0.0/96', inside: ['203.0.113.9'], outside: ['2001:db8::1'] },
];

/** Entries every user refuses. */
const REFUSED = [
  '10.1/16', // shorthand: inet_aton reads 10.0.0.1
  '10.1',
  '0x0a.0.0.0/8', // hexadecimal
  '010.0.0.0/8', // octal-looking
  '10.0.0.256',
  '10.0.0.0/33',
  '10.0.0.0/08',
  '10.0.0.0/',
  '/8',
  '10.0.0.0/8/8',
  '10.0.0.0/-1',
  '10.0.0.0 /8',
  '2001:db8::/129',
  '::ffff:10.0.0.0/80', // a mapped network shorter than /96 would reach into IPv6 space
  'fe80::1%eth0',
  '[2001:db8::1]',
  '1:2:3:4:5:6:7:8:9',
  '1:2:3:4:5:6:7',
  '1::2::3',
  ':1::',
  '1:::2',
  '12345::',
  '::1.2.3',
  '::1.2.3.4:5',
  '1.2.3.4:5060',
  'lan',
  'pbx.example.com',
];

const allowList = (entry: string): ((address: string) => boolean) => compileAllowList([entry], '0.0.0.0');

/** Passes iff `source` is inside the entry: no country is allowed, so nothing else lets it through. */
const geofence = (entry: string): ((source: string) => boolean) => {
  const check = compileGeofence({ allowCidrs: [entry], allowCountries: [], unknownSource: 'deny' });
  return (source) => {
    const ctx = callTo('2125550100');
    return check({ ...ctx, request: { ...ctx.request, source }, source: resolveSource(source, geoip) }).outcome === 'pass';
  };
};

describe('the FastAGI allow-list and the geofence read one grammar', () => {
  it.each(ACCEPTED)('both accept $entry and match the same addresses', ({ entry, inside, outside }) => {
    const [allowed, fenced] = [allowList(entry), geofence(entry)];
    for (const address of inside) expect([address, allowed(address), fenced(address)]).toEqual([address, true, true]);
    for (const address of outside) expect([address, allowed(address), fenced(address)]).toEqual([address, false, false]);
    expect(overridesProblems({ geofence: { allowCidrs: [entry] } }, '')).toEqual([]);
    expect(loadConfig({ env: { DIALGUARD_TIMEZONE: 'UTC', DIALGUARD_AGI_ALLOW: entry } }).agiAllowFrom).toEqual([entry.trim()]);
  });

  it.each(REFUSED)('all refuse %j, the validator naming the field and the config its setting', (entry) => {
    expect(() => allowList(entry)).toThrow(ConfigError);
    expect(() => geofence(entry)).toThrow(ValidationError);
    expect(overridesProblems({ geofence: { allowCidrs: ['10.0.0.0/8', entry] } }, '/extensions/1001')).toEqual([
      { field: '/extensions/1001/geofence/allowCidrs/1', message: expect.stringMatching(/is not a valid (IP address or )?CIDR$/) },
    ]);
    const env = { DIALGUARD_TIMEZONE: 'UTC', DIALGUARD_AGI_ALLOW: `192.0.2.1,${entry}` };
    expect(() => loadConfig({ env })).toThrow(new RegExp(`^DIALGUARD_AGI_ALLOW: "${entry.trim().replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}" is not an IP address or CIDR`));
  });

  it('takes the same address forms from a socket and from the SOURCE argument', () => {
    const [allowed, fenced] = [allowList('2001:db8::/32'), geofence('2001:db8::/32')];
    expect(allowed('2001:db8::1')).toBe(true);
    expect(fenced('[2001:db8::1]:5060')).toBe(true);
    expect(allowed('10.1')).toBe(false);
    expect(fenced('10.1:5060')).toBe(false);
  });
});

describe('parseAddress and formatAddress', () => {
  it('reads a dotted quad and writes it back', () => {
    expect(parseAddress('203.0.113.9')).toEqual({ family: 4, value: 0xcb007109 });
    expect(parseAddress('0.0.0.0')).toEqual({ family: 4, value: 0 });
    expect(parseAddress('255.255.255.255')).toEqual({ family: 4, value: 0xffffffff });
    expect(formatAddress({ family: 4, value: 0xcb007109 })).toBe('203.0.113.9');
  });

  it('turns IPv4-mapped IPv6, dotted or in hex, into the IPv4 address', () => {
    for (const text of ['::ffff:203.0.113.9', '::FFFF:cb00:7109', '0:0:0:0:0:ffff:203.0.113.9']) expect(parseAddress(text)).toEqual({ family: 4, value: 0xcb007109 });
    // IPv4-compatible (deprecated) and NAT64 addresses are IPv6 addresses of their own.
    expect(parseAddress('::203.0.113.9')?.family).toBe(6);
    expect(parseAddress('64:ff9b::203.0.113.9')?.family).toBe(6);
  });

  it('writes IPv6 as RFC 5952 says: lower case, no leading zeros, the first longest zero run as ::', () => {
    const cases: Array<[string, string]> = [
      ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['::1', '::1'],
      ['1::', '1::'],
      ['fe80::1:2', 'fe80::1:2'],
    ];
    for (const [text, canonical] of cases) expect(formatAddress(parseAddress(text) as Address), text).toBe(canonical);
  });

  it('agrees with ipaddr.js on the value and the canonical text of random IPv6 addresses', () => {
    // A fixed sequence (a linear congruential generator), so that a failure can be replayed.
    let seed = 20261121;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 500; i++) {
      // Zero groups often, so that every length and position of zero run comes up.
      const groups = Array.from({ length: 8 }, () => (next() < 0.5 ? 0 : Math.floor(next() * 0x10000)));
      const full = groups.map((g) => g.toString(16)).join(':');
      const parsed = parseAddress(full) as Address;
      const reference = ipaddr.parse(full);
      if (parsed.family === 4) {
        expect((reference as ipaddr.IPv6).isIPv4MappedAddress(), full).toBe(true);
        continue;
      }
      expect(formatAddress(parsed), full).toBe(reference.toString());
      expect(parseAddress(formatAddress(parsed)), full).toEqual(parsed);
    }
  });

  it('refuses anything else, padding and zones included', () => {
    for (const text of ['', ' 10.0.0.1', '10.0.0.1 ', '10.0.0', '10.0.0.0.1', '1e1.0.0.1', '+1.0.0.1', '10..0.1', 'fe80::1%1', '::g', ':::', '1:2:3:4:5:6:7:8::', '::1:2:3:4:5:6:7:8']) {
      expect(parseAddress(text), JSON.stringify(text)).toBeNull();
    }
  });
});

describe('parseNetwork, networkOf and compileNetworks', () => {
  it('reads a CIDR as its family, base and prefix length, host bits cleared', () => {
    expect(parseNetwork('10.0.0.0/8')).toEqual({ family: 4, base: 0x0a000000, bits: 8 });
    expect(parseNetwork('10.9.8.7/8')).toEqual(parseNetwork('10.0.0.0/8'));
    expect(parseNetwork('::ffff:10.0.0.0/104')).toEqual(parseNetwork('10.0.0.0/8'));
    expect(parseNetwork('203.0.113.9')).toEqual({ family: 4, base: 0xcb007109, bits: 32 });
    expect(parseNetwork('2001:db8::/32')).toEqual({ family: 6, base: 0x20010db8n << 96n, bits: 32 });
    expect(parseNetwork('::1')).toEqual({ family: 6, base: 1n, bits: 128 });
    expect(parseNetwork('0.0.0.0/0')).toEqual({ family: 4, base: 0, bits: 0 });
  });

  it('gives the /24 and the /64 around an address', () => {
    expect(networkOf(parseAddress('203.0.113.9') as Address, 24)).toEqual(parseNetwork('203.0.113.0/24'));
    expect(networkOf(parseAddress('2001:db8:1:2:3:4:5:6') as Address, 64)).toEqual(parseNetwork('2001:db8:1:2::/64'));
    expect(networkOf(parseAddress('255.255.255.255') as Address, 0)).toEqual(parseNetwork('0.0.0.0/0'));
  });

  it('names the range a source rotates in as CIDR text, and leaves a text that is no address alone', () => {
    expect(sourceRangeText('203.0.113.9')).toBe('203.0.113.0/24');
    expect(sourceRangeText('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(sourceRangeText('::ffff:203.0.113.9')).toBe('203.0.113.0/24');
    expect(sourceRangeText('not-an-address')).toBe('not-an-address');
  });

  it('answers the first listed network that holds an address, hosts and prefixes alike', () => {
    const list = compileNetworks(['10.0.0.0/8', '10.1.2.3', '10.1.0.0/16', '192.0.2.1', '192.0.2.0/24', '2001:db8::/32', '2001:db8::1'].map((text) => [parseNetwork(text) as Network, text] as const));
    const match = (text: string): string | undefined => list.match(parseAddress(text) as Address);
    expect(['10.1.2.3', '10.1.9.9', '192.0.2.1', '192.0.2.2', '2001:db8::1', '2001:db8::2'].map(match)).toEqual([
      '10.0.0.0/8',
      '10.0.0.0/8',
      '192.0.2.1',
      '192.0.2.0/24',
      '2001:db8::/32',
      '2001:db8::/32',
    ]);
    expect(['11.0.0.1', '2001:db9::1'].map(match)).toEqual([undefined, undefined]);
  });
});
