import type { CircuitBreakerState } from '../../domain/usage.js';

/** The site circuit breaker on international spend, for the admin API and the metrics. Each change is in the policy history under `circuit-breaker`. */
export interface CircuitBreakerStore {
  /** As of `at`: spend is that of the international calls placed in the hour before it. */
  circuitBreaker(at: Date): Promise<CircuitBreakerRecord>;
  /** Null: no limit. */
  setCircuitBreakerLimit(limitMicros: number | null, actor: string, at: Date): Promise<CircuitBreakerRecord>;
  /** Closes the breaker and starts counting international spend afresh. */
  resetCircuitBreaker(actor: string, at: Date): Promise<CircuitBreakerRecord>;
}

export interface CircuitBreakerRecord extends CircuitBreakerState {
  /** The call that opened it. */
  openedBy: { ext: string; callId: string } | null;
  resetAt: number | null;
  resetBy: string | null;
}
