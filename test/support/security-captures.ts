/** The security captures of shared/asterisk/security (README.md there): what Asterisk 22 sent when brute-forced. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { capturesDir, loadText } from './captures.js';

/** Every byte the capture's AMI client received: banner, login response, 85 events, Logoff response. */
export function amiCapture(): Buffer {
  loadText('security/ami-security-events.txt');
  return readFileSync(path.join(capturesDir, 'security', 'ami-security-events.txt'));
}

/** The same stream's 87 blocks as the capture parsed them, fields in received order, values strings. */
export function amiCaptureBlocks(): Array<Record<string, string>> {
  return JSON.parse(loadText('security/ami-security-events.json')) as Array<Record<string, string>>;
}

/** The lines of a capture file, without the empty string after the last LF. */
export function captureLines(name: string): string[] {
  return loadText(`security/${name}`).split('\n').slice(0, -1);
}

/**
 * The capture's clock: EventTV and SessionTV as Asterisk 12+ writes them (`2026-12-01T22:10:01.676+0000`,
 * in the AMI blocks and the security log alike) and the security log's line prefix (`[2026-12-01
 * 22:10:01.676]`, logger.conf `dateformat = %F %T.%3q`, UTC on the capture machine).
 * `SessionTV="1970-01-01T00:00:00.000+0000"` is what Asterisk sends for a failed AMI login
 * whatever the time (fact 5), so it is not a time to move.
 */
const TV = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000/g;
const LINE_PREFIX = /^\[(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}\.\d{3})\]/gm;
const UNSET_TV = '1970-01-01T00:00:00.000+0000';

const isoUtc = (ms: number): string => new Date(ms).toISOString().slice(0, 23);

/** The latest EventTV in capture text (AMI blocks or security log lines), epoch ms. */
export function latestCaptureTime(text: string): number {
  const times = [...text.matchAll(TV)].map(([tv]) => tv).filter((tv) => tv !== UNSET_TV).map((tv) => Date.parse(tv.replace('+0000', 'Z')));
  return Math.max(...times);
}

/**
 * Capture text with every time moved by `shiftMs` and nothing else changed (same length, same
 * bytes around the times): what the same Asterisk would have sent `shiftMs` later. The guard
 * dates an event by its EventTV, not by its arrival, so a replay of a capture days old is
 * outside every window unless its times are moved.
 */
export function shiftCaptureTimes(text: string, shiftMs: number): string {
  return text
    .replace(TV, (tv) => (tv === UNSET_TV ? tv : `${isoUtc(Date.parse(tv.replace('+0000', 'Z')) + shiftMs)}+0000`))
    .replace(LINE_PREFIX, (_all, day: string, time: string) => `[${isoUtc(Date.parse(`${day}T${time}Z`) + shiftMs).replace('T', ' ')}]`);
}
