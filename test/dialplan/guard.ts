/**
 * dialguard's server as `dialguard serve` starts it (FastAGI and the admin API on free ports),
 * in-process, on a temporary database with the policy of the dialplan tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { seedPolicy } from '../support/seed.js';

export const POLICY = {
  defaults: {
    destinations: { allowCountries: ['US', 'CA', 'GB'] },
    budget: { dailySpend: 25, monthlySpend: 300, dailyMinutes: 600, maxConcurrent: 5, maxCallSeconds: 3600 },
  },
  extensions: { '1001': {}, '1002': { destinations: { allowCountries: ['US'] } } },
  rates: [
    { prefix: '+', perMinute: 1, increment: 60 },
    { prefix: '+1', perMinute: 0.02, increment: 60 },
    { prefix: '+44', perMinute: 0.1, increment: 60 },
  ],
  site: { denyUnknownExtensions: false },
};

export interface RealGuard {
  server: RunningServer;
  /** What DIALGUARD_AGI / DIALGUARD_AGI_BACKUP would be. */
  url: string;
  dbPath: string;
  close(): Promise<void>;
}

export interface RealGuardOptions {
  /** Another guard's database file: both share budgets and reservations. Default a new one. */
  dbPath?: string;
  env?: Record<string, string>;
}

export async function startRealGuard(options: RealGuardOptions = {}): Promise<RealGuard> {
  const dir = options.dbPath ? null : mkdtempSync(join(tmpdir(), 'dialguard-dialplan-'));
  const dbPath = options.dbPath ?? join(dir as string, 'dialguard.db');
  if (dir) await seedPolicy(dbPath, POLICY);
  const config = loadConfig({
    env: {
      DIALGUARD_DB: dbPath,
      DIALGUARD_AGI_LISTEN: '127.0.0.1:0',
      DIALGUARD_HTTP_LISTEN: '127.0.0.1:0',
      DIALGUARD_HOME_COUNTRY: 'US',
      DIALGUARD_TIMEZONE: 'America/New_York',
      DIALGUARD_ADMIN_TOKEN: 'dialplan-test-admin-token',
      ...options.env,
    },
  });
  const server = await startServer(config, createLogger('silent'));
  return {
    server,
    url: `agi://127.0.0.1:${server.agi.port}`,
    dbPath,
    async close() {
      await server.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
