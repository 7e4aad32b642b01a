import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import type { SourceReputation, SourceStanding } from '../../src/domain/security.js';
import { createLogger } from '../../src/logger.js';
import { sourceRangeText } from '../../src/net/address.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { authorizeEnv, playAsteriskSession } from '../support/asterisk-agi.js';
import { seedPolicy } from '../support/seed.js';

/**
 * The source reputation check end to end: a real server in-process (FastAGI on a random port,
 * a real SQLite file) given a reputation that has seen failed authentications, driven by the
 * Asterisk double as Asterisk 22 drives /authorize.
 */

const HOUR = 3_600_000;
const OFFICE = '198.51.100.7';

/** Failed authentications by address and time, counted as the reputation tracker counts them: the address and its /24 or /64. */
class FakeReputation implements SourceReputation {
  readonly failures: Array<{ address: string; at: number }> = [];
  readonly asked: Array<{ address: string; windowMs: number }> = [];

  fail(address: string, count: number, at = Date.now()): void {
    for (let i = 0; i < count; i++) this.failures.push({ address, at });
  }

  standing(address: string, windowMs: number, at: number): SourceStanding {
    this.asked.push({ address, windowMs });
    const recent = this.failures.filter((f) => f.at > at - windowMs && f.at <= at);
    const network = sourceRangeText(address);
    return { address, failures: recent.filter((f) => f.address === address).length, network, networkFailures: recent.filter((f) => sourceRangeText(f.address) === network).length };
  }
}

let dir: string;
let server: RunningServer;
const reputation = new FakeReputation();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dialguard-e2e-reputation-'));
  const db = join(dir, 'dialguard.db');
  // Any source country, any number of calls at once: only the reputation stands between these addresses and the trunk.
  await seedPolicy(db, {
    defaults: { geofence: { allowCountries: ['*'] }, budget: { maxConcurrent: null } },
    extensions: { '1001': {}, '1002': {}, office: { intrusion: { trustedCidrs: [OFFICE] } } },
    site: { denyUnknownExtensions: false },
  });
  const config = loadConfig({
    env: {
      DIALGUARD_DB: db,
      DIALGUARD_AGI_LISTEN: '127.0.0.1:0',
      DIALGUARD_HTTP_LISTEN: '127.0.0.1:0',
      DIALGUARD_HOME_COUNTRY: 'US',
      DIALGUARD_TIMEZONE: 'America/New_York',
      DIALGUARD_ADMIN_TOKEN: 'reputation-test-admin-token',
    },
  });
  server = await startServer(config, createLogger('silent'), { reputation });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function authorize(ext: string, source: string): Promise<Record<string, string>> {
  const t = await playAsteriskSession({ port: server.agi.port, env: authorizeEnv({ ext, number: '12125550123', source, origin: 'phone' }) });
  return Object.fromEntries(t.variables);
}

describe('FastAGI /authorize with a source reputation fed by failed authentications', () => {
  it('denies a call from an address that brute-forced the PBX, and audits the count', async () => {
    reputation.fail('203.0.113.9', 40);
    const vars = await authorize('1001', '203.0.113.9:5060');
    expect(vars).toMatchObject({
      DIALGUARD_RESULT: 'DENY',
      DIALGUARD_REASON: 'source_suspicious',
      DIALGUARD_MESSAGE: "Call to United States denied: the caller's address is attacking this PBX",
      DIALGUARD_LIMIT_MS: '0',
    });
    expect(reputation.asked.at(-1)).toEqual({ address: '203.0.113.9', windowMs: 24 * HOUR });
    const audited = await server.runtime.store.getDecision(vars.DIALGUARD_CALL_ID as string);
    expect(audited?.checks.find((c) => c.name === 'source_suspicious')).toEqual({
      name: 'source_suspicious',
      outcome: 'fail',
      reason: 'source_suspicious',
      detail: '203.0.113.9 had 40 failed authentications in the last 24 h, limit 10',
    });
  });

  it('denies a fresh address of the attacking /24, and allows one outside it', async () => {
    expect(await authorize('1002', '203.0.113.200:5060')).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'source_suspicious' });
    expect(await authorize('1002', '203.0.114.1:5060')).toMatchObject({ DIALGUARD_RESULT: 'ALLOW', DIALGUARD_REASON: 'allowed' });
  });

  it('never flags an office address with one phone stuck on a wrong password', async () => {
    reputation.fail(OFFICE, 1);
    expect(await authorize('1001', `${OFFICE}:5060`)).toMatchObject({ DIALGUARD_RESULT: 'ALLOW', DIALGUARD_REASON: 'allowed' });
  });

  it('never flags a trusted office network, however many failures its NAT address has', async () => {
    reputation.fail(OFFICE, 300);
    expect(await authorize('office', `${OFFICE}:5060`)).toMatchObject({ DIALGUARD_RESULT: 'ALLOW', DIALGUARD_REASON: 'allowed' });
    // The same address for an extension whose policy does not trust it.
    expect(await authorize('1001', `${OFFICE}:5060`)).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'source_suspicious' });
  });

  it('forgets failures older than the window', async () => {
    reputation.fail('192.0.2.50', 100, Date.now() - 25 * HOUR);
    expect(await authorize('1001', '192.0.2.50:5060')).toMatchObject({ DIALGUARD_RESULT: 'ALLOW' });
  });
});
