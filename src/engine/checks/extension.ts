import { defineCheck, fail, pass, type Check } from './check.js';

declare module '../../domain/decision.js' {
  interface CheckNames {
    extension: true;
  }
  interface ReasonCodes {
    extension_unknown: true;
    extension_disabled: true;
    extension_locked: true;
  }
}

/** Unknown, disabled and locked extensions; the site decides whether unknown ones follow the defaults. */
export function compileExtensionCheck(enabled: boolean, denyUnknownExtensions: boolean): Check {
  return ({ request, extension }) => {
    if (!extension.known && denyUnknownExtensions) {
      return fail('extension', 'extension_unknown', `extension ${request.extension} is not configured`);
    }
    if (!enabled) return fail('extension', 'extension_disabled', `extension ${request.extension} is disabled`);
    if (extension.locked) {
      const why = extension.lockReason ? `: ${extension.lockReason}` : '';
      return fail('extension', 'extension_locked', `extension ${request.extension} is locked${why}`);
    }
    const how = extension.known ? 'configured' : 'not configured, default policy';
    return pass('extension', `extension ${request.extension} (${how})`);
  };
}

export const extension = defineCheck({
  name: 'extension',
  kind: 'gate',
  reasons: {
    extension_unknown: 'the extension is not configured',
    extension_disabled: 'the extension is disabled',
    extension_locked: 'the extension is locked',
  },
  section: null,
  compile: ({ policy, env }) => compileExtensionCheck(policy.enabled, env.denyUnknownExtensions),
});
