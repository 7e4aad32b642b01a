import type { SecurityEvent } from '../domain/security.js';
import { securityEventFromFields } from './event-fields.js';
import { parseLogLine, type LogTimeContext } from './log-line.js';
import { parseLogMessage } from './log-messages.js';
import { parseSecurityFields } from './security-fields.js';

/**
 * One line of any Asterisk log (`messages`, `full`, `security`, syslog, quoted by grep) →
 * - `event`: it reports an authentication (or a security event);
 * - `ignored`: an Asterisk log line that says nothing about authentication (dialplan, the file header);
 * - `unrecognised`: no Asterisk grammar fits (or a SECURITY line whose fields are unreadable).
 * Never throws: a log is read to its end whatever is in it.
 */
export type ParsedLine = { kind: 'event'; event: SecurityEvent } | { kind: 'ignored' } | { kind: 'unrecognised' };

const IGNORED: ParsedLine = { kind: 'ignored' };
const UNRECOGNISED: ParsedLine = { kind: 'unrecognised' };

/**
 * `context.referenceMs` also dates a line that carries no time at all (syslog's message part):
 * such an event is placed at the file's modification time, the latest it can have happened.
 */
export function parseAsteriskLine(text: string, context: LogTimeContext): ParsedLine {
  if (text.trim() === '') return IGNORED;
  const line = parseLogLine(text, context);
  const at = line.at ?? context.referenceMs;
  if (line.level === 'SECURITY' || (line.level === null && line.message.startsWith('SecurityEvent="'))) {
    const fields = parseSecurityFields(line.message);
    const event = fields === null ? null : securityEventFromFields(fields, at);
    return event === null ? UNRECOGNISED : { kind: 'event', event };
  }
  const parsed = parseLogMessage(line.message);
  if (parsed !== null) return { kind: 'event', event: { ...parsed, at } };
  // A prefix with a level, or the `Asterisk … built by …` header a log file starts with.
  if (line.level !== null || (line.at !== null && line.message.startsWith('Asterisk '))) return IGNORED;
  return UNRECOGNISED;
}
