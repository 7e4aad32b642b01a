import { readFileSync } from 'node:fs';
import { parseDocumentText, validateDocument } from '../policy/document.js';
import type { Guard } from '../guard/guard.js';
import type { PolicyStore } from '../store/roles/policies.js';
import { exportDocument, validateImport } from '../guard/policy-document.js';
import { UsageError, type CommandIO } from './io.js';

export const POLICY_HELP = `dialguard policy import FILE    replace every section the JSON file has, in one transaction
dialguard policy export         print the whole policy as JSON (import takes it back)`;

export interface PolicyCommandDeps {
  guard: Pick<Guard, 'resolvePolicySet' | 'builtinDefaults'>;
  policies: Pick<PolicyStore, 'loadPolicySet' | 'listExtensions' | 'importDocument'>;
}

export async function runPolicy({ guard, policies }: PolicyCommandDeps, args: string[], io: CommandIO): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === 'export') {
    io.out(JSON.stringify(await exportDocument(guard, policies), null, 2));
    return 0;
  }
  if (verb === 'import') {
    const [file] = rest;
    if (!file || rest.length !== 1) throw new UsageError('policy import takes one FILE', POLICY_HELP);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${file}: ${(err as Error).message}`, POLICY_HELP);
    }
    const doc = validateDocument(parseDocumentText(text, file));
    const summary = await policies.importDocument(doc, `cli:${process.env.USER ?? 'unknown'}`, (policy) => validateImport(guard, policy, doc));
    io.out(`imported ${file}: policy version ${summary.version}`);
    return 0;
  }
  throw new UsageError(verb ? `unknown policy command "${verb}"` : 'policy needs import or export', POLICY_HELP);
}
