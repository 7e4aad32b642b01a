import { describe, expect, it } from 'vitest';
import { callTo } from '../support/check-context.js';
import { compileEmergencyCheck } from '../../src/engine/checks/emergency.js';

const call = callTo;

describe('emergency check', () => {
  it.each([
    ['US', '911'],
    ['GB', '999'],
    ['GB', '112'],
    ['AU', '000'],
    ['DE', '110'],
    ['CN', '110'],
    ['JP', '110'],
  ])('passes a call from a %s site to %s', (country, digits) => {
    expect(compileEmergencyCheck(country)(call(digits, country))).toEqual({
      name: 'emergency',
      outcome: 'pass',
      detail: `emergency number ${digits}`,
    });
  });

  it('passes 9911 on a US site whose users dial 9 for an outside line', () => {
    expect(compileEmergencyCheck('US')(call('9911', 'US', '9'))).toMatchObject({ outcome: 'pass', detail: 'emergency number 911' });
  });

  it('passes 911 dialled without the access prefix on the same site', () => {
    expect(compileEmergencyCheck('US')(call('911', 'US', '9'))).toMatchObject({ outcome: 'pass', detail: 'emergency number 911' });
  });

  it('skips another country emergency number: 999 from a US site', () => {
    expect(compileEmergencyCheck('US')(call('999', 'US'))).toMatchObject({ name: 'emergency', outcome: 'skip' });
  });

  it('skips an ordinary number and a non-emergency short code', () => {
    const check = compileEmergencyCheck('US');
    expect(check(call('12125550123', 'US')).outcome).toBe('skip');
    expect(check(call('411', 'US')).outcome).toBe('skip');
  });
});
