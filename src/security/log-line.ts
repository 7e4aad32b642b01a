import { MONTHS, resolveYear, wallClockToEpoch } from './log-time.js';

/**
 * The prefix of an Asterisk log line, in every form a site has: the file channel's
 * `[2026-12-01 22:10:01.676] NOTICE[16514] res_pjsip/pjsip_distributor.c: ` (any dateformat of
 * `%F %T` with or without `.%3q`), the default `[Dec  1 22:12:34] ` (a one-digit day padded
 * with a space), the call id of channel threads `VERBOSE[17229][C-00000001] pbx.c: `, syslog's
 * `Nov 4 18:30:40 host asterisk[32229]: NOTICE[32257]: chan_sip.c:23417 in handle_request_register: `
 * and its bare `Oct 17 23:52:29 NOTICE[4570] chan_sip.c: `, each optionally quoted with grep's
 * file prefix (`/var/log/asterisk/messages.1:`). A line with none of them is all message
 * (syslog forwards the message part only).
 */
export interface LogLine {
  /** grep's file prefix, when the line was quoted with one. */
  file?: string;
  /** Epoch ms; null when the line carries no time. */
  at: number | null;
  /** NOTICE, VERBOSE, SECURITY, WARNING…; null for the file header and a bare message. */
  level: string | null;
  thread?: string;
  /** The channel thread's call id, `C-00000001`. */
  callId?: string;
  /** `res_pjsip/pjsip_distributor.c`, `chan_sip.c:23417 in handle_request_register`. */
  module?: string;
  message: string;
}

export interface LogTimeContext {
  /** The IANA zone the PBX wrote its wall clock in. */
  timezone: string;
  /** Gives a year-less date its year: the latest year not after this (the file's mtime). */
  referenceMs: number;
}

const GREP_PREFIX = /^([^\s[\]:]+):(?=\[|[A-Z][a-z]{2} {1,2}\d)/;
const ISO_STAMP = /^\[(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?\] ?/;
const DEFAULT_STAMP = /^\[([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?\] ?/;
const SYSLOG_STAMP = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) /;
const SYSLOG_HOST = /^\S+ [\w./-]+(?:\[\d+\])?: /;
const LEVEL = /^([A-Z]+)\[(\d+)\](?:\[(C-[0-9a-f]+)\])?:? /;
const MODULE = /^([\w/.-]+(?::\d+ in \w+)?): /;

export function parseLogLine(text: string, context: LogTimeContext): LogLine {
  let rest = text;
  let file: string | undefined;
  const grep = GREP_PREFIX.exec(rest);
  if (grep) {
    file = grep[1];
    rest = rest.slice(grep[0].length);
  }
  let at: number | null = null;
  let stamp = ISO_STAMP.exec(rest);
  if (stamp) {
    at = wallClockToEpoch(
      { year: Number(stamp[1]), month: Number(stamp[2]), day: Number(stamp[3]), ...clock(stamp, 4) },
      context.timezone,
    );
  } else if ((stamp = DEFAULT_STAMP.exec(rest) ?? SYSLOG_STAMP.exec(rest))) {
    const month = MONTHS[stamp[1] as string];
    if (month !== undefined) {
      const t = { month, day: Number(stamp[2]), ...clock(stamp, 3) };
      at = wallClockToEpoch({ ...t, year: resolveYear(t, context.referenceMs, context.timezone) }, context.timezone);
    } else stamp = null;
  }
  if (stamp) {
    rest = rest.slice(stamp[0].length);
    if (!LEVEL.test(rest)) {
      const host = SYSLOG_HOST.exec(rest);
      if (host && LEVEL.test(rest.slice(host[0].length))) rest = rest.slice(host[0].length);
    }
  }
  const line: LogLine = { at, level: null, message: rest };
  if (file !== undefined) line.file = file;
  const level = LEVEL.exec(rest);
  if (!level) return line;
  line.level = level[1] as string;
  line.thread = level[2] as string;
  if (level[3] !== undefined) line.callId = level[3];
  rest = rest.slice(level[0].length);
  const module = MODULE.exec(rest);
  if (module) {
    line.module = module[1] as string;
    rest = rest.slice(module[0].length);
  }
  line.message = rest;
  return line;
}

function clock(m: RegExpExecArray, from: number): { hour: number; minute: number; second: number; millisecond: number } {
  const fraction = m[from + 3];
  return {
    hour: Number(m[from]),
    minute: Number(m[from + 1]),
    second: Number(m[from + 2]),
    millisecond: fraction === undefined ? 0 : Math.floor(Number(`0.${fraction}`) * 1000),
  };
}
