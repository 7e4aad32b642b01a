import { describe, expect, it } from 'vitest';
import { emergencyNumbers, isEmergencyNumber } from '../../src/numbers/emergency.js';

describe('isEmergencyNumber', () => {
  it.each([
    ['US', '911'],
    ['US', '112'],
    ['CA', '911'],
    ['MX', '911'],
    ['GB', '999'],
    ['GB', '112'],
    ['IE', '999'],
    ['AU', '000'],
    ['AU', '112'],
    ['NZ', '111'],
    ['DE', '110'],
    ['DE', '112'],
    ['FR', '15'],
    ['FR', '17'],
    ['FR', '18'],
    ['CN', '110'],
    ['CN', '119'],
    ['CN', '120'],
    ['CN', '122'],
    ['JP', '110'],
    ['JP', '119'],
    ['IN', '100'],
    ['IN', '101'],
    ['IN', '102'],
    ['IN', '112'],
    ['RU', '101'],
    ['RU', '102'],
    ['RU', '103'],
    ['RU', '112'],
    ['BR', '190'],
    ['BR', '192'],
    ['BR', '193'],
    ['KR', '119'],
    ['ZA', '10111'],
  ])('knows %s %s', (country, digits) => {
    expect(isEmergencyNumber(digits, country)).toBe(true);
  });

  it('only knows the home country numbers', () => {
    expect(isEmergencyNumber('999', 'US')).toBe(false);
    expect(isEmergencyNumber('000', 'US')).toBe(false);
    expect(isEmergencyNumber('911', 'GB')).toBe(false);
    expect(isEmergencyNumber('110', 'GB')).toBe(false);
  });

  it('matches exactly, never by prefix', () => {
    expect(isEmergencyNumber('9110', 'US')).toBe(false);
    expect(isEmergencyNumber('91', 'US')).toBe(false);
    expect(isEmergencyNumber('9911', 'US')).toBe(false);
    expect(isEmergencyNumber('411', 'US')).toBe(false);
  });

  it('accepts the home country in either case', () => {
    expect(isEmergencyNumber('999', 'gb')).toBe(true);
  });

  it('falls back to 112 and 911 for a home country the table does not list', () => {
    expect([...emergencyNumbers('AQ')].sort()).toEqual(['112', '911']);
  });

  it('lists at least the thirty most populous countries', () => {
    const top30 = ['IN', 'CN', 'US', 'ID', 'PK', 'NG', 'BR', 'BD', 'RU', 'ET', 'MX', 'JP', 'EG', 'PH', 'CD', 'VN', 'IR', 'TR', 'DE', 'TH', 'TZ', 'GB', 'FR', 'ZA', 'IT', 'KE', 'MM', 'CO', 'KR', 'SD'];
    const fallback = emergencyNumbers('AQ');
    for (const country of top30) expect(emergencyNumbers(country), country).not.toBe(fallback);
  });
});
