import { describe, expect, it } from 'vitest';
import { FailureCollector } from '../../src/forensics/attempts.js';
import { TakeoverCollector } from '../../src/forensics/takeovers.js';
import { parseAsteriskLine } from '../../src/security/parse-line.js';

const context = { timezone: 'UTC', referenceMs: Date.parse('2026-12-31T00:00:00Z') };
const START = Date.parse('2026-12-01T00:00:00Z');
const SOURCES = 100;
const ACCOUNTS = 20;
/** One request every 20 ms: 50 a second, 3000 a minute, 30 a minute from each source. */
const STEP_MS = 20;

const stamp = (ms: number): string => `[${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}]`;

/** Request `n` of a scanner walking ACCOUNTS accounts from SOURCES addresses, as the PJSIP NOTICEs of the capture (3 per request), and a phone's refresh every 100th. */
function* requestLines(n: number): Generator<string> {
  const at = START + n * STEP_MS;
  const ip = `198.51.100.${n % SOURCES}`;
  const from = `Request 'REGISTER' from '<sip:${1000 + (Math.floor(n / SOURCES) % ACCOUNTS)}@192.0.2.1>' failed for '${ip}:5060' (callid: ${n}-1@${ip})`;
  yield `${stamp(at)} NOTICE[16514] res_pjsip/pjsip_distributor.c: ${from} - No matching endpoint found`;
  yield `${stamp(at)} NOTICE[16514] res_pjsip/pjsip_distributor.c: ${from} - No matching endpoint found`;
  yield `${stamp(at)} NOTICE[16514] res_pjsip/pjsip_distributor.c: ${from} - Failed to authenticate`;
  if (n % 100 === 0) yield `${stamp(at)} VERBOSE[16520] res_pjsip_registrar.c: Added contact 'sip:1001@10.0.0.5:5060' to AOR '1001' with expiration of 300 seconds`;
}

/** Reads `requests` requests as forensics reads a `messages` log and the `full` log that repeats it, and says what it kept. */
function read(requests: number) {
  const failures = new FailureCollector();
  const files = ['/var/log/asterisk/messages', '/var/log/asterisk/full'];
  for (const file of files) {
    for (let n = 0; n < requests; n++) {
      for (const text of requestLines(n)) {
        const parsed = parseAsteriskLine(text, context);
        if (parsed.kind === 'event') failures.add(parsed.event, file, text);
      }
    }
  }
  const successes = new TakeoverCollector(failures.sources, failures.accounts, () => 'US');
  for (const file of files) {
    for (let n = 0; n < requests; n += 100) {
      for (const text of requestLines(n)) {
        const parsed = parseAsteriskLine(text, context);
        if (parsed.kind === 'event') successes.add(parsed.event, file, text);
      }
    }
  }
  const sources = [...failures.sources.values()];
  return {
    attempts: sources.reduce((sum, s) => sum + s.attempts, 0),
    sources: sources.length,
    peak: Math.max(...sources.map((s) => s.rates.get('/var/log/asterisk/messages')?.peak ?? 0)),
    retained: failures.retained() + successes.retained(),
  };
}

describe('forensics keeps what the attack is, not what the log says', () => {
  it('ten times the log (ten times as long, at the same rate) keeps no more state, and still counts every request once', () => {
    const small = read(6_000);
    const large = read(60_000);
    expect([small.attempts, small.sources, large.attempts, large.sources]).toEqual([6_000, SOURCES, 60_000, SOURCES]);
    // 30 a minute from each source, told by messages and by full alike.
    expect(large.peak).toBe(30);
    // A minute of keys per log, the sources, the accounts and their names: the same for both.
    expect(large.retained).toBeLessThanOrEqual(small.retained * 1.05);
    expect(large.retained).toBeLessThan(20_000);
  });
});
