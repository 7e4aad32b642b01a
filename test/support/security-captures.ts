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
