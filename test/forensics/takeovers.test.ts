import { describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../src/domain/security.js';
import { FailureCollector } from '../../src/forensics/attempts.js';
import { TakeoverCollector } from '../../src/forensics/takeovers.js';

const event = (over: Partial<SecurityEvent>): SecurityEvent => ({ kind: 'successful_auth', at: 1_000_000, service: 'PJSIP', account: '1001', address: '198.51.100.7', detail: 'SuccessfulAuth', ...over });
// Documentation ranges standing for countries, as GeoIP would place them.
const COUNTRIES: Record<string, string> = { '198.51.100.7': 'US', '198.51.100.8': 'US', '203.0.113.9': 'DE', '203.0.113.77': 'DE', '192.0.2.4': 'FR' };
const countryOf = (address: string): string | null => COUNTRIES[address] ?? null;

function takeovers(failures: SecurityEvent[], successes: SecurityEvent[]) {
  const f = new FailureCollector();
  failures.forEach((e, i) => f.add(e, 'security', `failure ${i}`));
  const t = new TakeoverCollector(f.sources, f.accounts, countryOf);
  successes.forEach((e, i) => t.add(e, 'security', `success ${i} of ${e.account} from ${e.address}`));
  return t.result();
}

describe('accounts taken over, judged on the successes', () => {
  it('a success from a country never seen for that account is a takeover, though nothing failed', () => {
    const result = takeovers(
      [],
      [
        event({ at: 1_000_000, session: 'a' }),
        event({ at: 2_000_000, address: '198.51.100.8', session: 'b' }),
        event({ at: 3_000_000, address: '203.0.113.9', session: 'c' }),
        // Another account from the same foreign address, and never from anywhere else: its first country is its own.
        event({ at: 3_500_000, account: '1002', address: '203.0.113.9', session: 'd' }),
      ],
    );
    expect(result.map((t) => [t.account, t.at, t.sources.map((s) => [s.address, s.country, s.reasons])])).toEqual([['1001', 3_000_000, [['203.0.113.9', 'DE', ['new_country']]]]]);
    expect(result[0]?.sources[0]?.line.line).toBe('success 2 of 1001 from 203.0.113.9');
  });

  it('the country is new by time, whatever order the lines came in', () => {
    const result = takeovers([], [event({ at: 3_000_000, address: '203.0.113.9', session: 'c' }), event({ at: 1_000_000, session: 'a' })]);
    expect(result.map((t) => [t.account, t.at, t.sources.map((s) => s.address)])).toEqual([['1001', 3_000_000, ['203.0.113.9']]]);
  });

  it('the same country again and again is no takeover', () => {
    expect(takeovers([], [event({ at: 1_000_000, session: 'a' }), event({ at: 2_000_000, address: '198.51.100.8', session: 'b' })])).toEqual([]);
  });

  it('a success from the /24 of an address that failed before is a takeover; one before the failures is not', () => {
    const failure = event({ kind: 'failed_auth', at: 2_000_000, address: '203.0.113.9', detail: 'ChallengeResponseFailed', session: 'f' });
    const result = takeovers([failure], [event({ at: 1_000_000, address: '203.0.113.77', session: 'early' }), event({ at: 3_000_000, address: '203.0.113.77', session: 'late' })]);
    expect(result.map((t) => [t.account, t.at, t.sources.map((s) => [s.address, s.reasons])])).toEqual([['1001', 3_000_000, [['203.0.113.77', ['network_failed_before']]]]]);
  });

  it('a success from the address that failed before names both when it is also a new country', () => {
    const failure = event({ kind: 'failed_auth', at: 2_000_000, address: '192.0.2.4', detail: 'ChallengeResponseFailed', session: 'f' });
    const result = takeovers([failure], [event({ at: 1_000_000, session: 'a' }), event({ at: 3_000_000, address: '192.0.2.4', session: 'b' })]);
    expect(result.map((t) => t.sources.map((s) => [s.address, s.reasons]))).toEqual([[['192.0.2.4', ['failed_before', 'new_country']]]]);
  });
});
