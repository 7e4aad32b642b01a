import { defineCheck, fail, pass, type Check } from './check.js';

declare module '../../domain/decision.js' {
  interface CheckNames {
    number: true;
  }
  interface ReasonCodes {
    number_invalid: true;
  }
}

/** Denies what the home country's dialling rules cannot read as a real number (411, *67, 12345). */
export const numberCheck: Check = (ctx) => {
  const n = ctx.number;
  if (!n.valid) return fail('number', 'number_invalid', `${n.e164 ?? (n.digits || 'empty number')} is not a valid number`);
  return pass('number', [n.e164 ?? n.digits, n.country, n.type].filter((part) => part !== null).join(' '));
};

export const number = defineCheck({
  name: 'number',
  kind: 'policy',
  reasons: { number_invalid: 'the number is not valid' },
  section: null,
  compile: () => numberCheck,
});
