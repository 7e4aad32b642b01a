import { describe, expect, it } from 'vitest';
import type { CheckContext } from '../../src/engine/checks/check.js';
import { compileVoicemail } from '../../src/engine/checks/voicemail.js';
import { EMPTY_USAGE } from '../../src/domain/usage.js';
import type { NormalizedNumber } from '../../src/domain/number.js';
import type { Origin } from '../../src/domain/decision.js';

const US_LANDLINE: NormalizedNumber = { digits: '2125550100', e164: '+12125550100', country: 'US', type: 'FIXED_LINE', valid: true, international: false };
const US_PREMIUM: NormalizedNumber = { digits: '19005550100', e164: '+19005550100', country: 'US', type: 'PREMIUM_RATE', valid: true, international: false };
const JAMAICA_MOBILE: NormalizedNumber = { digits: '18768100000', e164: '+18768100000', country: 'JM', type: 'MOBILE', valid: true, international: true };
const UK_LANDLINE: NormalizedNumber = { digits: '0442079460000', e164: '+442079460000', country: 'GB', type: 'FIXED_LINE', valid: true, international: true };

/** A call to `number` from a US site, placed from voicemail unless another origin is given. */
function call(number: NormalizedNumber, origin: Origin = 'voicemail'): CheckContext {
  return {
    request: { extension: '1001', dialled: number.digits, source: '127.0.0.2:5060', origin, at: new Date('2026-11-21T12:46:38Z'), transport: 'agi' },
    number,
    source: { ip: '127.0.0.2', country: null },
    extension: { known: true, locked: false, lockReason: null },
    usage: EMPTY_USAGE,
    homeCountry: 'US',
    standing: null,
  };
}

describe('voicemail call-out', () => {
  it('leaves calls from a phone alone, whatever the mode', () => {
    for (const mode of ['deny', 'domestic', 'allow'] as const) {
      expect(compileVoicemail(mode)(call(UK_LANDLINE, 'phone'))).toEqual({ name: 'voicemail', outcome: 'skip', detail: 'not a voicemail call-out' });
    }
  });

  it('with "deny" (the default), denies a voicemail dial-out even to a local number', () => {
    expect(compileVoicemail('deny')(call(US_LANDLINE))).toEqual({
      name: 'voicemail',
      outcome: 'fail',
      reason: 'voicemail_callout_denied',
      detail: 'voicemail call-out is denied',
    });
  });

  it('recognises the origin however the dialplan capitalised it', () => {
    expect(compileVoicemail('deny')(call(US_LANDLINE, 'VoiceMail')).reason).toBe('voicemail_callout_denied');
  });

  it('with "domestic", allows a call-back to a home-country landline', () => {
    expect(compileVoicemail('domestic')(call(US_LANDLINE))).toEqual({ name: 'voicemail', outcome: 'pass', detail: 'voicemail call-out within US is allowed' });
  });

  it('with "domestic", denies a call to London', () => {
    expect(compileVoicemail('domestic')(call(UK_LANDLINE)).detail).toBe('voicemail call-out is limited to US, not GB');
  });

  it('with "domestic", denies +1 876 (Jamaica): in the North American plan but another country', () => {
    expect(compileVoicemail('domestic')(call(JAMAICA_MOBILE)).reason).toBe('voicemail_callout_denied');
  });

  it('with "domestic", denies a home-country premium-rate or shared-cost number', () => {
    expect(compileVoicemail('domestic')(call(US_PREMIUM)).detail).toBe('voicemail call-out to a PREMIUM_RATE number is denied');
    expect(compileVoicemail('domestic')(call({ ...US_LANDLINE, type: 'SHARED_COST' })).reason).toBe('voicemail_callout_denied');
  });

  it('with "domestic", denies a number whose country is unknown', () => {
    expect(compileVoicemail('domestic')(call({ ...US_LANDLINE, e164: null, country: null, type: null, valid: false })).detail).toBe(
      'voicemail call-out is limited to US, not an unknown country',
    );
  });

  it('with "allow", lets an international voicemail call-out through to the other checks', () => {
    expect(compileVoicemail('allow')(call(UK_LANDLINE)).outcome).toBe('pass');
  });
});
