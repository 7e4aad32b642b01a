/**
 * The `security` log channel's field list:
 * `SecurityEvent="ChallengeResponseFailed",EventTV="2026-12-01T22:10:01.676+0000",…,ExpectedResponse=""`.
 * Every value is quoted and none is escaped (res_security_log.c prints them with `%s`), so a
 * value ends at the quote that is followed by a comma and the next `Key="`, or by the end of the
 * line. Empty values are `""`. Keys keep the case and order Asterisk gave them, the same names
 * as AMI's (only the event's name differs: `SecurityEvent` here, `Event` on AMI).
 */
export type SecurityFields = Readonly<Record<string, string>>;

const FIRST_KEY = /^([A-Za-z][A-Za-z0-9]*)="/;
const NEXT_KEY = /",([A-Za-z][A-Za-z0-9]*)="/g;

/** The fields of one line's message, or null when it is not such a list (the file header, say). */
export function parseSecurityFields(text: string): SecurityFields | null {
  const first = FIRST_KEY.exec(text);
  if (!first || !text.endsWith('"')) return null;
  const fields: Record<string, string> = {};
  let key = first[1] as string;
  let start = first[0].length;
  NEXT_KEY.lastIndex = start;
  for (let next = NEXT_KEY.exec(text); next; next = NEXT_KEY.exec(text)) {
    fields[key] = text.slice(start, next.index);
    key = next[1] as string;
    start = next.index + next[0].length;
  }
  if (start > text.length - 1) return null;
  fields[key] = text.slice(start, text.length - 1);
  return fields;
}
