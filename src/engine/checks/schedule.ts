import { ValidationError, type FieldProblem } from '../../errors.js';
import { isValidTimezone, MINUTES_PER_DAY, windowMinutes } from '../../policy/clock.js';
import { DAYS, type Policy, type PolicyWindow } from '../../policy/schema.js';
import { fail, pass, skip, type Check } from './check.js';

type Schedule = Policy['schedule'];

/** A stretch of one local day, [start, end) in minutes, and the window it comes from. */
interface DayRange {
  start: number;
  end: number;
  label: string;
}

const WEEKDAY_INDEX: Readonly<Record<string, number>> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };
const WEEKDAY_NAME = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

/** Building an Intl.DateTimeFormat costs far more than using one: one per time zone, for the process. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timezone, formatter);
  }
  return formatter;
}

/** Local weekday (0 = Monday) and minute of the day of an instant, in wall-clock time of `formatter`'s zone. */
function localTime(formatter: Intl.DateTimeFormat, at: Date): { day: number; minute: number } {
  let day = 0;
  let hour = 0;
  let minute = 0;
  for (const part of formatter.formatToParts(at)) {
    if (part.type === 'weekday') day = WEEKDAY_INDEX[part.value] ?? 0;
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { day, minute: hour * 60 + minute };
}

function clock(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

/**
 * Per weekday, the minute ranges that are open. A window that crosses midnight belongs to the day
 * it starts: `fri 22:00–06:00` opens Friday 22:00–24:00 and Saturday 00:00–06:00.
 */
function compileDays(windows: PolicyWindow[]): DayRange[][] {
  const days: DayRange[][] = DAYS.map(() => []);
  const problems: FieldProblem[] = [];
  for (const [i, window] of windows.entries()) {
    const minutes = windowMinutes(window);
    if (typeof minutes === 'string') {
      problems.push({ field: `/schedule/windows/${i}`, message: minutes });
      continue;
    }
    const { from, to } = minutes;
    for (const dayName of window.days) {
      const day = DAYS.indexOf(dayName);
      const label = `${dayName} ${window.from}-${window.to}`;
      if (from < to) {
        days[day]?.push({ start: from, end: to, label });
      } else {
        days[day]?.push({ start: from, end: MINUTES_PER_DAY, label });
        if (to > 0) days[(day + 1) % 7]?.push({ start: 0, end: to, label });
      }
    }
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return days;
}

/**
 * Time-of-day windows in the policy's IANA time zone, read as local wall-clock time on both
 * sides of a DST change (08:00 means 08:00 on the kitchen clock, in winter and in summer).
 * `appliesTo`: `all` calls, `international` calls only, or `none`.
 */
export function compileSchedule(schedule: Schedule): Check {
  if (!isValidTimezone(schedule.timezone)) {
    throw new ValidationError([{ field: '/schedule/timezone', message: `unknown IANA time zone ${JSON.stringify(schedule.timezone)}` }]);
  }
  const formatter = formatterFor(schedule.timezone);
  const days = compileDays(schedule.windows);
  if (schedule.appliesTo === 'none') return () => skip('schedule', 'no schedule applies');
  const internationalOnly = schedule.appliesTo === 'international';

  return (ctx) => {
    if (internationalOnly && !ctx.number.international) return skip('schedule', 'the schedule applies to international calls only');
    const { day, minute } = localTime(formatter, ctx.request.at);
    const now = `${WEEKDAY_NAME[day]} ${clock(minute)} ${schedule.timezone}`;
    const open = days[day]?.find((r) => minute >= r.start && minute < r.end);
    return open
      ? pass('schedule', `${now} is inside ${open.label}`)
      : fail('schedule', 'outside_schedule', `${now} is outside every window`);
  };
}
