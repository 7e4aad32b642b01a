import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SecurityEventKind } from './domain/security.js';
import type { CircuitBreakerStore } from './store/roles/circuit-breaker.js';
import type { UsageStore } from './store/roles/usage.js';

/** Shadow-mode decisions also say what enforce mode would have done. */
export interface ObservedDecision {
  result: string;
  reason: string;
  wouldDeny?: boolean;
  wouldReason?: string;
  /** Present when the decision was stored: the live dashboard looks it up by this id. */
  callId?: string;
}

/** Where `serve` reads security events: AMI, or the `security` log file it follows. */
export type SecurityEventSource = 'ami' | 'file';

/** Told the id of each stored decision as the transports report it; returns the unsubscribe. */
export type DecisionListener = (callId: string) => void;

/** What the transports and the admin API report; `registry` is what GET /metrics serves. */
export interface Metrics {
  readonly registry: Registry;
  observeDecision(decision: ObservedDecision, transport: string, latencySeconds: number): void;
  observeSettlement(outcome: string): void;
  observeError(code: string): void;
  observeGuardError(transport: 'agi' | 'ari', code: string): void;
  /** Exports dialguard_ari_connected (1 or 0), read at scrape time: called once, when ARI is configured. */
  watchAriConnection(isConnected: () => boolean): void;
  /** Exports dialguard_ami_connected (1 or 0), read at scrape time: called once, when AMI is configured. */
  watchAmiConnection(isConnected: () => boolean): void;
  /** A source of security events was configured: its series start at 0. */
  watchSecuritySource(source: SecurityEventSource): void;
  /** One security event consumed (handed to the reputation tracker), by source and kind. */
  observeSecurityEvent(source: SecurityEventSource, kind: SecurityEventKind): void;
  /** One block or line of a security source that was dropped: not understood, or too large. */
  observeSecurityEventUnparsed(source: SecurityEventSource): void;
  /** An account locked because it authenticated from a suspicious source (src/intrusion). */
  observeTakeoverLock(): void;
  /** Exports dialguard_sources_flagged, read at scrape time: called once, with the tracker's suspicious list. */
  watchSources(flagged: () => Promise<number>): void;
  /** Decisions of this process as they happen (GET /api/v1/decisions/stream). */
  onDecision(listener: DecisionListener): () => void;
}

/** Decisions take well under a millisecond to a few; the top buckets show lock waits and the answer deadline. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/**
 * One registry per guard (not prom-client's global one), so that tests and several apps in one
 * process never share counters. Active reservations are counted in the store at scrape time:
 * the store is the truth, whichever guard process placed the call.
 */
export function createMetrics(store: Pick<UsageStore, 'countActiveReservations'> & Pick<CircuitBreakerStore, 'circuitBreaker'>): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const decisions = new Counter({
    name: 'dialguard_decisions_total',
    help: 'Call authorisations by result and reason code',
    labelNames: ['result', 'reason', 'transport'] as const,
    registers: [registry],
  });
  const shadowDenials = new Counter({
    name: 'dialguard_shadow_denials_total',
    help: 'Calls allowed in shadow mode that enforce mode would have denied, by the reason it would have given',
    labelNames: ['reason', 'transport'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'dialguard_decision_latency_seconds',
    help: 'Time from a request to its decision',
    labelNames: ['transport'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const settlements = new Counter({
    name: 'dialguard_settlements_total',
    help: 'Settlements by outcome (settled, settled_after_expiry, duplicate, unknown, no_reservation)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'dialguard_errors_total',
    help: 'Errors by stable error code',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const guardErrors = new Counter({
    name: 'dialguard_guard_errors_total',
    help: 'Calls answered DENY guard_error: the guard failed (database locked or full, answer deadline, a bug), not the policy',
    labelNames: ['transport'] as const,
    registers: [registry],
  });
  // Exported at 0 from the start: Prometheus sees no increase in a series whose first sample is already 1.
  for (const transport of ['agi', 'ari']) guardErrors.inc({ transport }, 0);
  new Gauge({
    name: 'dialguard_active_reservations',
    help: 'Calls holding a reservation (a concurrency slot and budget) now',
    registers: [registry],
    async collect() {
      this.set(await store.countActiveReservations(new Date()));
    },
  });

  new Gauge({
    name: 'dialguard_circuit_breaker_open',
    help: '1 while the site circuit breaker stops international calls, else 0',
    registers: [registry],
    async collect() {
      this.set((await store.circuitBreaker(new Date())).open ? 1 : 0);
    },
  });

  const securityEvents = new Counter({
    name: 'dialguard_security_events_total',
    help: 'Asterisk security events consumed, by source (ami, file) and kind (invalid_account, failed_auth, successful_auth, challenge_sent, other)',
    labelNames: ['source', 'kind'] as const,
    registers: [registry],
  });
  const securityUnparsed = new Counter({
    name: 'dialguard_security_events_unparsed_total',
    help: 'AMI blocks or security log lines dropped: not understood, or over the size limit',
    labelNames: ['source'] as const,
    registers: [registry],
  });
  const takeoverLocks = new Counter({
    name: 'dialguard_takeover_locks_total',
    help: 'Accounts locked because they authenticated from a source with a brute-force history or from a new country',
    registers: [registry],
  });

  const listeners = new Set<DecisionListener>();

  return {
    registry,
    observeDecision({ result, reason, wouldDeny, wouldReason, callId }, transport, latencySeconds) {
      decisions.inc({ result, reason, transport });
      if (wouldDeny) shadowDenials.inc({ reason: wouldReason ?? 'unknown', transport });
      latency.observe({ transport }, latencySeconds);
      if (callId) for (const listener of listeners) listener(callId);
    },
    observeSettlement: (outcome) => settlements.inc({ outcome }),
    observeError: (code) => errors.inc({ code }),
    observeGuardError(transport, code) {
      guardErrors.inc({ transport });
      errors.inc({ code });
    },
    watchAriConnection(isConnected) {
      new Gauge({
        name: 'dialguard_ari_connected',
        help: '1 while the ARI events websocket is open, else 0; absent when ARI is not configured',
        registers: [registry],
        collect() {
          this.set(isConnected() ? 1 : 0);
        },
      });
    },
    watchAmiConnection(isConnected) {
      new Gauge({
        name: 'dialguard_ami_connected',
        help: '1 while logged in to AMI for security events, else 0; absent when AMI is not configured',
        registers: [registry],
        collect() {
          this.set(isConnected() ? 1 : 0);
        },
      });
    },
    watchSecuritySource(source) {
      securityUnparsed.inc({ source }, 0);
      for (const kind of ['invalid_account', 'failed_auth', 'successful_auth'] as const) securityEvents.inc({ source, kind }, 0);
    },
    observeSecurityEvent: (source, kind) => securityEvents.inc({ source, kind }),
    observeSecurityEventUnparsed: (source) => securityUnparsed.inc({ source }),
    observeTakeoverLock: () => takeoverLocks.inc(),
    watchSources(flagged) {
      new Gauge({
        name: 'dialguard_sources_flagged',
        help: 'Addresses and ranges on the suspicious-source list now (GET /api/v1/sources/suspicious)',
        registers: [registry],
        async collect() {
          this.set(await flagged());
        },
      });
    },
    onDecision(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
