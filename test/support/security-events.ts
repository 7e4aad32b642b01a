import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SecurityEvent } from '../../src/domain/security.js';
import { securityEventFromFields } from '../../src/security/event-fields.js';
import { capturesDir } from './captures.js';

/**
 * The AMI security events of shared/asterisk/security (ami-security-events.json: the blocks as
 * Asterisk sent them, fields in order) as the one mapper of src/security reads them, for the
 * reputation tracker's tests: the tracker is tested on what Asterisk really sent.
 */
export function captureEvents(): SecurityEvent[] {
  const blocks = JSON.parse(readFileSync(path.join(capturesDir, 'security', 'ami-security-events.json'), 'utf8')) as Array<Record<string, string>>;
  return blocks.flatMap((block) => {
    const event = securityEventFromFields(block, Number.NaN);
    return event ? [event] : [];
  });
}

/** The capture's events from one address. */
export const from = (events: SecurityEvent[], address: string): SecurityEvent[] => events.filter((e) => e.address === address);
