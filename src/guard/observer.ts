/** What the transports report as they work: metrics implement it; tests may count with it. */
export interface GuardObserver {
  observeDecision(decision: { result: string; reason: string }, transport: string, latencySeconds: number): void;
  observeSettlement(outcome: string): void;
  observeError(code: string): void;
  /** A call answered DENY guard_error: the guard failed, not the policy. Counted as an error of `code` too. */
  observeGuardError(transport: 'agi' | 'ari', code: string): void;
}

export const NO_OBSERVER: GuardObserver = {
  observeDecision: () => undefined,
  observeSettlement: () => undefined,
  observeError: () => undefined,
  observeGuardError: () => undefined,
};
