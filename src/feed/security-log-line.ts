/**
 * PLACEHOLDER, TO BE REPLACED AT MERGE by h2's parser of the `security` channel line (issue 12,
 * src/security/): the only place the feed reads that grammar. Minimal on purpose: the prefix
 * (`[2026-12-01 22:10:01.677] SECURITY[16535] res_security_log.c: `, or `[Dec  1 22:12:32] …`
 * with the default dateformat), then `Name="value"` pairs separated by commas, mapped by the
 * shared securityEventFromFields.
 */
import type { SecurityEvent } from '../domain/security.js';
import { securityEventFromFields } from '../security/event-fields.js';

export type SecurityLogLine =
  | { kind: 'event'; event: SecurityEvent }
  /** Not an event and not a fault: the `Asterisk 22.10.1 built by …` header written on each open, a blank line. */
  | { kind: 'ignored' }
  | { kind: 'unparsed' };

const PREFIX = /^\[[^\]]+\] SECURITY\[\d+\](?:\[[^\]]*\])? [\w./-]+: (?=SecurityEvent=")/;
const HEADER = /^\[[^\]]+\] Asterisk \S+ built by /;
const PAIR = /([A-Za-z0-9_]+)="([^"]*)"(?:,|$)/y;

export function readSecurityLogLine(line: string): SecurityLogLine {
  if (line.trim() === '' || HEADER.test(line)) return { kind: 'ignored' };
  const prefix = PREFIX.exec(line);
  if (!prefix) return { kind: 'unparsed' };
  const fields = new Map<string, string>();
  PAIR.lastIndex = prefix[0].length;
  while (PAIR.lastIndex < line.length) {
    const pair = PAIR.exec(line);
    if (!pair) return { kind: 'unparsed' };
    fields.set(pair[1] as string, pair[2] as string);
  }
  const event = securityEventFromFields(fields);
  return event ? { kind: 'event', event } : { kind: 'unparsed' };
}
