import { emergencyNumbers } from '../../numbers/emergency.js';
import { defineCheck, pass, skip, type Check } from './check.js';

declare module '../../domain/decision.js' {
  interface CheckNames {
    emergency: true;
  }
  interface ReasonCodes {
    emergency: true;
  }
}

/**
 * Passes when the number dialled (access prefix stripped) is an emergency number of the home
 * country; the engine then allows the call with reason `emergency`, whatever else applies.
 */
export function compileEmergencyCheck(homeCountry: string): Check {
  const numbers = emergencyNumbers(homeCountry);
  return (ctx) => {
    const { digits } = ctx.number;
    return numbers.has(digits) ? pass('emergency', `emergency number ${digits}`) : skip('emergency', 'not an emergency number');
  };
}

export const emergency = defineCheck({
  name: 'emergency',
  kind: 'override',
  // Never a denial: the call is allowed with this reason.
  reasons: { emergency: 'an emergency number is always allowed' },
  section: null,
  compile: ({ env }) => compileEmergencyCheck(env.homeCountry),
});
