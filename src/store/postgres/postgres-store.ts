import pg from 'pg';
import type { Logger } from 'pino';
import { StoreError } from '../../errors.js';
import { createIdFactory } from '../ids.js';
import { periodsAt } from '../periods.js';
import type { DecisionRecord } from '../roles/audit.js';
import type { Store } from '../roles/index.js';
import type { ExtensionRecord, PolicySettingKey, PolicySettings, PolicyState, StoredPolicySet, StoredSetting } from '../roles/policies.js';
import type { PolicyOverrides } from '../../policy/schema.js';
import { alerts } from './alerts.js';
import { audit } from './audit.js';
import { breaker } from './circuit-breaker.js';
import { createPool, describeError, pgError, run, transaction, withContext } from './connection.js';
import { redactUrl } from './redact-url.js';
import { createDecisionPath, lockExtensionOf } from './decision-path.js';
import { migrate } from './migrations.js';
import { policies } from './policies.js';
import { reservations } from './reservations.js';
import { pruneAudit } from './retention.js';
import { scheduleRetention } from '../retention.js';
import { tokens } from './tokens.js';
import { velocity } from './velocity.js';

export interface PostgresStoreOptions {
  /** `postgres://USER:PASSWORD@HOST:PORT/DB` (DIALGUARD_DB). */
  url: string;
  /** Bounds a decision's waits for a connection, a lock or a statement (default 200 ms): below the answer deadline. */
  lockWaitMs?: number;
  /** Added to a reservation's limit before it expires: ringing time comes before L() starts counting. */
  reservationGraceSeconds?: number;
  /** Connections this guard keeps for calls (default 10), beside 3 for the admin API. */
  poolSize?: number;
  /** A server's DIALGUARD_AUDIT_RETENTION_DAYS: older decisions are pruned in the background (0 keeps them); unset: no pruning (a command). */
  auditRetentionDays?: number;
  logger?: Logger;
}

export const DEFAULT_LOCK_WAIT_MS = 200;
const DEFAULT_RESERVATION_GRACE_SECONDS = 300;
/** Starting is not on a call's path: the first connection (and a migration another guard is running) may take a while. */
const START_TIMEOUT_MS = 10_000;
const DEFAULT_POOL_SIZE = 10;
const ADMIN_POOL_SIZE = 3;

const SETTING_KEYS = ['defaults', 'rates', 'highRisk', 'blockedPrefixes', 'site'] as const satisfies readonly PolicySettingKey[];

/**
 * The server store: every guard on one PostgreSQL shares budgets, locks, velocity counters,
 * tokens, alerts and the audit. The decision path and its locking are in decision-path.ts;
 * the admin side is here, each write one transaction that takes the policy version's row first.
 */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const where = redactUrl(options.url);
  const lockWaitMs = options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
  const starter = new pg.Client({ connectionString: options.url, connectionTimeoutMillis: START_TIMEOUT_MS, application_name: 'dialguard' });
  try {
    await starter.connect();
    await migrate(starter);
  } catch (err) {
    throw new StoreError(`cannot open database ${where}: ${describeError(err).message}`, { cause: err });
  } finally {
    await starter.end().catch(() => undefined);
  }

  const logger = options.logger ? { logger: options.logger } : {};
  // Two pools: a call's transactions wait for a connection no longer than a decision may; the
  // admin API's (an import, an export page) may wait as long as starting does.
  const size = options.poolSize ?? DEFAULT_POOL_SIZE;
  const decisionPool = createPool({ url: options.url, connectTimeoutMs: lockWaitMs, size, ...logger });
  const pool = createPool({ url: options.url, connectTimeoutMs: START_TIMEOUT_MS, size: ADMIN_POOL_SIZE, ...logger });
  // Opened now rather than by the first calls; one that cannot be opened yet is opened on use.
  const warm = await Promise.allSettled(Array.from({ length: size }, () => decisionPool.connect()));
  for (const w of warm) if (w.status === 'fulfilled') w.value.release();
  const retention = options.auditRetentionDays === undefined ? null : scheduleRetention({ days: options.auditRetentionDays, ...logger }, (run) => pruneAudit(pool, run));
  const nextId = createIdFactory();
  const decisions = createDecisionPath({
    pool: decisionPool,
    lockWaitMs,
    graceMs: (options.reservationGraceSeconds ?? DEFAULT_RESERVATION_GRACE_SECONDS) * 1000,
    nextId,
  });

  /** The role methods' one shape: a StoreError says what failed. */
  const guarded = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      throw withContext(what, err);
    }
  };
  /** A policy write: the policy version's row first, then `work`, in one transaction. */
  const policyWrite = <T>(what: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> =>
    guarded(what, () =>
      transaction(pool, async (client) => {
        await policies.lockVersion(client);
        return work(client);
      }),
    );
  const policyState = async (client: pg.PoolClient): Promise<PolicyState> => ({ set: await policies.loadSet(client), extensions: await policies.listExtensions(client) });
  const readSetting = async <K extends PolicySettingKey>(db: pg.ClientBase | pg.Pool, key: K): Promise<StoredSetting<PolicySettings[K]>> => ({
    value: ((await policies.getSetting(db, key)) ?? null) as PolicySettings[K] | null,
    version: await policies.subjectVersion(db, key),
  });

  return {
    authorizeBatch: (items) => guarded('authorizing', () => decisions.authorizeBatch(items)),
    evaluate: (request, decider) => guarded('evaluating', () => decisions.evaluate(request, decider)),
    settle: (req) => guarded('settling', () => decisions.settle(req)),

    loadPolicySet: () => guarded('loading the policy', () => policies.loadSet(pool)),
    getExtension: (ext) => guarded('reading an extension', () => policies.getExtension(pool, ext)),
    listExtensions: () => guarded('listing extensions', () => policies.listExtensions(pool)),
    readSetting: (key) => guarded('reading a setting', () => readSetting(pool, key)),
    updateExtension: (ext: string, actor: string, update: (current: ExtensionRecord | null, policy: StoredPolicySet) => PolicyOverrides | null) =>
      policyWrite('updating an extension', async (client) => {
        const current = await policies.getExtension(client, ext);
        const next = update(current, await policies.loadSet(client));
        const version = await policies.recordChange(client, actor, `extension:${ext}`, current?.overrides ?? null, next);
        if (next === null) {
          await policies.deleteExtension(client, ext);
          return null;
        }
        await policies.putExtension(client, ext, next, version);
        return policies.getExtension(client, ext);
      }),
    updateSetting: <K extends PolicySettingKey>(key: K, actor: string, update: (current: StoredSetting<PolicySettings[K]>, policy: PolicyState) => PolicySettings[K]) =>
      policyWrite('updating a setting', async (client) => {
        const current = await readSetting(client, key);
        const next = update(current, await policyState(client));
        const version = await policies.recordChange(client, actor, key, current.value, next);
        await policies.putSetting(client, key, next);
        return { value: next, version };
      }),
    importDocument: (doc, actor, check) =>
      policyWrite('importing the policy', async (client) => {
        check(await policyState(client));
        let version = await policies.version(client);
        for (const key of SETTING_KEYS) {
          const value = doc[key];
          if (value === undefined) continue;
          version = await policies.recordChange(client, actor, key, (await policies.getSetting(client, key)) ?? null, value);
          await policies.putSetting(client, key, value);
        }
        if (doc.extensions) {
          const incoming = new Map(Object.entries(doc.extensions));
          for (const old of await policies.listExtensions(client)) {
            if (!incoming.has(old.ext)) {
              version = await policies.recordChange(client, actor, `extension:${old.ext}`, old.overrides, null);
              await policies.deleteExtension(client, old.ext);
            }
          }
          for (const [ext, overrides] of incoming) {
            const before = (await policies.getExtension(client, ext))?.overrides ?? null;
            version = await policies.recordChange(client, actor, `extension:${ext}`, before, overrides);
            await policies.putExtension(client, ext, overrides, version);
          }
        }
        const extensions = doc.extensions ? Object.keys(doc.extensions).length : (await policies.listExtensions(client)).length;
        return { version, extensions, rates: doc.rates?.length ?? 0 };
      }),
    policyHistory: (subjects, page) => guarded('reading the policy history', () => policies.history(pool, subjects, page)),

    getLock: (ext) => guarded('reading a lock', () => policies.getLock(pool, ext)),
    listLocks: () => guarded('listing locks', () => policies.listLocks(pool)),
    lock: (ext, reason, actor) => policyWrite('locking', async (client) => void (await policies.putLock(client, ext, reason, actor))),
    unlock: (ext, actor) =>
      guarded('unlocking', () =>
        transaction(pool, async (client) => {
          // The extension's lock before the policy version's row, as a decision takes them: its counters are reset under it.
          await lockExtensionOf(client, ext);
          await policies.lockVersion(client);
          const before = await policies.getLock(client, ext);
          if (!before) return false;
          await policies.recordChange(client, actor, `lock:${ext}`, before, null);
          await velocity.reset(client, ext);
          await policies.deleteLock(client, ext);
          return true;
        }),
      ),

    lockTakenOver: (ext, lock, alert) =>
      guarded('locking an account taken over', () =>
        transaction(pool, async (client) => {
          // As unlocking does: the extension's lock before the policy version's row, the order a decision takes them in.
          await lockExtensionOf(client, ext);
          await policies.lockVersion(client);
          const locking = lock !== null && (await policies.getLock(client, ext)) === null;
          if (locking) await policies.putLock(client, ext, lock.reason, lock.actor);
          await alerts.raise(client, nextId(alert.at), alert, async () => ({ ...alert.details, numbers: [], decisionIds: [] }));
          return locking;
        }),
      ),

    getDecision: (id) => guarded('reading a decision', () => audit.get(pool, id)),
    listDecisions: (filter, page) => guarded('listing decisions', () => audit.list(pool, filter, page)),
    async *exportDecisions(filter) {
      const records = audit.export(pool, filter);
      for (;;) {
        let next: IteratorResult<DecisionRecord>;
        try {
          next = await records.next();
        } catch (err) {
          throw withContext('exporting decisions', err);
        }
        if (next.done) return;
        yield next.value;
      }
    },
    listSettlements: (callId) => guarded('reading settlements', () => audit.settlements(pool, callId)),
    getReservation: (id) => guarded('reading a reservation', () => reservations.get(pool, id)),

    usage: (ext, at, timezone) => guarded('reading usage', () => reservations.usage(pool, ext, periodsAt(at, timezone), at.getTime())),
    activeReservations: (at, ext) => guarded('listing active reservations', () => reservations.active(pool, at.getTime(), ext)),
    countActiveReservations: (at) => guarded('counting active reservations', () => reservations.countActive(pool, at.getTime())),

    listTokens: () => guarded('listing tokens', () => tokens.list(pool)),
    createToken: (token) => guarded('creating a token', () => tokens.create(pool, token)),
    replaceToken: (token) =>
      guarded('replacing a token', () =>
        transaction(pool, async (client) => {
          await tokens.revoke(client, token.name, token.actor);
          await tokens.create(client, token);
        }),
      ),
    revokeToken: (name, actor) => guarded('revoking a token', () => tokens.revoke(pool, name, actor)),

    listAlerts: (filter, page) => guarded('listing alerts', () => alerts.list(pool, filter, page)),
    getAlert: (id) => guarded('reading an alert', () => alerts.get(pool, id)),
    acknowledgeAlert: (id, actor, at) => guarded('acknowledging an alert', () => alerts.acknowledge(pool, id, actor, at.getTime())),
    claimDueAlerts: (now, limit, leaseMs) => guarded('claiming alerts', () => alerts.claimDue(pool, now.getTime(), limit, leaseMs)),
    recordAlertDelivery: (id, update) => guarded('recording an alert delivery', () => alerts.recordDelivery(pool, id, update)),
    nextAlertDelivery: () => guarded('reading the alert queue', () => alerts.nextDue(pool)),

    circuitBreaker: (at) => guarded('reading the circuit breaker', () => breaker.record(pool, at.getTime())),
    setCircuitBreakerLimit: (limitMicros, actor, at) =>
      guarded('setting the circuit breaker', () =>
        transaction(pool, async (client) => {
          // The breaker's row before the policy version's, as a decision takes them.
          const before = await breaker.record(client, at.getTime(), true);
          await policies.recordChange(client, actor, 'circuit-breaker', { limitMicros: before.limitMicros }, { limitMicros });
          await breaker.setLimit(client, limitMicros);
          return breaker.record(client, at.getTime());
        }),
      ),
    resetCircuitBreaker: (actor, at) =>
      guarded('resetting the circuit breaker', () =>
        transaction(pool, async (client) => {
          const before = await breaker.record(client, at.getTime(), true);
          await policies.recordChange(client, actor, 'circuit-breaker', { open: before.open, openedAt: before.openedAt, spentMicros: before.spentMicros }, { open: false, reset: true });
          await breaker.reset(client, at.getTime(), actor);
          return breaker.record(client, at.getTime());
        }),
      ),

    // On the decisions' pool, as a call would find it. A transaction id is assigned only where
    // writes are possible: a read-only standby or session refuses it.
    checkWritable: () => guarded('checking the database', async () => void (await run(decisionPool, 'SELECT txid_current()'))),

    async close() {
      await retention?.stop();
      await Promise.all([decisionPool.end(), pool.end()]).catch((err: unknown) => {
        throw pgError(err);
      });
    },
  };
}
