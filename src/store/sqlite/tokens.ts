import type { Database } from 'better-sqlite3';
import type { NewToken, TokenRecord, TokenRole } from '../roles/tokens.js';

interface TokenRow {
  id: number;
  name: string;
  role: TokenRole;
  hash: string;
  created_at: number;
  created_by: string;
}

const toToken = (row: TokenRow): TokenRecord => ({
  id: row.id,
  name: row.name,
  role: row.role,
  hash: row.hash,
  createdAt: row.created_at,
  createdBy: row.created_by,
});

/** Admin API tokens, by hash. The table is tiny: every request reads it whole and compares in constant time. */
export function createTokenRepository(db: Database) {
  const s = {
    live: db.prepare<[], TokenRow>(`SELECT id, name, role, hash, created_at, created_by FROM tokens WHERE revoked_at IS NULL ORDER BY name`),
    insert: db.prepare(
      `INSERT INTO tokens (name, role, hash, created_at, created_by) VALUES (@name, @role, @hash, @at, @actor) ON CONFLICT DO NOTHING`,
    ),
    revoke: db.prepare(`UPDATE tokens SET revoked_at = ?, revoked_by = ? WHERE name = ? AND revoked_at IS NULL`),
  };

  const create = (token: NewToken): boolean => s.insert.run({ ...token, at: Date.now() }).changes > 0;
  const revoke = (name: string, actor: string): boolean => s.revoke.run(Date.now(), actor, name).changes > 0;

  return {
    list: (): TokenRecord[] => s.live.all().map(toToken),
    create,
    revoke,
    replace: db.transaction((token: NewToken): void => {
      revoke(token.name, token.actor);
      create(token);
    }),
  };
}
