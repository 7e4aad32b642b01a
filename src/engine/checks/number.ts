import { fail, pass, type Check } from './check.js';

/** Denies what the home country's dialling rules cannot read as a real number (411, *67, 12345). */
export const numberCheck: Check = (ctx) => {
  const n = ctx.number;
  if (!n.valid) return fail('number', 'number_invalid', `${n.e164 ?? (n.digits || 'empty number')} is not a valid number`);
  return pass('number', [n.e164 ?? n.digits, n.country, n.type].filter((part) => part !== null).join(' '));
};
