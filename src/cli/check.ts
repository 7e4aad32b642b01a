import { parseArgs } from 'node:util';
import type { Decision, DecisionRequest } from '../domain/decision.js';
import type { Guard } from '../guard/guard.js';
import { UsageError, type CommandIO } from './io.js';

export const CHECK_HELP = `dialguard check --ext EXT --number NUMBER [--source ADDR] [--origin ORIGIN] [--at ISO-8601] [--json]

Dry run against the database's current policy: nothing is reserved or recorded.
Exit status: 0 ALLOW, 1 DENY, 2 bad usage or error.`;

export function parseCheckArgs(args: string[]): { request: DecisionRequest; json: boolean } {
  const { values } = parseArgs({
    args,
    options: {
      ext: { type: 'string' },
      number: { type: 'string' },
      source: { type: 'string', default: '' },
      origin: { type: 'string', default: 'phone' },
      at: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: false,
    strict: true,
  });
  if (!values.ext) throw new UsageError('--ext is required', CHECK_HELP);
  if (!values.number) throw new UsageError('--number is required', CHECK_HELP);
  const at = values.at ? new Date(values.at) : new Date();
  if (Number.isNaN(at.getTime())) throw new UsageError(`--at "${values.at}" is not an ISO-8601 time (2026-11-21T03:00:00-05:00)`, CHECK_HELP);
  return {
    request: { extension: values.ext, dialled: values.number, source: values.source, origin: values.origin, at, transport: 'cli' },
    json: values.json,
  };
}

export async function runCheck(guard: Pick<Guard, 'check'>, args: string[], io: CommandIO): Promise<number> {
  const { request, json } = parseCheckArgs(args);
  const decision = await guard.check(request);
  io.out(json ? JSON.stringify(toJson(decision)) : describe(decision));
  return decision.result === 'ALLOW' ? 0 : 1;
}

/** The decision as printed by --json: the engine's view, without internal pricing objects. */
export function toJson(decision: Decision): Record<string, unknown> {
  const { result, reason, message, limitMs, e164, country, numberType, source, checks, grant, policyVersion } = decision;
  const reservation = grant ? { seconds: grant.seconds, cost: grant.costMicros / 1e6, ratePrefix: grant.rate.prefix } : null;
  return { result, reason, message, limitMs, e164, country, numberType, source, policyVersion, reservation, checks };
}

function describe(d: Decision): string {
  const lines = [`${d.result} ${d.reason}: ${d.message}`, `  destination ${d.e164 ?? '-'} ${d.country ?? '-'} ${d.numberType ?? '-'}, limit ${d.limitMs} ms`];
  for (const c of d.checks) lines.push(`  ${c.outcome.padEnd(4)} ${c.name.padEnd(11)} ${c.detail}`);
  return lines.join('\n');
}
