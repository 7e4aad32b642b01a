import type pg from 'pg';
import type { Decision, DecisionRequest } from '../../domain/decision.js';
import { StoreError } from '../../errors.js';
import { composeFraudEffects } from '../../fraud/effects.js';
import { periodsAt } from '../periods.js';
import { reservationOf } from '../reservation-rows.js';
import type { AuditedDecision, AuthorizeItem, AuthorizeOutcome, Decider, DecisionStore, ExtensionSnapshot, SettlementRequest, SettlementResult } from '../roles/decisions.js';
import type { StoredPolicySet } from '../roles/policies.js';
import type { LockRecord } from '../roles/locks.js';
import type { PolicyOverrides } from '../../policy/schema.js';
import { audit } from './audit.js';
import { breaker } from './circuit-breaker.js';
import { deferred, run, statement, transaction, type Db, type Defer } from './connection.js';
import { applyFraudEffects, takeBreaker, type DecisionLocks } from './fraud-effects.js';
import { policies } from './policies.js';
import { DESTINATION_LOCKS, EXTENSION_LOCKS, SOURCE_LOCKS, extensionKey, siteLockKeys } from './lock-keys.js';
import { reservations } from './reservations.js';
import { siteCounters } from './site-counters.js';
import { velocity } from './velocity.js';

export { extensionKey } from './lock-keys.js';

const lockExtension = statement('dg_lock_extension', `SELECT pg_advisory_xact_lock(${EXTENSION_LOCKS}, $1)`);

/** Takes one extension's lock in a transaction: what settling and unlocking change, decisions of that extension read. */
export async function lockExtensionOf(db: Db, ext: string): Promise<void> {
  await run(db, lockExtension, [extensionKey(ext)]);
}

interface SnapshotRow {
  version: number;
  overrides: PolicyOverrides | null;
  ext_version: number | null;
  updated_at: number | null;
  reason: string | null;
  actor: string | null;
  lock_at: number | null;
}

const SNAPSHOT = `SELECT (SELECT value FROM meta WHERE key = 'policy_version') AS version,
    e.overrides, e.version AS ext_version, e.updated_at, l.reason, l.actor, l.at AS lock_at
  FROM (SELECT 1) one LEFT JOIN extensions e ON e.ext = $1 LEFT JOIN locks l ON l.ext = $1`;

const S = {
  snapshot: statement('dg_snapshot', SNAPSHOT),
  // Step 1 and the reads of step 2 in one round trip: the overdue reservations leave the active count (read by the next statement).
  expireAndSnapshot: statement(
    'dg_expire_snapshot',
    `WITH expired AS (
       UPDATE reservations SET status = 'expired' WHERE ext = $1 AND status = 'active' AND expires_at <= $2 RETURNING 1
     ), freed AS (
       UPDATE active_calls SET active = active - (SELECT count(*) FROM expired) WHERE ext = $1 AND EXISTS (SELECT 1 FROM expired)
     )
     ${SNAPSHOT}`,
  ),
};

export interface DecisionPathOptions {
  pool: pg.Pool;
  /** Bounds every wait and statement of a decision or a settlement (see PoolOptions.lockWaitMs). */
  lockWaitMs: number;
  graceMs: number;
  nextId: (ms: number) => string;
}

/**
 * The decision path on PostgreSQL. Several guards decide at once, each with a pool of
 * connections, so what SQLite's single writer gives for free is taken explicitly, in one order
 * for everyone (no guard ever waits on another in a circle):
 *
 * 1. the transaction-scoped advisory locks of the batch's extensions, all taken with BEGIN in
 *    ascending key order: decisions, settlements and unlocks of one extension take turns, so
 *    its totals, active calls and velocity counters read are the ones written until the commit;
 *    then, the same way, the locks of the batch's source addresses and destinations
 *    (lock-keys.ts), so that the calls in progress per source and the extensions per number
 *    read across extensions are the ones written until the commit;
 * 2. the circuit breaker's row (FOR UPDATE), taken by international calls when they read it and
 *    by whatever changes the spend, the policy version or a lock;
 * 3. the policy version's row, by the policy writes.
 *
 * READ COMMITTED: each statement sees what was committed before it, so a statement after a lock
 * sees everything its previous holder wrote (under REPEATABLE READ the snapshot would date from
 * before the wait). The policy version is compared in every decision's transaction, so a policy
 * or lock changed through any guard holds for every guard's next decision.
 */
export function createDecisionPath(options: DecisionPathOptions): DecisionStore {
  const { pool, lockWaitMs, graceMs, nextId } = options;
  const timeouts = `SET LOCAL statement_timeout = ${lockWaitMs}; SET LOCAL lock_timeout = ${lockWaitMs}`;

  // The policy set is read again only when its version changed: every policy write bumps it.
  let policySet: StoredPolicySet | null = null;

  const snapshot = async (db: Db, ext: string, expireAt: number | null): Promise<ExtensionSnapshot> => {
    const [row] = (await run<SnapshotRow>(db, expireAt === null ? S.snapshot : S.expireAndSnapshot, expireAt === null ? [ext] : [ext, expireAt])) as [SnapshotRow];
    if (policySet?.version !== row.version) policySet = await policies.loadSet(db);
    const lock: LockRecord | null = row.reason === null ? null : { reason: row.reason, actor: row.actor ?? '', at: row.lock_at ?? 0 };
    const extension = row.overrides === null ? null : { ext, overrides: row.overrides, version: row.ext_version ?? 0, updatedAt: row.updated_at ?? 0 };
    return { policy: policySet, extension, lock };
  };

  /** Steps 2 and 3 (see DecisionStore): the breaker is locked when read, unless the transaction only reads. */
  const decide = async (db: Db, request: DecisionRequest, decider: Decider, held: DecisionLocks | null) => {
    const at = request.at.getTime();
    const plan = decider.plan(await snapshot(db, request.extension, held ? at : null));
    // The reads the plan asked for go out together and come back in one round trip.
    const [usage, counts, breakerState, site] = await Promise.all([
      reservations.usage(db, request.extension, periodsAt(request.at, plan.timezone), at),
      plan.fraud ? velocity.counts(db, request.extension, at, plan.fraud) : null,
      plan.fraud?.breaker ? breaker.state(db, at, held !== null) : null,
      plan.fraud?.site ? siteCounters.read(db, request.extension, at, plan.fraud.site) : null,
    ]);
    if (counts) usage.velocity = counts;
    if (site) usage.site = site;
    if (breakerState) {
      usage.breaker = breakerState;
      if (held) held.breaker = true;
    }
    return { verdict: plan.decide(usage), timezone: plan.timezone };
  };

  /** Steps 1 to 5; the writes are sent and deferred, to travel with what the transaction sends next. */
  const authorizeOne = async (db: Db, defer: Defer, held: DecisionLocks, request: DecisionRequest, decider: Decider): Promise<AuditedDecision> => {
    // The request's time is the clock: in service it is the moment the call arrived.
    const at = request.at.getTime();
    const { verdict, timezone } = await decide(db, request, decider, held);
    const audited: AuditedDecision = { ...verdict.decision, callId: nextId(at) };
    const reservation = reservationOf(request, audited, timezone, graceMs);
    if (reservation) defer(reservations.reserve(db, reservation));
    defer(audit.insert(db, request, audited, verdict.latencyUs));
    const effects = composeFraudEffects(request, audited, audited.callId);
    if (effects) await applyFraudEffects(db, defer, held, request.extension, at, effects, nextId);
    return audited;
  };

  /** BEGIN, the timeouts and the batch's locks (extensions, then sources, then destinations), each kind in ascending order: one round trip. */
  const prelude = (requests: readonly DecisionRequest[]): string => {
    const ascending = (keys: Array<number | null>): number[] => [...new Set(keys.filter((k): k is number => k !== null))].sort((a, b) => a - b);
    const lockAll = (space: number, keys: number[]): string =>
      keys.length === 0 ? '' : `; SELECT pg_advisory_xact_lock(${space}, k) FROM unnest('{${keys.join(',')}}'::int[]) AS k`;
    const site = requests.map(siteLockKeys);
    return (
      timeouts +
      lockAll(EXTENSION_LOCKS, ascending(requests.map((r) => extensionKey(r.extension)))) +
      lockAll(SOURCE_LOCKS, ascending(site.map((k) => k.source))) +
      lockAll(DESTINATION_LOCKS, ascending(site.map((k) => k.destination)))
    );
  };

  /** An item that fails alone: rolled back to its savepoint, the batch goes on. */
  const inSavepoint = async (client: pg.PoolClient, work: (defer: Defer) => Promise<AuditedDecision>): Promise<AuthorizeOutcome> => {
    const { defer, end } = deferred();
    defer(run(client, 'SAVEPOINT item'));
    try {
      const decision = await work(defer);
      await end(() => run(client, 'RELEASE SAVEPOINT item'));
      return { ok: true, decision };
    } catch (error) {
      // If even this fails the connection is gone: the whole batch fails.
      await run(client, 'ROLLBACK TO SAVEPOINT item');
      return { ok: false, error };
    }
  };

  return {
    async authorizeBatch(items: ReadonlyArray<AuthorizeItem>): Promise<AuthorizeOutcome[]> {
      if (items.length === 0) return [];
      const locks = prelude(items.map((i) => i.request));
      const held: DecisionLocks = { breaker: false };
      const [only] = items;
      if (items.length === 1 && only) {
        // One call (the common case below full load): no savepoint; an item that fails rolls back the transaction.
        try {
          const decision = await transaction(pool, (client, defer) => authorizeOne(client, defer, held, only.request, only.decider), { prelude: locks });
          return [{ ok: true, decision }];
        } catch (error) {
          if (error instanceof StoreError) throw error;
          return [{ ok: false, error }];
        }
      }
      return transaction(
        pool,
        async (client) => {
          const outcomes: AuthorizeOutcome[] = [];
          for (const { request, decider } of items) outcomes.push(await inSavepoint(client, (defer) => authorizeOne(client, defer, held, request, decider)));
          return outcomes;
        },
        { prelude: locks },
      );
    },

    async evaluate(request: DecisionRequest, decider: Decider): Promise<Decision> {
      // One snapshot for every read and no lock: a dry run never waits for or holds what a decision needs.
      return transaction(pool, async (client) => (await decide(client, request, decider, null)).verdict.decision, { readOnly: true, prelude: timeouts });
    },

    async settle(req: SettlementRequest): Promise<SettlementResult> {
      return transaction(
        pool,
        async (client) => {
          const ext = await reservations.extOf(client, req.callId);
          if (ext !== null) await lockExtensionOf(client, ext);
          const result = await reservations.settle(client, req);
          // The real cost replaces the reservation in the breaker's hour, under the breaker's lock.
          if ((result.outcome === 'settled' || result.outcome === 'settled_after_expiry') && (await breaker.counts(client, req.callId))) {
            await takeBreaker(client, { breaker: false });
            await breaker.settle(client, req.callId, result.costMicros);
          }
          return result;
        },
        { prelude: timeouts },
      );
    },
  };
}
