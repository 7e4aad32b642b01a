import type { Logger } from 'pino';
import type { DecisionRequest } from '../../domain/decision.js';
import type { UsageSnapshot } from '../../domain/usage.js';
import { WINDOW_MS } from '../../domain/windows.js';
import { StoreError } from '../../errors.js';
import { composeFraudEffects, type AlertDraft } from '../../fraud/effects.js';
import type { PolicyDocument } from '../../policy/document.js';
import type { PolicyOverrides } from '../../policy/schema.js';
import { createIdFactory } from '../ids.js';
import { periodsAt } from '../periods.js';
import { reservationOf } from '../reservation-rows.js';
import type { DecisionRecord } from '../roles/audit.js';
import type { AuditedDecision, AuthorizeItem, AuthorizeOutcome, Decider, DecisionPlan, ExtensionSnapshot, SettlementRequest, SettlementResult } from '../roles/decisions.js';
import type { Store } from '../roles/index.js';
import type { ExtensionRecord, PolicySettingKey, PolicySettings, PolicyState, StoredPolicySet, StoredSetting } from '../roles/policies.js';
import { createAlertRepository } from './alerts.js';
import { createAuditRepository } from './audit.js';
import { startCheckpointer } from './checkpointer.js';
import { createCircuitBreakerRepository } from './circuit-breaker.js';
import { createDecisionQueries } from './decision-queries.js';
import { createDecisionView, viewedUsage } from './decision-view.js';
import { createFraudEffects } from './fraud-effects.js';
import { createPolicyHistory } from './history.js';
import { openDatabase } from './open.js';
import { createPolicyRepository } from './policies.js';
import { createReservationRepository } from './reservations.js';
import { createSiteCounters } from './site-counters.js';
import { startRetention } from './retention.js';
import { createTokenRepository } from './tokens.js';
import { createVelocityRepository, type LatestAttempt } from './velocity.js';

export interface SqliteStoreOptions {
  path: string;
  /** Below the answer deadline, so a locked database turns into a guard_error answer in time. */
  busyTimeoutMs?: number;
  /** Added to a reservation's limit before it expires: ringing time comes before L() starts counting. */
  reservationGraceSeconds?: number;
  /** Checkpoint the WAL from a worker thread every this many ms (long-running servers). */
  checkpointIntervalMs?: number;
  /** Prune the audit in the background, keeping this many days (0 keeps everything); off when absent. */
  auditRetentionDays?: number;
  logger?: Logger;
  /** Fail with DG_STORE rather than create a database that is not there. */
  mustExist?: boolean;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 200;
export const DEFAULT_RESERVATION_GRACE_SECONDS = 300;

/**
 * The embedded store: one SQLite file, shared by every guard process on the host. SQLite has
 * one writer at a time, so a write transaction (BEGIN IMMEDIATE) serialises everything a
 * decision reads and writes. better-sqlite3 is synchronous: each role method does its work
 * at once and hands back a settled promise.
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  const db = openDatabase(options.path, {
    busyTimeoutMs: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    manualCheckpoints: options.checkpointIntervalMs !== undefined,
    mustExist: options.mustExist,
  });
  const checkpointer = options.checkpointIntervalMs === undefined ? null : startCheckpointer(db, options.path, options.checkpointIntervalMs, options.logger);
  const retention = options.auditRetentionDays === undefined ? null : startRetention({ path: options.path, days: options.auditRetentionDays, logger: options.logger });
  const policies = createPolicyRepository(db);
  const reservations = createReservationRepository(db);
  const audit = createAuditRepository(db);
  const graceMs = (options.reservationGraceSeconds ?? DEFAULT_RESERVATION_GRACE_SECONDS) * 1000;
  const nextId = createIdFactory();
  const velocity = createVelocityRepository(db);
  const breaker = createCircuitBreakerRepository(db);
  const alerts = createAlertRepository(db);
  const fraud = createFraudEffects(db, { policies, velocity, breaker, alerts, nextId });
  const history = createPolicyHistory(db);
  const decisions = createDecisionQueries(db, audit.get, reservations.get);
  const tokens = createTokenRepository(db);
  const site = createSiteCounters(db);

  const view = createDecisionView(db);

  // The policy set is read again only when its version changed: every policy write bumps it.
  let policySet: StoredPolicySet | null = null;
  const policyAt = (version: number): StoredPolicySet => {
    if (policySet?.version !== version) policySet = policies.loadSet();
    return policySet;
  };

  /** Steps 2 and 3 of a dry run, read from the database as it is at `request.at`. */
  const evaluateOne = (request: DecisionRequest, decider: Decider) => {
    const snapshot: ExtensionSnapshot = { policy: policyAt(policies.version()), extension: policies.getExtension(request.extension), lock: policies.getLock(request.extension) };
    const plan = decider.plan(snapshot);
    const usage = reservations.usage(request.extension, periodsAt(request.at, plan.timezone), request.at.getTime());
    return plan.decide(readFraud(request, plan, usage)).decision;
  };

  const readFraud = (request: DecisionRequest, plan: DecisionPlan, usage: UsageSnapshot, latest?: LatestAttempt): UsageSnapshot => {
    if (plan.fraud) {
      const counters = fraud.counters(request.extension, request.at.getTime(), plan.fraud, latest);
      usage.velocity = counters.velocity;
      if (counters.breaker) usage.breaker = counters.breaker;
      if (plan.fraud.site) usage.site = site.read(request.extension, request.at.getTime(), plan.fraud.site);
    }
    return usage;
  };

  /**
   * Steps 1 to 5 in the batch's transaction. The extension's entry, lock, budget totals and slots
   * come from the view when this process holds them (see decision-view.ts), else from the
   * database, and the view is kept to what this decision writes.
   */
  const authorizeOne = (request: DecisionRequest, decider: Decider): AuditedDecision => {
    // The request's time is the clock: in service it is the moment the call arrived.
    const at = request.at.getTime();
    const ext = request.extension;
    const entry = view.entry(ext);
    if (entry.active === undefined || at >= entry.active.nextExpiry) {
      reservations.expireDue(ext, at);
      entry.active = { calls: reservations.activeCalls(ext), nextExpiry: reservations.nextExpiry(ext) };
    }
    // Numbers leave the hour only once the oldest one kept does.
    if (entry.oldestNumber === undefined || entry.oldestNumber <= at - WINDOW_MS.distinctDestinationsPerHour) entry.oldestNumber = velocity.expire(ext, at);
    if (entry.extension === undefined) entry.extension = policies.getExtension(ext);
    if (entry.lock === undefined) entry.lock = policies.getLock(ext);
    const plan = decider.plan({ policy: policyAt(view.policyVersion(policies.version)), extension: entry.extension, lock: entry.lock });
    const periods = periodsAt(request.at, plan.timezone);
    if (entry.totals?.day !== periods.day || entry.totals.month !== periods.month) entry.totals = reservations.totals(ext, periods);
    const usage = readFraud(request, plan, viewedUsage(entry.totals, entry.active), entry.latestAttempt);
    const verdict = plan.decide(usage);
    const audited: AuditedDecision = { ...verdict.decision, callId: nextId(at) };
    const reservation = reservationOf(request, audited, plan.timezone, graceMs);
    if (reservation) {
      reservations.reserve(reservation);
      const { grant, expiresAt } = reservation;
      entry.active = { calls: entry.active.calls + 1, nextExpiry: Math.min(entry.active.nextExpiry, expiresAt) };
      entry.totals = {
        ...entry.totals,
        spentToday: entry.totals.spentToday + grant.costMicros,
        secondsToday: entry.totals.secondsToday + grant.seconds,
        spentMonth: entry.totals.spentMonth + grant.costMicros,
      };
    }
    audit.insert(request, audited, verdict.latencyUs);
    const effects = composeFraudEffects(request, audited, audited.callId);
    if (effects) {
      const recorded = fraud.apply(ext, at, effects, entry.latestAttempt);
      entry.latestAttempt = recorded.latest;
      if (effects.attempt?.placed) entry.oldestNumber = Math.min(entry.oldestNumber, at);
      view.pruned(recorded.pruned);
      // A lock is a policy change: the version moved and the lock is read again.
      if (effects.lock) {
        view.forget(ext);
        view.policyChanged();
      }
    }
    return audited;
  };
  // A batch first runs without savepoints (one per item cost 4% of a decision's CPU): an item
  // that throws rolls the whole transaction back, and the batch runs again with each item in a
  // savepoint, so that one which throws leaves no half-written rows and fails alone (its
  // extension's view forgotten: it may hold what the savepoint rolled back). The decider's
  // steps are pure, so running them again decides the same.
  const itemTx = db.transaction(authorizeOne);
  let itemThrew = false;
  const batchTx = db.transaction((items: ReadonlyArray<AuthorizeItem>, savepoints: boolean): AuthorizeOutcome[] => {
    view.begin();
    return items.map(({ request, decider }) => {
      if (!savepoints) {
        try {
          return { ok: true, decision: authorizeOne(request, decider) };
        } catch (error) {
          itemThrew = true;
          throw error;
        }
      }
      try {
        return { ok: true, decision: itemTx(request, decider) };
      } catch (error) {
        view.forget(request.extension);
        return { ok: false, error };
      }
    });
  });
  /** A batch whose transaction failed wrote nothing: the view may hold what it rolled back. */
  const authorizeBatch = (items: ReadonlyArray<AuthorizeItem>): AuthorizeOutcome[] => {
    itemThrew = false;
    try {
      try {
        return batchTx.immediate(items, false);
      } catch (err) {
        if (!itemThrew) throw err;
        view.clear();
        return batchTx.immediate(items, true);
      }
    } catch (err) {
      view.clear();
      throw err;
    }
  };
  /** A settlement changes its extension's totals and slots, nothing else the view holds. */
  const settle = (req: SettlementRequest): SettlementResult => {
    let result: SettlementResult;
    try {
      result = settleTx.immediate(req);
    } catch (err) {
      view.clear();
      throw err;
    }
    if (result.ext !== null) view.forget(result.ext);
    return result;
  };
  /** Writes other than a decision's change what the view holds: it starts again from the database. */
  const forgetting = <T>(fn: () => T): T => {
    try {
      return fn();
    } finally {
      view.clear();
    }
  };

  // A read transaction: nothing is written, so dry runs never wait for or hold the write lock.
  const evaluateTx = db.transaction(evaluateOne);

  const policyState = (): PolicyState => ({ set: policies.loadSet(), extensions: policies.listExtensions() });

  const importTx = db.transaction((doc: PolicyDocument, actor: string, check: (policy: PolicyState) => void) => {
    check(policyState());
    let version = policies.version();
    const replaceSetting = (key: PolicySettingKey, value: unknown) => {
      if (value === undefined) return;
      version = policies.recordChange(actor, key, policies.getSetting(key) ?? null, value);
      policies.putSetting(key, value);
    };
    replaceSetting('defaults', doc.defaults);
    replaceSetting('rates', doc.rates);
    replaceSetting('highRisk', doc.highRisk);
    replaceSetting('blockedPrefixes', doc.blockedPrefixes);
    replaceSetting('site', doc.site);
    if (doc.extensions) {
      const incoming = new Map(Object.entries(doc.extensions));
      for (const old of policies.listExtensions()) {
        if (!incoming.has(old.ext)) {
          version = policies.recordChange(actor, `extension:${old.ext}`, old.overrides, null);
          policies.deleteExtension(old.ext);
        }
      }
      for (const [ext, overrides] of incoming) {
        const before = policies.getExtension(ext)?.overrides ?? null;
        version = policies.recordChange(actor, `extension:${ext}`, before, overrides);
        policies.putExtension(ext, overrides, version);
      }
    }
    return { version, extensions: doc.extensions ? Object.keys(doc.extensions).length : policies.listExtensions().length, rates: doc.rates?.length ?? 0 };
  });

  const lockTx = db.transaction((ext: string, reason: string, actor: string) => {
    policies.recordChange(actor, `lock:${ext}`, policies.getLock(ext), { reason });
    policies.putLock(ext, reason, actor);
  });
  const takeoverTx = db.transaction((ext: string, lock: { reason: string; actor: string } | null, alert: AlertDraft): boolean => {
    const locking = lock !== null && policies.getLock(ext) === null;
    if (locking) {
      policies.recordChange(lock.actor, `lock:${ext}`, null, { reason: lock.reason });
      policies.putLock(ext, lock.reason, lock.actor);
    }
    alerts.raise(nextId(alert.at), alert, () => ({ ...alert.details, numbers: [], decisionIds: [] }));
    return locking;
  });
  const unlockTx = db.transaction((ext: string, actor: string) => {
    const before = policies.getLock(ext);
    if (!before) return false;
    policies.recordChange(actor, `lock:${ext}`, before, null);
    velocity.reset(ext);
    return policies.deleteLock(ext);
  });

  const settleTx = db.transaction((req: SettlementRequest) => {
    const result = reservations.settle(req);
    fraud.settled(result);
    return result;
  });

  const ackTx = db.transaction((id: string, actor: string, at: number) => alerts.acknowledge(id, actor, at));
  const claimTx = db.transaction((now: number, limit: number, leaseMs: number) => alerts.claimDue(now, limit, leaseMs));
  const breakerLimitTx = db.transaction((limitMicros: number | null, actor: string, at: number) => {
    const before = breaker.record(at);
    policies.recordChange(actor, 'circuit-breaker', { limitMicros: before.limitMicros }, { limitMicros });
    breaker.setLimit(limitMicros);
    return breaker.record(at);
  });
  const breakerResetTx = db.transaction((actor: string, at: number) => {
    const before = breaker.record(at);
    policies.recordChange(actor, 'circuit-breaker', { open: before.open, openedAt: before.openedAt, spentMicros: before.spentMicros }, { open: false, reset: true });
    breaker.reset(at, actor);
    return breaker.record(at);
  });

  const updateExtensionTx = db.transaction(
    (ext: string, actor: string, update: (current: ExtensionRecord | null, policy: StoredPolicySet) => PolicyOverrides | null): ExtensionRecord | null => {
      const current = policies.getExtension(ext);
      const next = update(current, policies.loadSet());
      const version = policies.recordChange(actor, `extension:${ext}`, current?.overrides ?? null, next);
      if (next === null) {
        policies.deleteExtension(ext);
        return null;
      }
      policies.putExtension(ext, next, version);
      return policies.getExtension(ext);
    },
  );

  const readSetting = <K extends PolicySettingKey>(key: K): StoredSetting<PolicySettings[K]> => ({
    value: (policies.getSetting(key) ?? null) as PolicySettings[K] | null,
    version: history.subjectVersion(key),
  });

  // Untyped inside: db.transaction() drops the key's generic, the role method restores it.
  const updateSettingTx = db.transaction(
    (key: PolicySettingKey, actor: string, update: (current: StoredSetting<unknown>, policy: PolicyState) => unknown): StoredSetting<unknown> => {
      const current = readSetting(key);
      const next = update(current, policyState());
      const version = policies.recordChange(actor, key, current.value, next);
      policies.putSetting(key, next);
      return { value: next, version };
    },
  );

  // A committed write of one row: an empty transaction writes nothing, so it succeeds on a full
  // disk. The row spans more than a file system block of WAL frames: a frame of a 2 KB page can
  // land in the slack of the WAL's last allocated block, and a full disk would go unnoticed.
  const probe = db.prepare<[string]>(`INSERT INTO meta (key, value) VALUES ('readiness_probe', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`);
  const PROBE_PADDING = ' '.repeat(8192);
  const writableTx = db.transaction((): void => {
    probe.run(new Date().toISOString() + PROBE_PADDING);
  });

  const storeError = (what: string, err: unknown): unknown => {
    if (err instanceof StoreError) return err;
    const code = (err as { code?: string }).code ?? '';
    return code.startsWith('SQLITE_') ? new StoreError(`${what} failed: ${code} ${(err as Error).message}`, { cause: err }) : err;
  };
  /** The role methods' one shape: the synchronous work done now, its result or error as a settled promise. */
  const run = <T>(what: string, fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(storeError(what, err));
    }
  };

  return {
    authorizeBatch: (items) => run('authorizing', () => authorizeBatch(items)),
    evaluate: (request, decider) => run('evaluating', () => evaluateTx.deferred(request, decider)),
    settle: (req) => run('settling', () => settle(req)),

    loadPolicySet: () => run('loading the policy', policies.loadSet),
    getExtension: (ext) => run('reading an extension', () => policies.getExtension(ext)),
    listExtensions: () => run('listing extensions', policies.listExtensions),
    readSetting: (key) => run('reading a setting', () => readSetting(key)),
    updateExtension: (ext, actor, update) => run('updating an extension', () => forgetting(() => updateExtensionTx.immediate(ext, actor, update))),
    updateSetting: <K extends PolicySettingKey>(key: K, actor: string, update: (current: StoredSetting<PolicySettings[K]>, policy: PolicyState) => PolicySettings[K]) =>
      run('updating a setting', () => forgetting(() => updateSettingTx.immediate(key, actor, update as (current: StoredSetting<unknown>, policy: PolicyState) => unknown)) as StoredSetting<PolicySettings[K]>),
    importDocument: (doc, actor, check) => run('importing the policy', () => forgetting(() => importTx.immediate(doc, actor, check))),
    policyHistory: (subjects, page) => run('reading the policy history', () => history.page(subjects, page)),

    getLock: (ext) => run('reading a lock', () => policies.getLock(ext)),
    listLocks: () => run('listing locks', history.locks),
    lock: (ext, reason, actor) => run('locking', () => forgetting(() => lockTx.immediate(ext, reason, actor))),
    unlock: (ext, actor) => run('unlocking', () => forgetting(() => unlockTx.immediate(ext, actor))),
    lockTakenOver: (ext, lock, alert) => run('locking an account taken over', () => forgetting(() => takeoverTx.immediate(ext, lock, alert))),

    getDecision: (id) => run('reading a decision', () => audit.get(id)),
    listDecisions: (filter, page) => run('listing decisions', () => decisions.list(filter, page)),
    async *exportDecisions(filter) {
      const records = decisions.export(filter);
      for (;;) {
        let next: IteratorResult<DecisionRecord>;
        try {
          next = records.next();
        } catch (err) {
          throw storeError('exporting decisions', err);
        }
        if (next.done) return;
        yield next.value;
      }
    },
    listSettlements: (callId) => run('reading settlements', () => decisions.settlements(callId)),
    getReservation: (id) => run('reading a reservation', () => reservations.get(id)),

    usage: (ext, at, timezone) => run('reading usage', () => reservations.usage(ext, periodsAt(at, timezone), at.getTime())),
    activeReservations: (at, ext) => run('listing active reservations', () => decisions.activeReservations(at, ext)),
    countActiveReservations: (at) => run('counting active reservations', () => decisions.countActive(at)),

    listTokens: () => run('listing tokens', tokens.list),
    createToken: (token) => run('creating a token', () => tokens.create(token)),
    replaceToken: (token) => run('replacing a token', () => tokens.replace.immediate(token)),
    revokeToken: (name, actor) => run('revoking a token', () => tokens.revoke(name, actor)),

    listAlerts: (filter, page) => run('listing alerts', () => alerts.list(filter, page)),
    getAlert: (id) => run('reading an alert', () => alerts.get(id)),
    acknowledgeAlert: (id, actor, at) => run('acknowledging an alert', () => ackTx.immediate(id, actor, at.getTime())),
    claimDueAlerts: (now, limit, leaseMs) => run('claiming alerts', () => claimTx.immediate(now.getTime(), limit, leaseMs)),
    recordAlertDelivery: (id, update) => run('recording an alert delivery', () => alerts.recordDelivery(id, update)),
    nextAlertDelivery: () => run('reading the alert queue', alerts.nextDue),

    circuitBreaker: (at) => run('reading the circuit breaker', () => breaker.record(at.getTime())),
    setCircuitBreakerLimit: (limitMicros, actor, at) => run('setting the circuit breaker', () => forgetting(() => breakerLimitTx.immediate(limitMicros, actor, at.getTime()))),
    resetCircuitBreaker: (actor, at) => run('resetting the circuit breaker', () => forgetting(() => breakerResetTx.immediate(actor, at.getTime()))),

    checkWritable: () => run('checking the database', () => writableTx.immediate()),

    async close() {
      await retention?.stop();
      await checkpointer?.stop();
      db.close();
    },
  };
}
