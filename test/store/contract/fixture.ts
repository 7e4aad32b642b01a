import { afterEach } from 'vitest';
import type { DecisionRequest } from '../../../src/domain/decision.js';
import { openGeoIp } from '../../../src/geo/geoip.js';
import { createGuard, type Guard } from '../../../src/guard/guard.js';
import { validateDocument, type PolicyDocument } from '../../../src/policy/document.js';
import { openStore, type StoreOptions } from '../../../src/store/open-store.js';
import type { Store } from '../../../src/store/roles/index.js';

/**
 * The store contract: what every implementation of the roles (src/store/roles) must do, as
 * tests. Each implementation runs it with a factory of fresh, empty databases; everything else
 * goes through `openStore`, as `dialguard serve` does, so the contract knows no database.
 */

/** A fresh, empty database. */
export interface FreshDatabase {
  /** Its DIALGUARD_DB: what `openStore` (and a second guard process) opens. */
  database: string;
  /** Drops it, once every store on it is closed. */
  destroy(): Promise<void>;
}

export type StoreFactory = () => Promise<FreshDatabase>;

export interface ContractGuard {
  database: string;
  store: Store;
  /** A guard on `store`: a US site in New York time. */
  guard: Guard;
  /** Another store on the same database, as another guard process would open it; closed after the test. */
  another(options?: Partial<StoreOptions>): Promise<Store>;
  /** Closes `store` (another one may go on using the database). */
  closeStore(): Promise<void>;
}

export type OpenGuard = (doc?: PolicyDocument, options?: Partial<StoreOptions>) => Promise<ContractGuard>;

const storeOptions = (database: string, options: Partial<StoreOptions>): StoreOptions => ({
  database,
  lockWaitMs: 200,
  reservationGraceSeconds: 300,
  ...options,
});

export const guardOn = (store: Store): Guard => createGuard({ store, homeCountry: 'US', timezone: 'America/New_York', geoip: openGeoIp() });

/**
 * `open(doc)`: a fresh database from `factory` with the document imported and a guard on it.
 * Every store and database a test opened is closed and dropped after it.
 */
export function useContractGuards(factory: StoreFactory): OpenGuard {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const tracked = async (database: string, options: Partial<StoreOptions>): Promise<Store> => {
    const store = await openStore(storeOptions(database, options));
    let closed = false;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      await store.close();
    };
    cleanups.push(close);
    return Object.assign(store, { close });
  };
  return async (doc, options = {}) => {
    const fresh = await factory();
    cleanups.push(() => fresh.destroy());
    const store = await tracked(fresh.database, options);
    if (doc) await store.importDocument(validateDocument(doc), 'test', () => undefined);
    return {
      database: fresh.database,
      store,
      guard: guardOn(store),
      another: (more = {}) => tracked(fresh.database, { ...options, ...more }),
      closeStore: () => store.close(),
    };
  };
}

export const call = (dialled: string, at = new Date('2026-11-17T15:00:00Z'), extension = '1001'): DecisionRequest => ({
  extension,
  dialled,
  source: '10.0.0.5:5060',
  origin: 'phone',
  at,
  transport: 'agi',
  meta: { channel: `PJSIP/${extension}-00000001` },
});

/** One part of the contract: describes its tests for the implementation `factory` makes. */
export type ContractSection = (factory: StoreFactory) => void;
