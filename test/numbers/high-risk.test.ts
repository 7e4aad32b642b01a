import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { BUILTIN_HIGH_RISK, compileHighRisk } from '../../src/numbers/high-risk.js';
import { normalizeNumber } from '../../src/numbers/normalize.js';

const fromUs = (dialled: string) => normalizeNumber(dialled, { homeCountry: 'US', accessPrefix: '' });

describe('the built-in high-risk list', () => {
  const highRisk = compileHighRisk(BUILTIN_HIGH_RISK);

  it('names a Cuban number by its country', () => {
    expect(highRisk(fromUs('011 53 5 1234567'))).toBe('country CU');
  });

  it('names the classic Pacific and African IRSF destinations', () => {
    expect(highRisk(fromUs('+252 71 123456'))).toBe('country SO');
    expect(highRisk(fromUs('+676 771 5123'))).toBe('country TO');
    expect(highRisk(fromUs('+675 7012 3456'))).toBe('country PG');
  });

  it.each([
    ['Antigua', '+12684641234', '+1268'],
    ['British Virgin Islands', '+12843001234', '+1284'],
    ['Grenada', '+14734031234', '+1473'],
    ['Turks and Caicos', '+16492311234', '+1649'],
    ['Montserrat', '+16644923456', '+1664'],
    ['Dominica', '+17672251234', '+1767'],
    ['Dominican Republic', '+18092345678', '+1809'],
    ['Dominican Republic', '+18292345678', '+1829'],
    ['Dominican Republic', '+18492345678', '+1849'],
    ['Jamaica', '+18762101234', '+1876'],
    ['Jamaica (overlay)', '+16585551234', '+1658'],
  ])('names the NANP one-ring code of %s', (_place, e164, prefix) => {
    expect(highRisk(fromUs(e164))).toBe(`prefix ${prefix}`);
  });

  it('names satellite and international network numbers by prefix', () => {
    expect(highRisk(fromUs('+881631234567'))).toBe('prefix +881');
    expect(highRisk(fromUs('+870772123456'))).toBe('prefix +870');
    expect(highRisk(fromUs('+8821612345678'))).toBe('prefix +882');
    expect(highRisk(fromUs('+883510012345678'))).toBe('prefix +883');
  });

  it('does not name ordinary destinations', () => {
    expect(highRisk(fromUs('2125550123'))).toBeNull();
    expect(highRisk(fromUs('011442079460000'))).toBeNull();
    expect(highRisk(fromUs('+37121234567'))).toBeNull();
  });

  it('does not name a number with no E.164 form', () => {
    expect(highRisk(fromUs('911'))).toBeNull();
  });
});

describe('compileHighRisk', () => {
  it('accepts lower-case countries and prefixes written with spaces or without +', () => {
    const highRisk = compileHighRisk({ countries: ['cu'], prefixes: ['1 876'] });
    expect(highRisk(fromUs('+5351234567'))).toBe('country CU');
    expect(highRisk(fromUs('+18762101234'))).toBe('prefix +1876');
  });

  it('refuses a list with a malformed entry, naming every one', () => {
    let error: unknown;
    try {
      compileHighRisk({ countries: ['CU', 'Cuba'], prefixes: ['+1876', '011 53'] });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems.map((p) => p.field)).toEqual(['/highRisk/countries/1', '/highRisk/prefixes/1']);
  });
});
