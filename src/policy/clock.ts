/** The grammar of a policy's schedule (clock times, windows, time zones): one parser for the validator and the schedule check. */
/** A window as the policy writes it: `HH:MM` clock times. */
interface ClockWindow {
  from: string;
  to: string;
}

export const MINUTES_PER_DAY = 24 * 60;
const CLOCK = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes since midnight of an `HH:MM` clock time (`00:00`…`24:00`), null when malformed. */
export function parseClock(text: string): number | null {
  if (text === '24:00') return MINUTES_PER_DAY;
  const match = CLOCK.exec(text);
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}

/**
 * A window's clock times in minutes, or what is wrong with them. `from` equal to `to` is
 * rejected rather than read as "all day" or "never": either reading would surprise half of
 * the admins who wrote it, and a whole day is spelled `00:00`–`24:00`.
 */
export function windowMinutes(window: ClockWindow): { from: number; to: number } | string {
  const from = parseClock(window.from);
  const to = parseClock(window.to);
  if (from === null || from === MINUTES_PER_DAY) return `from must be HH:MM between 00:00 and 23:59, got ${JSON.stringify(window.from)}`;
  if (to === null) return `to must be HH:MM between 00:00 and 24:00, got ${JSON.stringify(window.to)}`;
  if (from === to) return `from and to are both ${window.from}: write 00:00 to 24:00 for a whole day`;
  return { from, to };
}

/** What is wrong with a window's times, or null; the policy validator reports the same message. */
export function windowProblem(window: ClockWindow): string | null {
  const minutes = windowMinutes(window);
  return typeof minutes === 'string' ? minutes : null;
}

/** Whether the runtime's time zone database knows `timezone` (IANA name such as `Europe/London`). */
export function isValidTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}
