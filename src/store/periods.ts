/**
 * Budget periods are calendar days and months in the policy's timezone: "today" for a
 * New York office ends at midnight in New York, not UTC.
 */
export interface Periods {
  day: string;
  month: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    // en-CA formats as YYYY-MM-DD.
    f = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timezone, f);
  }
  return f;
}

let last: { timezone: string; minute: number; periods: Periods } | null = null;

export function periodsAt(at: Date, timezone: string): Periods {
  // Every timezone offset is a whole number of minutes: a minute never straddles midnight.
  const minute = Math.floor(at.getTime() / 60_000);
  if (last?.minute === minute && last.timezone === timezone) return last.periods;
  const day = formatterFor(timezone).format(at);
  last = { timezone, minute, periods: { day, month: day.slice(0, 7) } };
  return last.periods;
}
