import { describe, expect, it } from 'vitest';
import { callTo } from '../support/check-context.js';
import { numberCheck } from '../../src/engine/checks/number.js';

const call = callTo;

describe('number check', () => {
  it('passes a London number dialled nationally from a GB site, naming it', () => {
    expect(numberCheck(call('02079460000', 'GB'))).toEqual({ name: 'number', outcome: 'pass', detail: '+442079460000 GB FIXED_LINE' });
  });

  it('passes an international number dialled with 9 and 011 from a US site', () => {
    expect(numberCheck(call('9011442079460000', 'US', '9'))).toMatchObject({ outcome: 'pass', detail: '+442079460000 GB FIXED_LINE' });
  });

  it('passes a satellite number, which has no country', () => {
    expect(numberCheck(call('+881631234567'))).toMatchObject({ outcome: 'pass', detail: '+881631234567 SATELLITE' });
  });

  it('denies directory assistance (411) as number_invalid', () => {
    expect(numberCheck(call('411'))).toEqual({ name: 'number', outcome: 'fail', reason: 'number_invalid', detail: '411 is not a valid number' });
  });

  it('denies a feature code (*67) as number_invalid', () => {
    expect(numberCheck(call('*67'))).toMatchObject({ outcome: 'fail', reason: 'number_invalid' });
  });

  it('denies a number in an unassigned NANP area code, naming its E.164 form', () => {
    expect(numberCheck(call('11235551234'))).toMatchObject({ outcome: 'fail', reason: 'number_invalid', detail: '+11235551234 is not a valid number' });
  });

  it('denies an empty number', () => {
    expect(numberCheck(call(''))).toMatchObject({ outcome: 'fail', reason: 'number_invalid' });
  });
});
