/**
 * SET VARIABLE encoding checked against agi-set-variable-quoting.json: 48 commands sent to a real
 * Asterisk 22, with its reply and the exact value the dialplan saw. The argument splitter of the
 * double (a port of res_agi's parse_args) is first shown to agree with Asterisk on every case;
 * then every value, encoded by setVariableCommand(), must come out of it as exactly one value.
 */
import { describe, expect, it } from 'vitest';
import { parseReplyLine, setVariableCommand, verboseCommand } from '../../src/agi/protocol.js';
import { DialguardError } from '../../src/errors.js';
import { splitAsteriskArgs } from '../support/asterisk-agi.js';
import { loadCapture, type QuotingCapture } from '../support/captures.js';

const quoting = loadCapture<QuotingCapture>('agi-set-variable-quoting.json');
const pjsip = loadCapture('agi-authorize-pjsip.json');
const commandsErrors = loadCapture('agi-commands-errors.json');

/** What Asterisk reads as the command: up to the first LF. */
const firstLine = (bytes: string): string => bytes.slice(0, bytes.indexOf('\n'));
const wasSet = (reply: string[]): boolean => reply[0] === '200 result=1';
/** Everything after the first three words and one blank, LF and all: what a naive sender meant as the value. */
const literalTail = (sent: string): string => /^(?:\S+[ \t]+){2}\S+[ \t]?(.*)$/s.exec(sent.slice(0, -1))?.[1] ?? '';
const withoutCrLf = (value: string): string => value.replace(/[\r\n]/g, '');

describe("the double's argument splitter agrees with Asterisk 22 on every captured case", () => {
  it.each(quoting.findings.map((f) => [f.var, f] as const))('%s', (_name, finding) => {
    const args = splitAsteriskArgs(firstLine(finding.sent));
    expect(args.slice(0, 2).map((a) => a.toUpperCase())).toEqual(['SET', 'VARIABLE']);
    if (wasSet(finding.reply)) {
      expect(args).toEqual([args[0], args[1], finding.var, finding.dialplan_value]);
    } else {
      expect(finding.reply[0]).toBe('520-Invalid command syntax.  Proper usage follows:');
      expect(args).not.toHaveLength(4);
    }
  });

  it('covers all 48 cases, 42 set and 6 refused with 520', () => {
    expect(quoting.findings).toHaveLength(48);
    expect(quoting.findings.filter((f) => wasSet(f.reply))).toHaveLength(42);
  });
});

describe('setVariableCommand', () => {
  it.each(quoting.findings.filter((f) => wasSet(f.reply)).map((f) => [f.var, f] as const))(
    'round-trips the value the dialplan saw in %s',
    (_name, finding) => {
      const command = setVariableCommand(finding.var, finding.dialplan_value);
      expect(command.indexOf('\n')).toBe(command.length - 1);
      // CR is dropped on purpose: Q24/Q25 show it is stored, which nobody means.
      expect(splitAsteriskArgs(command.slice(0, -1))).toEqual(['SET', 'VARIABLE', finding.var, withoutCrLf(finding.dialplan_value)]);
    },
  );

  it.each(quoting.findings.map((f) => [f.var, f] as const))(
    'keeps the literal text a naive sender meant in %s as one value, injection included',
    (_name, finding) => {
      const intended = literalTail(finding.sent);
      const command = setVariableCommand(finding.var, intended);
      expect(command.indexOf('\n')).toBe(command.length - 1);
      expect(splitAsteriskArgs(command.slice(0, -1))).toEqual(['SET', 'VARIABLE', finding.var, withoutCrLf(intended)]);
    },
  );

  it('produces the bytes of the recommended encoding (Q48) exactly', () => {
    const q48 = quoting.findings.find((f) => f.var === 'Q48');
    expect(q48).toBeDefined();
    expect(setVariableCommand('Q48', q48?.dialplan_value ?? '')).toBe(q48?.sent);
  });

  it('produces the bytes the /authorize capture sent for its quoted values', () => {
    const quoted = pjsip.events.filter((e) => e.dir === 'out' && e.data.endsWith('"\n')).map((e) => e.data);
    expect(quoted).toHaveLength(3);
    for (const sent of quoted) {
      const [, , name = '', value = ''] = splitAsteriskArgs(sent.slice(0, -1));
      expect(setVariableCommand(name, value)).toBe(sent);
    }
  });

  it('survives random values made of the characters that matter', () => {
    const alphabet = ['a', 'Z', '0', ' ', '\t', '"', '\\', "'", '\r', '\n', '(', ')', '$', '{', '}', ',', 'é', '中', '\\"', '""'];
    let seed = 20261121;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let i = 0; i < 2000; i++) {
      const value = Array.from({ length: random(24) }, () => alphabet[random(alphabet.length)]).join('');
      const command = setVariableCommand('DIALGUARD_MESSAGE', value);
      expect(command.indexOf('\n')).toBe(command.length - 1);
      expect(splitAsteriskArgs(command.slice(0, -1))).toEqual(['SET', 'VARIABLE', 'DIALGUARD_MESSAGE', withoutCrLf(value)]);
    }
  });

  it('refuses a variable name that is not letters, digits and underscores', () => {
    for (const name of ['', 'A B', 'X"', 'Q\n', 'DIALGUARD-RESULT', 'CHANNEL(language)', 'ÉTAT']) {
      let code: string | undefined;
      try {
        setVariableCommand(name, 'x');
      } catch (err) {
        code = err instanceof DialguardError ? err.code : undefined;
      }
      expect(code, JSON.stringify(name)).toBe('DG_AGI_BAD_COMMAND');
    }
  });
});

describe('GET VARIABLE replies from the quoting capture', () => {
  it.each(quoting.findings.map((f) => [f.var, f] as const))('parse back to the stored value in %s', (_name, finding) => {
    const reply = parseReplyLine(finding.get_variable_reply);
    if (wasSet(finding.reply)) {
      // Asterisk returns at most 1023 bytes (Q36 stored 3000).
      expect(reply).toEqual({ code: 200, result: '1', data: finding.dialplan_value.slice(0, 1023) });
    } else {
      expect(reply).toEqual({ code: 200, result: '0' });
    }
  });
});

describe('verboseCommand', () => {
  it('produces the bytes of the VERBOSE line Asterisk accepted', () => {
    const sent = commandsErrors.transcript?.[1]?.sent;
    expect(sent).toBe('VERBOSE "dialguard: authorize 1001 -> 0044207946000 ALLOW" 1\n');
    expect(verboseCommand('dialguard: authorize 1001 -> 0044207946000 ALLOW')).toBe(sent);
  });

  it('escapes the text like a variable value and keeps the level a separate argument', () => {
    const command = verboseCommand('say "hi" \\ bye\nnext', 3);
    expect(splitAsteriskArgs(command.slice(0, -1))).toEqual(['VERBOSE', 'say "hi" \\ byenext', '3']);
    expect(() => verboseCommand('x', 0)).toThrow(DialguardError);
    expect(() => verboseCommand('x', 2.5)).toThrow(DialguardError);
  });
});
