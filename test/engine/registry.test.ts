import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECK_NAMES, CHECKS, POLICY_SECTIONS, REASON_CODES, REASON_TEXT } from '../../src/engine/checks/registry.js';
import { denialMessage } from '../../src/engine/messages.js';
import { defaultPolicy } from '../../src/policy/defaults.js';
import { PolicySchema } from '../../src/policy/schema.js';
import { repoRoot } from '../support/captures.js';

const readme = readFileSync(resolve(repoRoot, 'README.md'), 'utf8');

/** The lines of the README from the line starting with `from` to the next line starting with `to`. */
function part(from: string, to: string): string {
  const start = readme.indexOf(`\n${from}`);
  const end = readme.indexOf(`\n${to}`, start + 1);
  expect(start, `README has a line starting with ${JSON.stringify(from)}`).toBeGreaterThan(0);
  expect(end, `README has a line starting with ${JSON.stringify(to)} after it`).toBeGreaterThan(start);
  return readme.slice(start, end);
}

describe('the check registry is what the README documents', () => {
  it('the README lists every check, in the registry order (the audit order and the precedence of reasons)', () => {
    const listed = [...part('For each call, in order', '## ').matchAll(/\*\*([a-z_]+)\*\*/g)].map(([, name]) => name);
    expect(listed).toEqual(CHECK_NAMES);
  });

  it('the README table of reason codes has every code, in the registry order, and nothing else', () => {
    const rows = [...part('### Reason codes', '### ').matchAll(/^\| `([a-z_0-9]+)` \|/gm)].map(([, code]) => code);
    expect(rows).toEqual(REASON_CODES);
  });
});

describe('the check registry', () => {
  it('has each check once, each reason code once, and the engine’s own codes around the checks’ ones', () => {
    expect(new Set(CHECK_NAMES).size).toBe(CHECKS.length);
    expect(new Set(REASON_CODES).size).toBe(REASON_CODES.length);
    expect(REASON_CODES[0]).toBe('allowed');
    expect(REASON_CODES.at(-1)).toBe('guard_error');
    expect(CHECKS[0]?.kind).toBe('override');
  });

  it('gives every denial reason a sentence of its own module', () => {
    for (const code of REASON_CODES.filter((c) => !['allowed', 'emergency', 'guard_error'].includes(c))) {
      expect(REASON_TEXT.get(code), code).toMatch(/^[a-z].+[^.]$/);
      expect(denialMessage(code, 'France')).toBe(`Call to France denied: ${REASON_TEXT.get(code)}`);
    }
    expect(denialMessage('guard_error', 'France')).toBe('Call to France denied: the call guard could not decide');
  });

  it('builds the policy schema from the base sections and every check section, each once', () => {
    const keys = Object.keys(PolicySchema.properties);
    expect(keys).toEqual(['enabled', 'numbering', ...POLICY_SECTIONS.map((s) => s.key), 'mode']);
    expect(Object.keys(defaultPolicy({ homeCountry: 'US', timezone: 'UTC' }))).toEqual(keys);
  });
});
