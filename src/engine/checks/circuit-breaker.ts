import { fromMicros } from '../../rates/rate-table.js';
import type { CheckOutcome } from '../../domain/decision.js';
import type { FraudFinding } from '../../domain/fraud.js';
import { WINDOW_MS } from '../../domain/windows.js';
import { BUDGET_SECTION } from './budget.js';
import { defineCheck, fail, pass, skip, type BrakeCheck, type BrakeResult } from './check.js';

declare module '../../domain/decision.js' {
  interface CheckNames {
    circuit_breaker: true;
  }
  interface ReasonCodes {
    velocity_exceeded: true;
  }
}

/**
 * The site-wide brake on international spend: when the calls placed abroad in the last hour,
 * across every extension, reserved and settled, would spend more than the site's limit, the call
 * that would cross it is denied and the breaker opens. International calls then stay denied for
 * everyone until an admin resets it; domestic and emergency calls go on.
 */
export function compileCircuitBreaker(currency: string): BrakeCheck {
  const money = (micros: number): string => `${fromMicros(micros).toFixed(2)} ${currency}`;
  const result = (outcome: CheckOutcome, findings: FraudFinding[] = [], trip = false): BrakeResult => ({ outcome, findings, trip });

  return {
    isOpen: (ctx) => ctx.number.international && ctx.usage.breaker?.open === true,
    check(ctx, grant) {
      if (!ctx.number.international) return result(skip('circuit_breaker', 'not an international call'));
      const state = ctx.usage.breaker;
      if (!state) return result(skip('circuit_breaker', 'not read'));
      if (state.open) {
        const since = state.openedAt === null ? '' : ` since ${new Date(state.openedAt).toISOString()}`;
        return result(fail('circuit_breaker', 'velocity_exceeded', `the site circuit breaker is open${since}: international calls are stopped until an admin resets it`));
      }
      if (state.limitMicros === null) return result(pass('circuit_breaker', 'no site limit on international spend'));
      const spent = `${money(state.spentMicros)} of ${money(state.limitMicros)} spent abroad in the last hour`;
      if (!grant) return result(pass('circuit_breaker', spent));
      const total = state.spentMicros + grant.costMicros;
      if (total <= state.limitMicros) return result(pass('circuit_breaker', `${spent}, this call reserves ${money(grant.costMicros)}`));
      const detail = `international spend in the last hour would reach ${money(total)}, site limit ${money(state.limitMicros)}: the circuit breaker opens`;
      const finding: FraudFinding = { check: 'circuit_breaker', counter: 'internationalSpendPerHour', level: 'breach', count: total, limit: state.limitMicros, windowMs: WINDOW_MS.internationalSpendPerHour, detail };
      return result(fail('circuit_breaker', 'velocity_exceeded', detail), [finding], true);
    },
  };
}

export const circuitBreaker = defineCheck({
  name: 'circuit_breaker',
  kind: 'brake',
  reasons: { velocity_exceeded: 'too many calls in a short time' },
  // It reads the budget's currency, for its messages.
  section: BUDGET_SECTION,
  storeReads: () => ({ breaker: true }),
  compile: ({ section }) => compileCircuitBreaker(section.currency),
});
