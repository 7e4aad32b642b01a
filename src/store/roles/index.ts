import type { AlertQueue, AlertStore } from './alerts.js';
import type { AuditStore } from './audit.js';
import type { CircuitBreakerStore } from './circuit-breaker.js';
import type { DecisionStore } from './decisions.js';
import type { HealthStore } from './health.js';
import type { LockStore, TakeoverStore } from './locks.js';
import type { PolicyStore } from './policies.js';
import type { TokenStore } from './tokens.js';
import type { UsageStore } from './usage.js';

/**
 * One database behind every role: what `openStore` returns and only the runtime holds. Every
 * other module receives the roles it uses, so that none of them knows which database is behind
 * it (SQLite, the embedded default, or PostgreSQL for several guards sharing budgets), and each
 * role can be implemented and tested on its own (test/store/contract).
 */
export interface Store
  extends DecisionStore,
    PolicyStore,
    LockStore,
    TakeoverStore,
    AuditStore,
    UsageStore,
    TokenStore,
    AlertStore,
    AlertQueue,
    CircuitBreakerStore,
    HealthStore {
  /** Stops background work and closes the database; the store is unusable after. */
  close(): Promise<void>;
}
