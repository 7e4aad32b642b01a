/**
 * IP addresses and networks: the one grammar that the FastAGI allow-list, the geofence, the
 * policy validator and the SOURCE argument all read, so that a text means the same everywhere.
 *
 * The grammar, deliberately narrower than what `inet_aton` or ipaddr.js take:
 * - IPv4 is a dotted quad of decimal numbers 0–255 without leading zeros (`203.0.113.9`).
 *   Shorthand (`10.1`), octal-looking (`010.0.0.1`) and hexadecimal (`0x0a.0.0.0`) forms are
 *   refused: every tool reads them differently, and no SIP stack or socket prints them.
 * - IPv6 is RFC 4291 text: eight groups of 1–4 hex digits, one `::` at most, a dotted quad in
 *   the last 32 bits allowed (`::ffff:203.0.113.9`). No zone (`%eth0`), no brackets.
 * - An IPv4-mapped IPv6 address (`::ffff:0:0/96`) is the IPv4 address: a dual-stack socket
 *   reports IPv4 peers that way, and one list must cover both forms.
 * - A network is an address, or an address, `/` and a decimal prefix length (0–32 for IPv4,
 *   0–128 for IPv6, no leading zeros). An IPv4-mapped network needs a prefix of 96 or more and
 *   is the IPv4 network of 96 bits less (`::ffff:10.0.0.0/104` is `10.0.0.0/8`). An IPv6
 *   network matches IPv6 addresses only: `::/0` is every IPv6 address, not every IPv4 one too.
 * - Host bits set below the prefix (`192.168.1.10/24`) are cleared: that is the network the
 *   address is in, `192.168.1.0/24`, as ipaddr.js and therefore every earlier dialguard read it,
 *   so lists stored before this grammar keep their meaning. A single host is written without a
 *   prefix (or `/32`, `/128`).
 * White space around a network's text is ignored (lists are typed by hand); anything else that
 * does not fit is refused (null), never guessed.
 */

export type Address = { readonly family: 4; readonly value: number } | { readonly family: 6; readonly value: bigint };

/** The addresses whose first `bits` bits equal those of `base`; `base` has no host bits set. */
export type Network = { readonly family: 4; readonly base: number; readonly bits: number } | { readonly family: 6; readonly base: bigint; readonly bits: number };

const DECIMAL_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const PREFIX_LENGTH = /^(?:0|[1-9][0-9]{0,2})$/;
const MAPPED_PREFIX = 0xffffn;

/** Exactly an address: white space included is refused (a network's text may be padded). */
export function parseAddress(text: string): Address | null {
  if (text.includes(':')) {
    const v6 = parseIpv6(text);
    if (v6 === null) return null;
    return v6 >> 32n === MAPPED_PREFIX ? { family: 4, value: Number(v6 & 0xffffffffn) } : { family: 6, value: v6 };
  }
  const v4 = parseIpv4(text);
  return v4 === null ? null : { family: 4, value: v4 };
}

/** Canonical text: the dotted quad, or RFC 5952 IPv6 (lower case, longest zero run as `::`). */
export function formatAddress(address: Address): string {
  if (address.family === 4) {
    const v = address.value;
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const groups = Array.from({ length: 8 }, (_, i) => Number((address.value >> BigInt(112 - 16 * i)) & 0xffffn));
  let [runStart, runLength] = [-1, 1];
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > runLength) [runStart, runLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = (part: number[]): string => part.map((g) => g.toString(16)).join(':');
  if (runStart < 0) return hex(groups);
  return `${hex(groups.slice(0, runStart))}::${hex(groups.slice(runStart + runLength))}`;
}

/** The network of `bits` bits that holds `address`: a listed CIDR, or the /24 or /64 around a source. */
export function networkOf(address: Address, bits: number): Network {
  if (address.family === 4) return { family: 4, base: (address.value & ipv4Mask(bits)) >>> 0, bits };
  return { family: 6, base: address.value & ipv6Mask(bits), bits };
}

/** CIDR text of a network, its base in canonical form: `203.0.113.0/24`, `2001:db8::/64`. */
export function formatNetwork(network: Network): string {
  const base: Address = network.family === 4 ? { family: 4, value: network.base } : { family: 6, value: network.base };
  return `${formatAddress(base)}/${network.bits}`;
}

/** The /24 (IPv4) or /64 (IPv6) around a source: the range one attacker rotates addresses in. */
export function sourceRange(address: Address): Network {
  return networkOf(address, address.family === 4 ? 24 : 64);
}

/** `sourceRange` of an address given as text, as CIDR text; a text that is no address stays as it is. */
export function sourceRangeText(text: string): string {
  const parsed = parseAddress(text);
  return parsed === null ? text : formatNetwork(sourceRange(parsed));
}

export function parseNetwork(text: string): Network | null {
  const value = text.trim();
  const slash = value.indexOf('/');
  if (slash < 0) {
    const address = parseAddress(value);
    return address === null ? null : networkOf(address, address.family === 4 ? 32 : 128);
  }
  const prefix = value.slice(slash + 1);
  if (!PREFIX_LENGTH.test(prefix)) return null;
  const bits = Number(prefix);
  const written = value.slice(0, slash);
  if (!written.includes(':')) {
    const v4 = parseIpv4(written);
    return v4 === null || bits > 32 ? null : networkOf({ family: 4, value: v4 }, bits);
  }
  const v6 = parseIpv6(written);
  if (v6 === null || bits > 128) return null;
  if (v6 >> 32n !== MAPPED_PREFIX) return networkOf({ family: 6, value: v6 }, bits);
  // Shorter than 96 bits, a mapped network would reach past the IPv4 space into IPv6 space.
  return bits < 96 ? null : networkOf({ family: 4, value: Number(v6 & 0xffffffffn) }, bits - 96);
}

/** A compiled list of networks, each with what it stands for (its text, for instance). */
export interface NetworkList<T> {
  /** What the first listed network that holds `address` stands for; undefined when none does. */
  match(address: Address): T | undefined;
}

interface Ranged<B, T> {
  readonly index: number;
  readonly base: B;
  readonly mask: B;
  readonly value: T;
}

/**
 * Single hosts go into a map, prefixes into one list per family, so that a lookup is a hash
 * probe and a few mask-and-compare steps on numbers: no parsing, no allocation.
 */
export function compileNetworks<T>(entries: Iterable<readonly [Network, T]>): NetworkList<T> {
  const hosts4 = new Map<number, { index: number; value: T }>();
  const hosts6 = new Map<bigint, { index: number; value: T }>();
  const ranges4: Ranged<number, T>[] = [];
  const ranges6: Ranged<bigint, T>[] = [];
  let index = 0;
  for (const [network, value] of entries) {
    if (network.family === 4) {
      if (network.bits === 32) {
        if (!hosts4.has(network.base)) hosts4.set(network.base, { index, value });
      } else ranges4.push({ index, base: network.base, mask: ipv4Mask(network.bits), value });
    } else if (network.bits === 128) {
      if (!hosts6.has(network.base)) hosts6.set(network.base, { index, value });
    } else ranges6.push({ index, base: network.base, mask: ipv6Mask(network.bits), value });
    index++;
  }
  return {
    match(address) {
      if (address.family === 4) {
        const host = hosts4.get(address.value);
        for (const r of ranges4) {
          if (host !== undefined && r.index > host.index) break;
          if (((address.value & r.mask) >>> 0) === r.base) return r.value;
        }
        return host?.value;
      }
      const host = hosts6.get(address.value);
      for (const r of ranges6) {
        if (host !== undefined && r.index > host.index) break;
        if ((address.value & r.mask) === r.base) return r.value;
      }
      return host?.value;
    },
  };
}

function ipv4Mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

const ALL_128 = (1n << 128n) - 1n;

function ipv6Mask(bits: number): bigint {
  return (ALL_128 >> BigInt(128 - bits)) << BigInt(128 - bits);
}

function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!DECIMAL_OCTET.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

function parseIpv6(text: string): bigint | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = groupsOf(halves[0] as string, halves.length === 1);
  const tail = halves.length === 2 ? groupsOf(halves[1] as string, true) : [];
  if (head === null || tail === null) return null;
  const written = head.length + tail.length;
  // `::` stands for at least one group of zeros.
  if (halves.length === 1 ? written !== 8 : written > 7) return null;
  const groups = [...head, ...Array<number>(8 - written).fill(0), ...tail];
  return groups.reduce((value, group) => (value << 16n) | BigInt(group), 0n);
}

/** The 16-bit groups of one side of `::`; only the side that ends the address may end in a dotted quad. */
function groupsOf(text: string, last: boolean): number[] | null {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (const [i, part] of parts.entries()) {
    if (last && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (v4 === null) return null;
      groups.push(v4 >>> 16, v4 & 0xffff);
    } else if (HEX_GROUP.test(part)) groups.push(parseInt(part, 16));
    else return null;
  }
  return groups;
}
