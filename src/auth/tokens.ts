import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConfigError, DialguardError, ValidationError } from '../errors.js';
import type { TokenRecord, TokenRole, TokenStore } from '../store/roles/tokens.js';

/**
 * Admin API tokens. A token is 32 random bytes, shown once; the store keeps only its sha256,
 * which is enough for a token with that much entropy (no salt or slow hash needed: there is
 * nothing to guess). The `dg_` prefix lets secret scanners recognise a leaked one.
 */

export const TOKEN_ROLES: readonly TokenRole[] = ['admin', 'auditor'];
export const TOKEN_NAME_PATTERN = '^[A-Za-z0-9_.@-]{1,64}$';
const TOKEN_NAME = new RegExp(TOKEN_NAME_PATTERN);

/** The name of the token `ensureAdminToken` generates or DIALGUARD_ADMIN_TOKEN sets. */
export const BOOTSTRAP_TOKEN_NAME = 'admin';
/** A configured admin token shorter than this is refused: the admin API would be a guess away. */
export const MIN_CONFIGURED_TOKEN_LENGTH = 16;

/** Who a request's token belongs to. */
export interface Principal {
  id: number;
  name: string;
  role: TokenRole;
}

export interface IssuedToken {
  name: string;
  role: TokenRole;
  /** The plaintext token: shown once, never stored. */
  token: string;
}

export function generateToken(): string {
  return `dg_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The token of an `Authorization: Bearer TOKEN` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header ?? '');
  return match ? (match[1] as string) : null;
}

/**
 * The live token matching `token`, or null. Every stored hash is compared, in constant time,
 * and the loop never stops early: how long it takes says nothing about which hash came close.
 */
export function verifyToken(tokens: readonly TokenRecord[], token: string): Principal | null {
  const presented = createHash('sha256').update(token, 'utf8').digest();
  let found: TokenRecord | null = null;
  for (const record of tokens) {
    const stored = Buffer.from(record.hash, 'hex');
    const same = stored.length === presented.length && timingSafeEqual(stored, presented);
    if (same && found === null) found = record;
  }
  return found && { id: found.id, name: found.name, role: found.role };
}

export function tokenNameProblem(name: string): string | null {
  return TOKEN_NAME.test(name) ? null : `invalid token name "${name}": use 1 to 64 of letters, digits and _ . @ -`;
}

/** `auditor-1`, `auditor-2`…: the first free one. */
async function defaultName(store: Pick<TokenStore, 'listTokens'>, role: TokenRole): Promise<string> {
  const taken = new Set((await store.listTokens()).map((t) => t.name));
  let n = 1;
  while (taken.has(`${role}-${n}`)) n++;
  return `${role}-${n}`;
}

export async function createToken(store: Pick<TokenStore, 'listTokens' | 'createToken'>, options: { role: TokenRole; name?: string; actor: string }): Promise<IssuedToken> {
  const name = options.name ?? (await defaultName(store, options.role));
  const problem = tokenNameProblem(name);
  if (problem !== null) throw new ValidationError([{ field: 'name', message: problem }], 'token');
  const token = generateToken();
  if (!(await store.createToken({ name, role: options.role, hash: hashToken(token), actor: options.actor }))) {
    throw new DialguardError('DG_CONFLICT', `a token named "${name}" exists already: revoke it first or choose another name`);
  }
  return { name, role: options.role, token };
}

export async function revokeToken(store: Pick<TokenStore, 'revokeToken'>, name: string, actor: string): Promise<void> {
  if (!(await store.revokeToken(name, actor))) throw new DialguardError('DG_NOT_FOUND', `no live token is named "${name}"`);
}

/**
 * Makes sure the admin API can be used. With DIALGUARD_ADMIN_TOKEN (`configured`), that token
 * becomes the `admin` token (replacing a generated one). Without it, and with no admin token on
 * record, one is generated: the plaintext is returned, for `serve` to print once, and only then.
 */
export async function ensureAdminToken(store: TokenStore, configured: string | null): Promise<string | null> {
  if (configured !== null) {
    if (configured.length < MIN_CONFIGURED_TOKEN_LENGTH) {
      throw new ConfigError(`DIALGUARD_ADMIN_TOKEN must be at least ${MIN_CONFIGURED_TOKEN_LENGTH} characters (dialguard token create makes strong ones)`);
    }
    const hash = hashToken(configured);
    const current = (await store.listTokens()).find((t) => t.name === BOOTSTRAP_TOKEN_NAME);
    if (current?.hash !== hash || current.role !== 'admin') {
      await store.replaceToken({ name: BOOTSTRAP_TOKEN_NAME, role: 'admin', hash, actor: 'DIALGUARD_ADMIN_TOKEN' });
    }
    return null;
  }
  const tokens = await store.listTokens();
  if (tokens.some((t) => t.role === 'admin')) return null;
  const name = tokens.some((t) => t.name === BOOTSTRAP_TOKEN_NAME) ? await defaultName(store, 'admin') : BOOTSTRAP_TOKEN_NAME;
  const token = generateToken();
  if (await store.createToken({ name, role: 'admin', hash: hashToken(token), actor: 'first start' })) return token;
  // Two dialguards started at once on a new database: the other one created (and printed) it.
  if ((await store.listTokens()).some((t) => t.role === 'admin')) return null;
  throw new DialguardError('DG_CONFLICT', `could not create the first admin token "${name}"`);
}
