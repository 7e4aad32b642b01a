import { describe } from 'vitest';
import { auditContract } from './audit.js';
import { decisionContract } from './decisions.js';
import type { StoreFactory } from './fixture.js';
import { fraudEffectsContract } from './fraud-effects.js';
import { policyContract } from './policies.js';
import { siteCountersContract } from './site-counters.js';
import { takeoverContract } from './takeover.js';
import { tokenContract } from './tokens.js';
import { velocityContract } from './velocity.js';

export type { FreshDatabase, StoreFactory } from './fixture.js';

/**
 * The whole store contract against one implementation: `describeStoreContract('SQLite', factory)`
 * in a test file per store (test/store/sqlite.test.ts).
 */
export function describeStoreContract(name: string, factory: StoreFactory): void {
  describe(`store contract: ${name}`, () => {
    for (const section of [decisionContract, velocityContract, fraudEffectsContract, siteCountersContract, policyContract, tokenContract, auditContract, takeoverContract]) section(factory);
  });
}
