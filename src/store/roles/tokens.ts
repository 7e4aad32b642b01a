/** Admin API tokens, stored as hashes: the token itself is never stored. */
export interface TokenStore {
  /** Live (unrevoked) tokens, by name. */
  listTokens(): Promise<TokenRecord[]>;
  /** False when a live token already has this name. */
  createToken(token: NewToken): Promise<boolean>;
  /** Revokes the live token of this name, if any, and creates this one, in one transaction. */
  replaceToken(token: NewToken): Promise<void>;
  /** False when no live token has this name. */
  revokeToken(name: string, actor: string): Promise<boolean>;
}

export type TokenRole = 'admin' | 'auditor';

export interface NewToken {
  name: string;
  role: TokenRole;
  /** sha256 of the token, hex. */
  hash: string;
  actor: string;
}

export interface TokenRecord {
  id: number;
  name: string;
  role: TokenRole;
  hash: string;
  createdAt: number;
  createdBy: string;
}
