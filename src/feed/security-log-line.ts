/**
 * PLACEHOLDER, TO BE REPLACED AT MERGE by h2's `parseAsteriskLine` (src/security/parse-line.ts,
 * same result type, same arguments): the only place the feed reads a log line. Minimal on purpose:
 * the `security` channel's prefix (`[2026-12-01 22:10:01.677] SECURITY[16535] res_security_log.c: `,
 * or `[Dec  1 22:12:32] …` with the default dateformat), then the field list, mapped by the shared
 * parseSecurityFields and securityEventFromFields. The line's own time is not read: EventTV is in
 * every security event, and `context.referenceMs` stands in when it is unreadable.
 */
import type { SecurityEvent } from '../domain/security.js';
import { securityEventFromFields } from '../security/event-fields.js';
import { parseSecurityFields } from '../security/security-fields.js';

export type ParsedLine = { kind: 'event'; event: SecurityEvent } | { kind: 'ignored' } | { kind: 'unrecognised' };

export interface LogTimeContext {
  /** The IANA zone the PBX wrote its wall clock in. */
  timezone: string;
  referenceMs: number;
}

const SECURITY_PREFIX = /^\[[^\]]+\] SECURITY\[\d+\](?:\[[^\]]*\])? [\w./-]+: /;
const HEADER = /^\[[^\]]+\] Asterisk \S+ built by /;

export function parseAsteriskLine(text: string, context: LogTimeContext): ParsedLine {
  if (text.trim() === '' || HEADER.test(text)) return { kind: 'ignored' };
  const prefix = SECURITY_PREFIX.exec(text);
  const fields = prefix ? parseSecurityFields(text.slice(prefix[0].length)) : null;
  const event = fields === null ? null : securityEventFromFields(fields, context.referenceMs);
  return event === null ? { kind: 'unrecognised' } : { kind: 'event', event };
}
