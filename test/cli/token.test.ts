import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureAdminToken, hashToken, verifyToken } from '../../src/auth/tokens.js';
import { main } from '../../src/cli/main.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/roles/index.js';

let dir: string;
let db: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dialguard-token-'));
  db = join(dir, 'dialguard.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function dialguard(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const status = await main(['--db', db, ...args], { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { status, stdout: out.join('\n'), stderr: err.join('\n') };
}

async function withStore<T>(fn: (store: Store) => T | Promise<T>): Promise<T> {
  const store = createSqliteStore({ path: db });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

describe('dialguard token', () => {
  it('creates an auditor token, prints it once on stdout, and stores only its hash', async () => {
    const r = await dialguard('token', 'create', '--role', 'auditor');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^dg_[A-Za-z0-9_-]{43}$/);
    expect(r.stderr).toContain('created auditor token "auditor-1"; it is shown only this once');
    const tokens = await withStore((s) => s.listTokens());
    expect(tokens).toMatchObject([{ name: 'auditor-1', role: 'auditor', hash: hashToken(r.stdout) }]);
    expect(JSON.stringify(tokens)).not.toContain(r.stdout);
    expect(verifyToken(tokens, r.stdout)).toMatchObject({ name: 'auditor-1', role: 'auditor' });
    expect(verifyToken(tokens, `${r.stdout}x`)).toBeNull();
  });

  it('names tokens, refuses a name in use, and lists them without the tokens', async () => {
    expect((await dialguard('token', 'create', '--role', 'admin', '--name', 'noc')).status).toBe(0);
    const again = await dialguard('token', 'create', '--role', 'auditor', '--name', 'noc');
    expect(again).toMatchObject({ status: 2, stderr: expect.stringContaining('a token named "noc" exists already') });
    expect((await dialguard('token', 'create', '--role', 'auditor')).status).toBe(0);
    const list = await dialguard('token', 'list');
    expect(list.stdout.split('\n').map((l) => l.split('\t').slice(0, 2).join(' '))).toEqual(['auditor-1 auditor', 'noc admin']);
  });

  it('revokes a token by name, after which the name can be reused', async () => {
    const created = await dialguard('token', 'create', '--role', 'auditor', '--name', 'grafana');
    expect(await dialguard('token', 'revoke', 'grafana')).toMatchObject({ status: 0, stdout: 'revoked token "grafana"' });
    expect(await withStore(async (s) => verifyToken(await s.listTokens(), created.stdout))).toBeNull();
    expect(await dialguard('token', 'revoke', 'grafana')).toMatchObject({ status: 2, stderr: expect.stringContaining('no live token is named "grafana"') });
    expect((await dialguard('token', 'create', '--role', 'auditor', '--name', 'grafana')).status).toBe(0);
  });

  it('refuses a bad role or name with usage help', async () => {
    expect(await dialguard('token', 'create', '--role', 'root')).toMatchObject({ status: 2, stderr: expect.stringContaining('--role must be auditor or admin') });
    expect(await dialguard('token', 'create', '--role', 'admin', '--name', 'has space')).toMatchObject({ status: 2, stderr: expect.stringContaining('invalid token name') });
    expect((await dialguard('token')).status).toBe(2);
  });
});

describe('the admin token on first start', () => {
  it('is generated once, when no admin token exists, and only its hash is kept', async () => {
    await withStore(async (store) => {
      const token = await ensureAdminToken(store, null);
      expect(token).toMatch(/^dg_/);
      expect(verifyToken(await store.listTokens(), token as string)).toMatchObject({ name: 'admin', role: 'admin' });
      expect(await ensureAdminToken(store, null)).toBeNull();
    });
  });

  it('is generated again if every admin token was revoked', async () => {
    await withStore(async (store) => {
      await ensureAdminToken(store, null);
      await store.revokeToken('admin', 'test');
      expect(await ensureAdminToken(store, null)).toMatch(/^dg_/);
    });
  });

  it('comes from DIALGUARD_ADMIN_TOKEN when set, replacing a generated one', async () => {
    await withStore(async (store) => {
      const generated = (await ensureAdminToken(store, null)) as string;
      const configured = 'a-long-configured-admin-secret';
      expect(await ensureAdminToken(store, configured)).toBeNull();
      expect(verifyToken(await store.listTokens(), configured)).toMatchObject({ name: 'admin', role: 'admin' });
      expect(verifyToken(await store.listTokens(), generated)).toBeNull();
      await ensureAdminToken(store, configured);
      expect(await store.listTokens()).toHaveLength(1);
    });
  });

  it('refuses a configured token too short to be safe', async () => {
    await withStore((store) => expect(ensureAdminToken(store, 'admin')).rejects.toThrow(/at least 16 characters/));
  });
});

describe('the first admin token when two dialguards start at once on a new database', () => {
  it('exactly one of them generates (and prints) it; the other starts without error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dialguard-token-race-'));
    const a = createSqliteStore({ path: join(dir, 'd.db') });
    const b = createSqliteStore({ path: join(dir, 'd.db') });
    try {
      // b looks before a writes, as the second process of a race would: make its look stale.
      const listTokens = b.listTokens.bind(b);
      let first = true;
      b.listTokens = async () => (first ? ((first = false), []) : listTokens());
      const fromA = await ensureAdminToken(a, null);
      const fromB = await ensureAdminToken(b, null);
      expect(fromA).toMatch(/^dg_/);
      expect(fromB).toBeNull();
    } finally {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
