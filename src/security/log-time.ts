/**
 * The time on an Asterisk log line is the PBX's wall clock (logger.conf `dateformat`, default
 * `%b %e %T`, no zone, often no year). These turn it into epoch milliseconds in a given IANA zone.
 */

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let f = offsetFormatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    offsetFormatters.set(timezone, f);
  }
  return f;
}

// A log holds millions of lines of the same few hours: the zone's offset is looked up once per hour.
const offsetCache = new Map<string, number>();
const OFFSET_CACHE_LIMIT = 10_000;

/** The zone's offset from UTC at `epochMs`, in ms (New York in winter: -5 h). */
function offsetAt(epochMs: number, timezone: string): number {
  const key = `${timezone}|${Math.floor(epochMs / 3_600_000)}`;
  const cached = offsetCache.get(key);
  if (cached !== undefined) return cached;
  const parts: Record<string, number> = {};
  for (const p of formatterFor(timezone).formatToParts(new Date(epochMs))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(parts.year as number, (parts.month as number) - 1, parts.day, parts.hour, parts.minute, parts.second);
  const offset = asUtc - Math.floor(epochMs / 1000) * 1000;
  if (offsetCache.size >= OFFSET_CACHE_LIMIT) offsetCache.clear();
  offsetCache.set(key, offset);
  return offset;
}

export interface WallClock {
  year: number;
  /** 1–12. */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

/** Epoch ms of a wall-clock time in `timezone`; in a DST gap or overlap, the earlier reading. */
export function wallClockToEpoch(t: WallClock, timezone: string): number {
  const asUtc = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second, t.millisecond);
  const first = asUtc - offsetAt(asUtc, timezone);
  const second = asUtc - offsetAt(first, timezone);
  return Math.min(first, second);
}

/**
 * The year of a year-less date (`[Dec  1 22:12:34]`, syslog's `Nov 4 18:30:40`): the latest
 * year in which that date is not after the reference (the file's modification time, when the
 * last line was written), with a day of slack for clock and zone differences. A log of December
 * read in January thus stays in December of the year before.
 */
export function resolveYear(t: Omit<WallClock, 'year'>, referenceMs: number, timezone: string): number {
  const year = new Date(referenceMs).getUTCFullYear() + 1;
  for (let y = year; y > year - 3; y--) {
    if (wallClockToEpoch({ ...t, year: y }, timezone) <= referenceMs + 86_400_000) return y;
  }
  return year - 3;
}

export const MONTHS: Readonly<Record<string, number>> = { Jan: 1, Feb: 2, Mar: 3, Apr: 4, May: 5, Jun: 6, Jul: 7, Aug: 8, Sep: 9, Oct: 10, Nov: 11, Dec: 12 };
