import { LruCache } from '../lru-cache.js';
import { formatAddress, parseAddress } from '../net/address.js';

/**
 * The caller's signalling address as the dialplan hands it over, reduced to a bare IP.
 *
 * Accepted shapes, as Asterisk prints them:
 * - `${CHANNEL(pjsip,remote_addr)}`: `203.0.113.9:5060` or `[2001:db8::1]:5060`
 *   (pj_sockaddr_print with port and brackets; no transport prefix in any version);
 * - chan_sip's `${CHANNEL(recvip)}` / `${CHANNEL(peerip)}`: a bare `203.0.113.9` or `2001:db8::1`;
 * - a bracketed IPv6 address without port, `[2001:db8::1]`.
 *
 * The address itself follows src/net/address.ts: IPv4-mapped IPv6 (`::ffff:203.0.113.9`,
 * `::ffff:cb00:7109`) becomes the IPv4 address, so that one CIDR list and one GeoIP lookup serve
 * dual-stack sockets; IPv4 in shorthand or octal-looking forms (`10.1`, `010.0.0.1`), which no
 * SIP stack prints, is null like anything else that is not an address. The result is canonical
 * text, so one address is always one string in the audit.
 */
export function parseSource(source: string): string | null {
  return parsed.get(source, parseUncached);
}

/** A decision reads its source three times (engine, geofence, GeoIP), and a PBX's sources are few. */
const parsed = new LruCache<string | null>(4096);

function parseUncached(source: string): string | null {
  const host = hostOf(source.trim());
  const address = host === null ? null : parseAddress(host);
  return address === null ? null : formatAddress(address);
}

const PORT = /^\d{1,5}$/;

function isPort(text: string): boolean {
  return PORT.test(text) && Number(text) <= 65535;
}

/** The address part of `host`, `host:port`, `[v6]` or `[v6]:port`; null when the shape is wrong. */
function hostOf(text: string): string | null {
  if (text === '') return null;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return null;
    const rest = text.slice(close + 1);
    if (rest !== '' && !(rest.startsWith(':') && isPort(rest.slice(1)))) return null;
    return text.slice(1, close);
  }
  const firstColon = text.indexOf(':');
  // One colon is IPv4 with a port; two or more can only be a bare IPv6 address.
  if (firstColon >= 0 && firstColon === text.lastIndexOf(':')) {
    return isPort(text.slice(firstColon + 1)) ? text.slice(0, firstColon) : null;
  }
  return text;
}
