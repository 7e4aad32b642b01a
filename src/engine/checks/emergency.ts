import { emergencyNumbers } from '../../numbers/emergency.js';
import { pass, skip, type Check } from './check.js';

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
