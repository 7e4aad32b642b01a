import type { NewToken, TokenRecord, TokenRole } from '../roles/tokens.js';
import { changes, run, statement, type Db } from './connection.js';

interface TokenRow {
  id: number;
  name: string;
  role: TokenRole;
  hash: string;
  created_at: number;
  created_by: string;
}

const S = {
  live: statement('dg_tokens', `SELECT id, name, role, hash, created_at, created_by FROM tokens WHERE revoked_at IS NULL ORDER BY name`),
  insert: statement(
    'dg_token_insert',
    `INSERT INTO tokens (name, role, hash, created_at, created_by) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING`,
  ),
  revoke: statement('dg_token_revoke', `UPDATE tokens SET revoked_at = $1, revoked_by = $2 WHERE name = $3 AND revoked_at IS NULL`),
};

/** Admin API tokens, by hash. The table is tiny: every request reads it whole and compares in constant time. */
export const tokens = {
  async list(db: Db): Promise<TokenRecord[]> {
    return (await run<TokenRow>(db, S.live, [])).map((row) => ({ id: row.id, name: row.name, role: row.role, hash: row.hash, createdAt: row.created_at, createdBy: row.created_by }));
  },
  async create(db: Db, token: NewToken): Promise<boolean> {
    return (await changes(db, S.insert, [token.name, token.role, token.hash, Date.now(), token.actor])) === 1;
  },
  async revoke(db: Db, name: string, actor: string): Promise<boolean> {
    return (await changes(db, S.revoke, [Date.now(), actor, name])) === 1;
  },
};
