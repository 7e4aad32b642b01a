import { describe, expect, it } from 'vitest';
import type { CheckContext } from '../../src/engine/checks/check.js';
import { compileSchedule } from '../../src/engine/checks/schedule.js';
import { isValidTimezone, parseClock, windowProblem } from '../../src/policy/clock.js';
import { EMPTY_USAGE } from '../../src/domain/usage.js';
import type { NormalizedNumber } from '../../src/domain/number.js';
import { ValidationError } from '../../src/errors.js';
import type { Policy, PolicyWindow } from '../../src/policy/schema.js';

const EVERY_DAY: PolicyWindow['days'] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const WEEKDAYS: PolicyWindow['days'] = ['mon', 'tue', 'wed', 'thu', 'fri'];

function schedule(timezone: string, windows: PolicyWindow[], appliesTo: Policy['schedule']['appliesTo'] = 'all'): Policy['schedule'] {
  return { timezone, appliesTo, windows };
}

const LONDON_LANDLINE: NormalizedNumber = { digits: '00442079460000', e164: '+442079460000', country: 'GB', type: 'FIXED_LINE', valid: true, international: true };
const NEW_YORK_LANDLINE: NormalizedNumber = { digits: '2125550100', e164: '+12125550100', country: 'US', type: 'FIXED_LINE', valid: true, international: false };

/** A call placed at the UTC instant `iso`. */
function callAt(iso: string, number: NormalizedNumber = LONDON_LANDLINE): CheckContext {
  return {
    request: { extension: '1001', dialled: number.digits, source: '', origin: 'phone', at: new Date(iso), transport: 'agi' },
    number,
    source: { ip: null, country: null },
    extension: { known: true, locked: false, lockReason: null },
    usage: EMPTY_USAGE,
    homeCountry: 'US',
    standing: null,
  };
}

describe('schedule: office hours in New York', () => {
  const check = compileSchedule(schedule('America/New_York', [{ days: WEEKDAYS, from: '08:00', to: '18:00' }]));

  it('allows a call on a Tuesday morning', () => {
    // 2026-11-17 14:30Z is Tuesday 09:30 EST.
    expect(check(callAt('2026-11-17T14:30:00Z'))).toEqual({ name: 'schedule', outcome: 'pass', detail: 'Tue 09:30 America/New_York is inside tue 08:00-18:00' });
  });

  it('denies a call at 03:12 on a Saturday night, naming the local time and the time zone', () => {
    // 2026-11-21 08:12Z is Saturday 03:12 EST: the classic weekend toll-fraud hour.
    expect(check(callAt('2026-11-21T08:12:00Z'))).toEqual({
      name: 'schedule',
      outcome: 'fail',
      reason: 'outside_schedule',
      detail: 'Sat 03:12 America/New_York is outside every window',
    });
  });

  it('denies a call on a weekday evening, at the closing minute', () => {
    // 2026-11-17 23:00Z is Tuesday 18:00 EST: the window is 08:00 up to, not including, 18:00.
    expect(check(callAt('2026-11-17T23:00:00Z')).outcome).toBe('fail');
    expect(check(callAt('2026-11-17T22:59:00Z')).outcome).toBe('pass');
  });
});

describe('schedule: windows stay on wall-clock time across DST changes', () => {
  const newYork = compileSchedule(schedule('America/New_York', [{ days: EVERY_DAY, from: '08:00', to: '18:00' }]));

  it('opens at 08:00 EST the day before clocks spring forward (2026-03-07)', () => {
    expect(newYork(callAt('2026-03-07T12:30:00Z')).detail).toBe('Sat 07:30 America/New_York is outside every window');
    expect(newYork(callAt('2026-03-07T13:00:00Z')).outcome).toBe('pass');
  });

  it('opens at 08:00 EDT, an hour earlier in UTC, on the day clocks spring forward (2026-03-08)', () => {
    // 12:30Z was 07:30 yesterday; today it is 08:30 EDT. A fixed UTC-5 offset would still deny it.
    expect(newYork(callAt('2026-03-08T12:30:00Z')).detail).toBe('Sun 08:30 America/New_York is inside sun 08:00-18:00');
    expect(newYork(callAt('2026-03-08T11:30:00Z')).outcome).toBe('fail');
    // 21:30Z is 17:30 EDT (open); 22:30Z is 18:30 EDT (closed), though it would be 17:30 in EST.
    expect(newYork(callAt('2026-03-08T21:30:00Z')).outcome).toBe('pass');
    expect(newYork(callAt('2026-03-08T22:30:00Z')).outcome).toBe('fail');
  });

  it('opens at 08:00 EST, an hour later in UTC, on the day clocks fall back (2026-11-01)', () => {
    // 12:30Z is 07:30 EST: still closed, though it would be 08:30 in EDT.
    expect(newYork(callAt('2026-11-01T12:30:00Z')).detail).toBe('Sun 07:30 America/New_York is outside every window');
    expect(newYork(callAt('2026-11-01T13:30:00Z')).detail).toBe('Sun 08:30 America/New_York is inside sun 08:00-18:00');
  });

  it('covers both passes through the repeated hour when clocks fall back', () => {
    const night = compileSchedule(schedule('America/New_York', [{ days: ['sun'], from: '01:00', to: '02:00' }]));
    expect(night(callAt('2026-11-01T05:30:00Z')).detail).toBe('Sun 01:30 America/New_York is inside sun 01:00-02:00'); // 01:30 EDT
    expect(night(callAt('2026-11-01T06:30:00Z')).detail).toBe('Sun 01:30 America/New_York is inside sun 01:00-02:00'); // 01:30 EST
    expect(night(callAt('2026-11-01T07:30:00Z')).detail).toBe('Sun 02:30 America/New_York is outside every window');
  });

  it('follows British Summer Time from the last Sunday of March (2026-03-29)', () => {
    const london = compileSchedule(schedule('Europe/London', [{ days: EVERY_DAY, from: '08:00', to: '18:00' }]));
    // 07:30Z is 07:30 GMT on Saturday and 08:30 BST on Sunday.
    expect(london(callAt('2026-03-28T07:30:00Z')).detail).toBe('Sat 07:30 Europe/London is outside every window');
    expect(london(callAt('2026-03-29T07:30:00Z')).detail).toBe('Sun 08:30 Europe/London is inside sun 08:00-18:00');
    expect(london(callAt('2026-03-29T17:30:00Z')).outcome).toBe('fail');
  });
});

describe('schedule: a night window crossing midnight belongs to the day it starts', () => {
  // Europe/London in November is UTC+0, so the UTC instants read as local time.
  const check = compileSchedule(schedule('Europe/London', [{ days: ['fri'], from: '22:00', to: '06:00' }]));

  it('allows Friday 23:30 and Saturday 05:59, both inside fri 22:00-06:00', () => {
    expect(check(callAt('2026-11-20T23:30:00Z')).detail).toBe('Fri 23:30 Europe/London is inside fri 22:00-06:00');
    expect(check(callAt('2026-11-21T05:59:00Z')).detail).toBe('Sat 05:59 Europe/London is inside fri 22:00-06:00');
  });

  it('denies Saturday 06:00, when the window has closed', () => {
    expect(check(callAt('2026-11-21T06:00:00Z')).outcome).toBe('fail');
  });

  it('denies Friday 05:00 (Thursday opened no night window) and Saturday 23:00', () => {
    expect(check(callAt('2026-11-20T05:00:00Z')).detail).toBe('Fri 05:00 Europe/London is outside every window');
    expect(check(callAt('2026-11-21T23:00:00Z')).detail).toBe('Sat 23:00 Europe/London is outside every window');
  });

  it('wraps Sunday night into Monday morning', () => {
    const sunday = compileSchedule(schedule('Europe/London', [{ days: ['sun'], from: '23:00', to: '01:00' }]));
    expect(sunday(callAt('2026-11-23T00:30:00Z')).detail).toBe('Mon 00:30 Europe/London is inside sun 23:00-01:00');
    expect(sunday(callAt('2026-11-24T00:30:00Z')).outcome).toBe('fail');
  });
});

describe('schedule: weekends and the end of the day', () => {
  it('allows a weekend-only window on Sunday and denies the same hour on Monday', () => {
    const check = compileSchedule(schedule('Europe/Berlin', [{ days: ['sat', 'sun'], from: '10:00', to: '14:00' }]));
    // Berlin in November is UTC+1: 11:00Z is 12:00 local.
    expect(check(callAt('2026-11-22T11:00:00Z')).detail).toBe('Sun 12:00 Europe/Berlin is inside sun 10:00-14:00');
    expect(check(callAt('2026-11-23T11:00:00Z')).detail).toBe('Mon 12:00 Europe/Berlin is outside every window');
  });

  it('treats to "24:00" as the end of the day: 23:59 is in, the next midnight is out', () => {
    const check = compileSchedule(schedule('UTC', [{ days: ['mon'], from: '18:00', to: '24:00' }]));
    expect(check(callAt('2026-11-23T23:59:00Z')).outcome).toBe('pass');
    expect(check(callAt('2026-11-24T00:00:00Z')).detail).toBe('Tue 00:00 UTC is outside every window');
  });

  it('opens all day with 00:00 to 24:00', () => {
    const check = compileSchedule(schedule('UTC', [{ days: ['mon'], from: '00:00', to: '24:00' }]));
    expect(check(callAt('2026-11-23T00:00:00Z')).outcome).toBe('pass');
    expect(check(callAt('2026-11-23T23:59:00Z')).outcome).toBe('pass');
  });

  it('denies every call when there is no window at all', () => {
    expect(compileSchedule(schedule('UTC', []))(callAt('2026-11-23T12:00:00Z')).reason).toBe('outside_schedule');
  });
});

describe('schedule: which calls it applies to', () => {
  const windows: PolicyWindow[] = [{ days: WEEKDAYS, from: '08:00', to: '18:00' }];
  const saturdayNight = '2026-11-21T08:12:00Z';

  it('with appliesTo "international", lets a domestic call through at night', () => {
    const check = compileSchedule(schedule('America/New_York', windows, 'international'));
    expect(check(callAt(saturdayNight, NEW_YORK_LANDLINE)).outcome).toBe('skip');
  });

  it('with appliesTo "international", denies an international call at night', () => {
    const check = compileSchedule(schedule('America/New_York', windows, 'international'));
    expect(check(callAt(saturdayNight, LONDON_LANDLINE)).reason).toBe('outside_schedule');
  });

  it('with appliesTo "all", denies the domestic call at night too', () => {
    const check = compileSchedule(schedule('America/New_York', windows, 'all'));
    expect(check(callAt(saturdayNight, NEW_YORK_LANDLINE)).reason).toBe('outside_schedule');
  });

  it('with appliesTo "none", skips every call', () => {
    const check = compileSchedule(schedule('America/New_York', windows, 'none'));
    expect(check(callAt(saturdayNight, LONDON_LANDLINE)).outcome).toBe('skip');
  });
});

describe('schedule: policies that cannot be compiled', () => {
  function problemsOf(fn: () => unknown): unknown {
    try {
      fn();
    } catch (err) {
      if (err instanceof ValidationError) return err.problems.map((p) => p.field);
      throw err;
    }
    throw new Error('expected a ValidationError');
  }

  it('rejects a window whose from equals its to, rather than guessing all day or never', () => {
    expect(windowProblem({ from: '08:00', to: '08:00' })).toMatch(/00:00 to 24:00/);
    expect(problemsOf(() => compileSchedule(schedule('UTC', [{ days: ['mon'], from: '08:00', to: '08:00' }])))).toEqual(['/schedule/windows/0']);
  });

  it('names every bad window and an unknown time zone', () => {
    const bad: PolicyWindow[] = [
      { days: ['mon'], from: '08:00', to: '18:00' },
      { days: ['tue'], from: '8:00', to: '18:00' },
      { days: ['wed'], from: '24:00', to: '06:00' },
    ];
    expect(problemsOf(() => compileSchedule(schedule('UTC', bad)))).toEqual(['/schedule/windows/1', '/schedule/windows/2']);
    expect(problemsOf(() => compileSchedule(schedule('Mars/Olympus_Mons', [])))).toEqual(['/schedule/timezone']);
    expect(isValidTimezone('America/New_York')).toBe(true);
    expect(isValidTimezone('Mars/Olympus_Mons')).toBe(false);
  });

  it('reads HH:MM clock times as minutes of the day, 24:00 included', () => {
    expect(parseClock('00:00')).toBe(0);
    expect(parseClock('08:30')).toBe(510);
    expect(parseClock('23:59')).toBe(1439);
    expect(parseClock('24:00')).toBe(1440);
    for (const bad of ['8:00', '24:01', '12:60', '1200', '', 'noon']) expect(parseClock(bad), bad).toBeNull();
  });
});
