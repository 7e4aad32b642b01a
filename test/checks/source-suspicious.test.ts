import { describe, expect, it } from 'vitest';
import type { SourceStanding } from '../../src/domain/security.js';
import { compileSourceSuspicious, type Intrusion } from '../../src/engine/checks/source-suspicious.js';
import { ValidationError } from '../../src/errors.js';
import { callTo } from '../support/check-context.js';

const DEFAULTS: Intrusion = { failureThreshold: 10, windowHours: 24, trustedCidrs: [], lockOnTakeover: true };

const standing = (address: string, failures: number, network: string, networkFailures: number): SourceStanding => ({ address, failures, network, networkFailures });

/** The check on a call from `ip` whose standing the shell read as given. */
function check(ip: string | null, read: SourceStanding | null, intrusion: Partial<Intrusion> = {}) {
  const ctx = { ...callTo('12125550123'), source: { ip, country: null }, standing: read };
  return compileSourceSuspicious({ ...DEFAULTS, ...intrusion })(ctx);
}

describe('the source_suspicious check', () => {
  it('denies a source with as many failed authentications as the threshold, naming the count and the window', () => {
    expect(check('203.0.113.9', standing('203.0.113.9', 10, '203.0.113.0/24', 10))).toEqual({
      name: 'source_suspicious',
      outcome: 'fail',
      reason: 'source_suspicious',
      detail: '203.0.113.9 had 10 failed authentications in the last 24 h, limit 10',
    });
  });

  it('passes one failure fewer, with the counts in the audit', () => {
    expect(check('203.0.113.9', standing('203.0.113.9', 9, '203.0.113.0/24', 9))).toEqual({
      name: 'source_suspicious',
      outcome: 'pass',
      detail: '9 failed authentications from 203.0.113.9, 9 from 203.0.113.0/24 in the last 24 h, limit 10',
    });
  });

  it('denies a fresh address of a range that an attacker rotates through (/24 and /64)', () => {
    expect(check('203.0.113.77', standing('203.0.113.77', 0, '203.0.113.0/24', 250))).toMatchObject({
      outcome: 'fail',
      reason: 'source_suspicious',
      detail: '203.0.113.0/24, the network of 203.0.113.77, had 250 failed authentications in the last 24 h, limit 10',
    });
    expect(check('2001:db8:1:2::99', standing('2001:db8:1:2::99', 1, '2001:db8:1:2::/64', 12))).toMatchObject({ outcome: 'fail', reason: 'source_suspicious' });
  });

  it('never flags a trusted network, whatever its failures', () => {
    const office = { trustedCidrs: ['198.51.100.0/28', '2001:db8:aaaa::/48'] };
    expect(check('198.51.100.7', standing('198.51.100.7', 500, '198.51.100.0/24', 500), office)).toEqual({
      name: 'source_suspicious',
      outcome: 'pass',
      detail: '198.51.100.7 is inside the trusted network 198.51.100.0/28',
    });
    expect(check('2001:db8:aaaa::5', standing('2001:db8:aaaa::5', 40, '2001:db8:aaaa::/64', 40), office)).toMatchObject({ outcome: 'pass' });
    // Outside the trusted /28 but in the same /24: judged as any other source.
    expect(check('198.51.100.99', standing('198.51.100.99', 0, '198.51.100.0/24', 500), office)).toMatchObject({ outcome: 'fail' });
  });

  it('is off with a threshold of 0, and skips a call without a source address or without a reading', () => {
    expect(check('203.0.113.9', standing('203.0.113.9', 10_000, '203.0.113.0/24', 10_000), { failureThreshold: 0 })).toMatchObject({
      outcome: 'skip',
      detail: 'the source reputation check is off',
    });
    expect(check(null, null)).toMatchObject({ outcome: 'skip', detail: 'no source address' });
    expect(check('203.0.113.9', null)).toMatchObject({ outcome: 'skip', detail: 'no reputation read' });
  });

  it('refuses to compile a trusted network it cannot read, naming the field', () => {
    expect(() => compileSourceSuspicious({ ...DEFAULTS, trustedCidrs: ['10.0.0.0/8', 'office'] })).toThrow(ValidationError);
    try {
      compileSourceSuspicious({ ...DEFAULTS, trustedCidrs: ['10.0.0.0/8', 'office'] });
    } catch (error) {
      expect((error as ValidationError).problems).toEqual([{ field: '/intrusion/trustedCidrs/1', message: 'not an IP address or CIDR: "office"' }]);
    }
  });
});
