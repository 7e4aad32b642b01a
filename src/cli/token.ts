import { parseArgs } from 'node:util';
import { createToken, revokeToken, TOKEN_ROLES } from '../auth/tokens.js';
import type { TokenRole, TokenStore } from '../store/roles/tokens.js';
import { UsageError, type CommandIO } from './io.js';

export const TOKEN_HELP = `dialguard token create --role auditor|admin [--name NAME]
                                print a new admin API token (shown only this once)
dialguard token revoke NAME     the token stops working at once
dialguard token list            names and roles of the live tokens (never the tokens)`;

const cliActor = (): string => `cli:${process.env.USER ?? 'unknown'}`;

export async function runToken(tokens: TokenStore, args: string[], io: CommandIO): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === 'create') return create(tokens, rest, io);
  if (verb === 'revoke') {
    const [name] = rest;
    if (!name || rest.length !== 1) throw new UsageError('token revoke takes one NAME', TOKEN_HELP);
    await revokeToken(tokens, name, cliActor());
    io.out(`revoked token "${name}"`);
    return 0;
  }
  if (verb === 'list') {
    for (const t of await tokens.listTokens()) io.out(`${t.name}\t${t.role}\tcreated ${new Date(t.createdAt).toISOString()} by ${t.createdBy}`);
    return 0;
  }
  throw new UsageError(verb ? `unknown token command "${verb}"` : 'token needs create, revoke or list', TOKEN_HELP);
}

async function create(tokens: TokenStore, args: string[], io: CommandIO): Promise<number> {
  const { values } = parseArgs({ args, options: { role: { type: 'string' }, name: { type: 'string' } }, allowPositionals: false, strict: true });
  const role = values.role as TokenRole | undefined;
  if (!role || !TOKEN_ROLES.includes(role)) throw new UsageError('--role must be auditor or admin', TOKEN_HELP);
  const issued = await createToken(tokens, { role, name: values.name, actor: cliActor() });
  // The token alone on stdout, so that TOKEN=$(dialguard token create …) works; the note goes to stderr.
  io.out(issued.token);
  io.err(`dialguard: created ${issued.role} token "${issued.name}"; it is shown only this once`);
  return 0;
}
