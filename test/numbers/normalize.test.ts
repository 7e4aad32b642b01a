import { describe, expect, it } from 'vitest';
import { normalizeNumber, normalizePrefix } from '../../src/numbers/normalize.js';

const us = { homeCountry: 'US', accessPrefix: '' };
const usWith9 = { homeCountry: 'US', accessPrefix: '9' };
const gb = { homeCountry: 'GB', accessPrefix: '' };
const gbWith9 = { homeCountry: 'GB', accessPrefix: '9' };

describe('normalizeNumber: national and international dialling', () => {
  it('reads a US 10-digit number as domestic', () => {
    expect(normalizeNumber('2125550123', us)).toEqual({
      digits: '2125550123',
      e164: '+12125550123',
      country: 'US',
      type: 'FIXED_LINE_OR_MOBILE',
      valid: true,
      international: false,
    });
  });

  it('reads the 11-digit NANP form with the leading 1 as the same number', () => {
    expect(normalizeNumber('12125550123', us)).toMatchObject({ e164: '+12125550123', country: 'US', international: false });
  });

  it('reads 011 as the international prefix from a US site', () => {
    expect(normalizeNumber('011442079460000', us)).toMatchObject({
      e164: '+442079460000',
      country: 'GB',
      type: 'FIXED_LINE',
      valid: true,
      international: true,
    });
  });

  it('reads 00 as the international prefix from a GB site, spaces and all', () => {
    expect(normalizeNumber('0044 20 7946 0000', gb)).toMatchObject({ e164: '+442079460000', country: 'GB', international: false });
    expect(normalizeNumber('0049 30 123456', gb)).toMatchObject({ e164: '+4930123456', country: 'DE', international: true });
  });

  it('does not read 00 as an international prefix from a US site', () => {
    expect(normalizeNumber('00442079460000', us).valid).toBe(false);
  });

  it('reads the GB national trunk prefix 0', () => {
    expect(normalizeNumber('02079460000', gb)).toMatchObject({ e164: '+442079460000', country: 'GB', type: 'FIXED_LINE', international: false });
  });

  it('accepts a leading + and ignores visual separators', () => {
    expect(normalizeNumber('+1 (212) 555-0123', us)).toMatchObject({ digits: '+12125550123', e164: '+12125550123', valid: true });
    expect(normalizeNumber('212.555.0123', us).e164).toBe('+12125550123');
  });

  it('treats a Jamaican number dialled as 1 876 … from a US site as international (country JM)', () => {
    expect(normalizeNumber('18762101234', us)).toMatchObject({ e164: '+18762101234', country: 'JM', valid: true, international: true });
  });

  it('treats the same Jamaican number dialled with 011 1 or as 10 digits the same way', () => {
    expect(normalizeNumber('01118762101234', us)).toMatchObject({ e164: '+18762101234', country: 'JM', international: true });
    expect(normalizeNumber('8762101234', us)).toMatchObject({ e164: '+18762101234', country: 'JM', international: true });
  });

  it('treats a Canadian number as international for a US site and domestic for a Canadian one', () => {
    expect(normalizeNumber('16135550123', us)).toMatchObject({ country: 'CA', international: true });
    expect(normalizeNumber('16135550123', { homeCountry: 'CA', accessPrefix: '' })).toMatchObject({ country: 'CA', international: false });
  });
});

describe('normalizeNumber: trunk access prefix', () => {
  it('strips 9 before 011 44 …', () => {
    expect(normalizeNumber('9011442079460000', usWith9)).toMatchObject({ digits: '011442079460000', e164: '+442079460000', country: 'GB' });
  });

  it('strips 9 before 1 212 …', () => {
    expect(normalizeNumber('912125550123', usWith9)).toMatchObject({ digits: '12125550123', e164: '+12125550123', country: 'US' });
  });

  it('keeps a 9 that belongs to the number when what follows it is not a number', () => {
    expect(normalizeNumber('9125550123', usWith9)).toMatchObject({ digits: '9125550123', e164: '+19125550123', valid: true });
  });

  it('reads 9911 and 911 as the emergency number 911 on a site with access prefix 9', () => {
    const expected = { digits: '911', e164: null, country: 'US', type: null, valid: true, international: false };
    expect(normalizeNumber('9911', usWith9)).toEqual(expected);
    expect(normalizeNumber('911', usWith9)).toEqual(expected);
  });

  it('reads 9999 and 999 as the emergency number 999 on a GB site with access prefix 9', () => {
    expect(normalizeNumber('9999', gbWith9)).toMatchObject({ digits: '999', valid: true });
    expect(normalizeNumber('999', gbWith9)).toMatchObject({ digits: '999', valid: true });
  });

  it('does not strip anything when the site has no access prefix', () => {
    expect(normalizeNumber('9011442079460000', us).valid).toBe(false);
  });

  it('keeps the stripped digits of a number that is invalid either way', () => {
    expect(normalizeNumber('9411', usWith9)).toMatchObject({ digits: '411', valid: false });
  });
});

describe('normalizeNumber: number types', () => {
  it('classifies US 1-900 as premium rate', () => {
    expect(normalizeNumber('19002001234', us)).toMatchObject({ e164: '+19002001234', country: 'US', type: 'PREMIUM_RATE', valid: true });
  });

  it('classifies GB 09… as premium rate', () => {
    expect(normalizeNumber('09098790000', gb)).toMatchObject({ e164: '+449098790000', country: 'GB', type: 'PREMIUM_RATE' });
  });

  it('classifies Iridium (+8816) and Inmarsat (+870) as satellite, with no country', () => {
    expect(normalizeNumber('+8816 3123 4567', us)).toMatchObject({ e164: '+881631234567', country: null, type: 'SATELLITE', valid: true, international: true });
    expect(normalizeNumber('011870772123456', us)).toMatchObject({ e164: '+870772123456', country: null, type: 'SATELLITE', international: true });
  });

  it('classifies Thuraya (+88216) as satellite although it sits in the +882 networks', () => {
    expect(normalizeNumber('+88216 1234 5678', us)).toMatchObject({ country: null, type: 'SATELLITE' });
  });

  it('classifies the other shared codes as international networks, +800 freephone included', () => {
    expect(normalizeNumber('+883 5100 1234 5678', us)).toMatchObject({ country: null, type: 'INTERNATIONAL_NETWORK', valid: true });
    expect(normalizeNumber('+800 1234 5678', us)).toMatchObject({ country: null, type: 'INTERNATIONAL_NETWORK', valid: true });
  });

  it('classifies +979 (international premium rate service) as premium rate', () => {
    expect(normalizeNumber('+979 1 2345 6789', us)).toMatchObject({ country: null, type: 'PREMIUM_RATE', valid: true });
  });
});

describe('normalizeNumber: what is not a number', () => {
  it('rejects short numbers that are not emergency numbers', () => {
    expect(normalizeNumber('411', us)).toEqual({ digits: '411', e164: null, country: null, type: null, valid: false, international: false });
  });

  it('rejects feature codes and anything with * or #', () => {
    expect(normalizeNumber('*67', us).valid).toBe(false);
    expect(normalizeNumber('*672125550123', us).valid).toBe(false);
    expect(normalizeNumber('2125550123#', us).valid).toBe(false);
  });

  it('rejects an empty number and letters', () => {
    expect(normalizeNumber('', us).valid).toBe(false);
    expect(normalizeNumber('1800FLOWERS', us).valid).toBe(false);
  });

  it('rejects a number of possible length that no range uses, keeping its E.164 form for the audit', () => {
    expect(normalizeNumber('+11235551234', us)).toMatchObject({ e164: '+11235551234', valid: false, type: null });
  });

  it('rejects a number too long to be one, with no E.164 form', () => {
    expect(normalizeNumber('+4420794600001', us)).toMatchObject({ e164: null, valid: false });
    expect(normalizeNumber('1'.repeat(200), us)).toMatchObject({ e164: null, valid: false });
  });

  it('does not treat another country emergency number as one', () => {
    expect(normalizeNumber('999', us).valid).toBe(false);
  });
});

describe('normalizePrefix', () => {
  it('writes prefixes in canonical E.164 form', () => {
    expect(normalizePrefix('+1876')).toBe('+1876');
    expect(normalizePrefix('1 876')).toBe('+1876');
    expect(normalizePrefix('+882-13')).toBe('+88213');
  });

  it('refuses what cannot be an E.164 prefix', () => {
    expect(normalizePrefix('')).toBeNull();
    expect(normalizePrefix('+')).toBeNull();
    expect(normalizePrefix('011')).toBeNull();
    expect(normalizePrefix('+44x')).toBeNull();
    expect(normalizePrefix('+1234567890123456')).toBeNull();
  });
});
