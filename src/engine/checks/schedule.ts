import { Type, type Static } from '@sinclair/typebox';
import { ValidationError, type FieldProblem } from '../../errors.js';
import { isValidTimezone, MINUTES_PER_DAY, windowMinutes, windowProblem } from '../../policy/clock.js';
import { asObject, clockProblem, pointer, stringProblem, timezoneProblem } from '../../policy/fields.js';
import { defineCheck, fail, pass, skip, type Check } from './check.js';

declare module '../../domain/decision.js' {
  interface CheckNames {
    schedule: true;
  }
  interface ReasonCodes {
    outside_schedule: true;
  }
}

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export const WindowSchema = Type.Object(
  {
    days: Type.Array(Type.Union(DAYS.map((d) => Type.Literal(d))), { minItems: 1 }),
    from: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM, local time of the policy timezone' }),
    to: Type.String({
      pattern: '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$',
      description: 'HH:MM; 24:00 is the end of the day; a window may cross midnight (22:00 to 06:00)',
    }),
  },
  { additionalProperties: false },
);

export const ScheduleSchema = Type.Object(
  {
    timezone: Type.String({ description: 'IANA time zone of the windows and of the budget day and month' }),
    appliesTo: Type.Union([Type.Literal('all'), Type.Literal('international'), Type.Literal('none')], {
      description: 'which calls must fall inside a window',
    }),
    windows: Type.Array(WindowSchema),
  },
  { additionalProperties: false },
);

export type PolicyWindow = Static<typeof WindowSchema>;
type Schedule = Static<typeof ScheduleSchema>;

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

function windowProblems(window: Record<string, unknown> | null, path: string): FieldProblem[] {
  if (!window) return [];
  const { from, to } = window;
  const problems = [
    ...stringProblem(from, pointer(path, 'from'), (text) => clockProblem(text, false)),
    ...stringProblem(to, pointer(path, 'to'), (text) => clockProblem(text, true)),
  ];
  if (problems.length > 0 || typeof from !== 'string' || typeof to !== 'string') return problems;
  const message = windowProblem({ from, to });
  return message === null ? [] : [{ field: path, message }];
}

export const schedule = defineCheck({
  name: 'schedule',
  kind: 'policy',
  reasons: { outside_schedule: 'outside the allowed hours' },
  section: {
    key: 'schedule',
    schema: ScheduleSchema,
    /** No time restriction until an admin writes windows and chooses which calls they apply to. */
    defaults: (site) => ({ timezone: site.timezone, appliesTo: 'none' as const, windows: [] }),
    problems(value, path) {
      const schedule = asObject(value);
      if (!schedule) return [];
      const windows = Array.isArray(schedule.windows) ? schedule.windows : [];
      return [
        ...stringProblem(schedule.timezone, pointer(path, 'timezone'), timezoneProblem),
        ...windows.flatMap((window, i) => windowProblems(asObject(window), pointer(path, 'windows', i))),
      ];
    },
  },
  form: [
    { path: '/schedule/appliesTo', label: 'Schedule applies to' },
    { path: '/schedule/timezone', label: 'Schedule time zone' },
  ],
  compile: ({ section }) => compileSchedule(section),
});
