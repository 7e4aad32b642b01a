import { fromMicros } from '../../rates/rate-table.js';
import type { CheckOutcome, Grant } from '../../domain/decision.js';
import type { FraudFinding } from '../../domain/fraud.js';
import { WINDOW_MS } from '../../domain/windows.js';
import { fail, pass, skip, type CheckContext } from './check.js';

export interface BreakerResult {
  outcome: CheckOutcome;
  findings: FraudFinding[];
  /** This call opens the breaker. */
  trip: boolean;
}

export interface CircuitBreakerCheck {
  /** The breaker is open and the call goes abroad: it will be denied whatever else passes. */
  isOpen(ctx: CheckContext): boolean;
  /** `grant` is what the call would reserve if placed, null if it is not placed. */
  check(ctx: CheckContext, grant: Grant | null): BreakerResult;
}

/**
 * The site-wide brake on international spend: when the calls placed abroad in the last hour,
 * across every extension, reserved and settled, would spend more than the site's limit, the call
 * that would cross it is denied and the breaker opens. International calls then stay denied for
 * everyone until an admin resets it; domestic and emergency calls go on.
 */
export function compileCircuitBreaker(currency: string): CircuitBreakerCheck {
  const money = (micros: number): string => `${fromMicros(micros).toFixed(2)} ${currency}`;
  const result = (outcome: CheckOutcome, findings: FraudFinding[] = [], trip = false): BreakerResult => ({ outcome, findings, trip });

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
