import type { Logger } from 'pino';
import { createIdFactory } from '../ids.js';
import { startCheckpointer } from './checkpointer.js';
import { StoreError } from '../../errors.js';
import type { PolicyDocument } from '../../policy/document.js';
import { periodsAt } from '../periods.js';
import type { DecisionRequest } from '../../engine/types.js';
import type { AuditedDecision, AuthorizeItem, AuthorizeOutcome, AuthorizeTx, ExtensionRecord, PolicySettingKey, PolicySettings, SettlementRequest, StoredSetting, Store, Verdict } from '../store.js';
import type { PolicyOverrides } from '../../policy/schema.js';
import { createAlertRepository } from './alerts.js';
import { createAuditRepository } from './audit.js';
import { createCircuitBreakerRepository } from './circuit-breaker.js';
import { createDecisionQueries } from './decision-queries.js';
import { createFraudEffects } from './fraud-effects.js';
import { createPolicyHistory } from './history.js';
import { createTokenRepository } from './tokens.js';
import { openDatabase } from './open.js';
import { createPolicyRepository } from './policies.js';
import { createReservationRepository } from './reservations.js';
import { createVelocityRepository } from './velocity.js';

export interface SqliteStoreOptions {
  path: string;
  /** Below the answer deadline, so a locked database turns into a guard_error answer in time. */
  busyTimeoutMs?: number;
  /** Added to a reservation's limit before it expires: ringing time comes before L() starts counting. */
  reservationGraceSeconds?: number;
  /** Checkpoint the WAL from a worker thread every this many ms (long-running servers). */
  checkpointIntervalMs?: number;
  logger?: Logger;
  /** Fail with DG_STORE rather than create a database that is not there. */
  mustExist?: boolean;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 200;
export const DEFAULT_RESERVATION_GRACE_SECONDS = 300;

export function createSqliteStore(options: SqliteStoreOptions): Store {
  const db = openDatabase(options.path, {
    busyTimeoutMs: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    manualCheckpoints: options.checkpointIntervalMs !== undefined,
    mustExist: options.mustExist,
  });
  const checkpointer = options.checkpointIntervalMs === undefined ? null : startCheckpointer(db, options.path, options.checkpointIntervalMs, options.logger);
  const policies = createPolicyRepository(db);
  const reservations = createReservationRepository(db);
  const audit = createAuditRepository(db);
  const graceMs = (options.reservationGraceSeconds ?? DEFAULT_RESERVATION_GRACE_SECONDS) * 1000;
  const nextId = createIdFactory();
  const velocity = createVelocityRepository(db);
  const breaker = createCircuitBreakerRepository(db);
  const alerts = createAlertRepository(db);
  const fraud = createFraudEffects(db, { policies, velocity, breaker, alerts, nextId });

  const txFor = (request: DecisionRequest): AuthorizeTx => ({
    version: policies.version(),
    extension: policies.getExtension(request.extension),
    lock: policies.getLock(request.extension),
    loadPolicySet: policies.loadSet,
    usage: (timezone) => reservations.usage(request.extension, periodsAt(request.at, timezone), request.at.getTime()),
    fraudCounters: (query) => fraud.counters(request.extension, request.at.getTime(), query),
  });

  const authorizeOne = (request: DecisionRequest, decide: (tx: AuthorizeTx) => Verdict): AuditedDecision => {
    // The request's time is the clock: in service it is the moment the call arrived.
    reservations.expireDue(request.extension, request.at.getTime());
    const { decision, latencyUs, timezone } = decide(txFor(request));
    const audited = { ...decision, callId: nextId(request.at.getTime()) };
    if (audited.result === 'ALLOW' && audited.grant && audited.e164) {
      const createdAt = request.at.getTime();
      reservations.reserve({
        callId: audited.callId,
        ext: request.extension,
        e164: audited.e164,
        rate: audited.grant.rate,
        grant: audited.grant,
        periods: periodsAt(request.at, timezone),
        createdAt,
        expiresAt: createdAt + audited.grant.seconds * 1000 + graceMs,
      });
    }
    audit.insert(request, audited, latencyUs);
    fraud.apply(request, audited);
    return audited;
  };
  const authorizeTx = db.transaction(authorizeOne);
  // Inside the batch each item runs in a savepoint: one that throws leaves no half-written rows.
  const itemTx = db.transaction(authorizeOne);
  const batchTx = db.transaction((items: ReadonlyArray<AuthorizeItem>): AuthorizeOutcome[] =>
    items.map(({ request, decide }) => {
      try {
        return { ok: true, decision: itemTx(request, decide) };
      } catch (error) {
        return { ok: false, error };
      }
    }),
  );

  const evaluateTx = db.transaction((request: DecisionRequest, decide: (tx: AuthorizeTx) => Verdict) => decide(txFor(request)).decision);

  const importTx = db.transaction((doc: PolicyDocument, actor: string) => {
    let version = policies.version();
    const replaceSetting = <K extends 'defaults' | 'rates' | 'highRisk' | 'blockedPrefixes' | 'site'>(key: K, value: unknown) => {
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

  const history = createPolicyHistory(db);
  const decisions = createDecisionQueries(db, audit.get, reservations.get);
  const tokens = createTokenRepository(db);

  const updateExtensionTx = db.transaction(
    (ext: string, actor: string, update: (current: ExtensionRecord | null) => PolicyOverrides | null): ExtensionRecord | null => {
      const current = policies.getExtension(ext);
      const next = update(current);
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

  // Untyped inside: db.transaction() drops the key's generic, the Store method restores it.
  const updateSettingTx = db.transaction(
    (key: PolicySettingKey, actor: string, update: (current: StoredSetting<unknown>) => unknown): StoredSetting<unknown> => {
      const current = readSetting(key);
      const next = update(current);
      const version = policies.recordChange(actor, key, current.value, next);
      policies.putSetting(key, next);
      return { value: next, version };
    },
  );
  const updateSetting = <K extends PolicySettingKey>(
    key: K,
    actor: string,
    update: (current: StoredSetting<PolicySettings[K]>) => PolicySettings[K],
  ): StoredSetting<PolicySettings[K]> =>
    updateSettingTx.immediate(key, actor, update as (current: StoredSetting<unknown>) => unknown) as StoredSetting<PolicySettings[K]>;

  // A committed write of one row: an empty transaction writes nothing, so it succeeds on a full disk.
  const probe = db.prepare<[string]>(`INSERT INTO meta (key, value) VALUES ('readiness_probe', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`);
  const writableTx = db.transaction(() => probe.run(new Date().toISOString()));

  const guarded = <T>(what: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof StoreError) throw err;
      const code = (err as { code?: string }).code ?? '';
      if (code.startsWith('SQLITE_')) throw new StoreError(`${what} failed: ${code} ${(err as Error).message}`, { cause: err });
      throw err;
    }
  };

  return {
    location: options.path,
    policyVersion: () => guarded('reading the policy version', policies.version),
    loadPolicySet: () => guarded('loading the policy', policies.loadSet),
    getExtension: (ext) => guarded('reading an extension', () => policies.getExtension(ext)),
    listExtensions: () => guarded('listing extensions', policies.listExtensions),
    importDocument: (doc, actor) => guarded('importing the policy', () => importTx.immediate(doc, actor)),
    lock: (ext, reason, actor) => guarded('locking', () => lockTx.immediate(ext, reason, actor)),
    unlock: (ext, actor) => guarded('unlocking', () => unlockTx.immediate(ext, actor)),
    authorize: (request, decide) => guarded('authorizing', () => authorizeTx.immediate(request, decide)),
    authorizeBatch: (items) => guarded('authorizing', () => batchTx.immediate(items)),
    evaluate: (request, decide) => guarded('evaluating', () => evaluateTx.deferred(request, decide)),
    settle: (req) => guarded('settling', () => settleTx.immediate(req)),
    getDecision: (id) => guarded('reading a decision', () => audit.get(id)),
    getReservation: (id) => guarded('reading a reservation', () => reservations.get(id)),
    usage: (ext, at, timezone) => guarded('reading usage', () => reservations.usage(ext, periodsAt(at, timezone), at.getTime())),
    async close() {
      await checkpointer?.stop();
      db.close();
    },

    updateExtension: (ext, actor, update) => guarded('updating an extension', () => updateExtensionTx.immediate(ext, actor, update)),
    readSetting: (key) => guarded('reading a setting', () => readSetting(key)),
    updateSetting: (key, actor, update) => guarded('updating a setting', () => updateSetting(key, actor, update)),
    getLock: (ext) => guarded('reading a lock', () => policies.getLock(ext)),
    listLocks: () => guarded('listing locks', history.locks),
    policyHistory: (subjects, page) => guarded('reading the policy history', () => history.page(subjects, page)),
    listDecisions: (filter, page) => guarded('listing decisions', () => decisions.list(filter, page)),
    exportDecisions: (filter) => decisions.export(filter),
    listSettlements: (callId) => guarded('reading settlements', () => decisions.settlements(callId)),
    activeReservations: (at, ext) => guarded('listing active reservations', () => decisions.activeReservations(at, ext)),
    countActiveReservations: (at) => guarded('counting active reservations', () => decisions.countActive(at)),
    checkWritable: () => guarded('checking the database', () => writableTx.immediate()),
    listTokens: () => guarded('listing tokens', tokens.list),
    createToken: (token) => guarded('creating a token', () => tokens.create(token)),
    replaceToken: (token) => guarded('replacing a token', () => tokens.replace.immediate(token)),
    revokeToken: (name, actor) => guarded('revoking a token', () => tokens.revoke(name, actor)),

    listAlerts: (filter, page) => guarded('listing alerts', () => alerts.list(filter, page)),
    getAlert: (id) => guarded('reading an alert', () => alerts.get(id)),
    acknowledgeAlert: (id, actor, at) => guarded('acknowledging an alert', () => ackTx.immediate(id, actor, at.getTime())),
    claimDueAlerts: (now, limit, leaseMs) => guarded('claiming alerts', () => claimTx.immediate(now.getTime(), limit, leaseMs)),
    recordAlertDelivery: (id, update) => guarded('recording an alert delivery', () => alerts.recordDelivery(id, update)),
    nextAlertDelivery: () => guarded('reading the alert queue', alerts.nextDue),
    circuitBreaker: (at) => guarded('reading the circuit breaker', () => breaker.record(at.getTime())),
    setCircuitBreakerLimit: (limitMicros, actor, at) => guarded('setting the circuit breaker', () => breakerLimitTx.immediate(limitMicros, actor, at.getTime())),
    resetCircuitBreaker: (actor, at) => guarded('resetting the circuit breaker', () => breakerResetTx.immediate(actor, at.getTime())),
  };
}
