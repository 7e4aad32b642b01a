import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/config.js';
import { MAX_AGI_CONNECT_MS } from '../support/asterisk-agi.js';
import { readShippedDialplan, unbalancedLines } from '../support/dialplan/conf.js';

/** The shipped dialplan, read as Asterisk reads it: contexts of `exten =>` / `same =>` lines. */
const conf = readShippedDialplan('extensions-dialguard.conf');
const lines = (name: string): string[] => conf.contexts.get(name)?.lines ?? [];
const indexOf = (name: string, pattern: RegExp): number => lines(name).findIndex((l) => pattern.test(l));

describe('the shipped dialplan parses as Asterisk parses it', () => {
  it('no priority is cut short by a ";" (extensions.conf comments start there) ', () => {
    expect(unbalancedLines(conf)).toEqual([]);
    expect(conf.warnings).toEqual([]);
  });
});

describe('the shipped dialplan keeps the fail-closed contract', () => {
  it('names the guard by IP literal (Asterisk resolves a host name on every call)', () => {
    expect(conf.globals.get('DIALGUARD_AGI')).toBe('agi://127.0.0.1:4573');
    expect(conf.globals.get('DIALGUARD_FAIL_OPEN')).toBe('no');
  });

  it('ships no backup guard and a deadline of a few seconds in [globals]', () => {
    expect(conf.globals.get('DIALGUARD_AGI_BACKUP')).toBe('');
    expect(conf.globals.get('DIALGUARD_DEADLINE')).toBe('3');
  });

  it("leaves dialguard's default answer deadline inside DIALGUARD_DEADLINE, even after a first guard's 2 s connect timeout", () => {
    const deadlineMs = Number(conf.globals.get('DIALGUARD_DEADLINE')) * 1000;
    expect(DEFAULTS.answerDeadlineMs).toBeLessThan(deadlineMs - MAX_AGI_CONNECT_MS);
  });

  it('pre-sets DIALGUARD_LIMIT_MS=0 and clears DIALGUARD_RESULT before asking the guard', () => {
    const agi = indexOf('dialguard-authorize', /AGI\(\$\{DIALGUARD_AGI\}\/authorize,\$\{ext\},\$\{number\},\$\{source\},\$\{origin\}\)/);
    expect(agi).toBeGreaterThan(0);
    expect(indexOf('dialguard-authorize', /Set\(DIALGUARD_LIMIT_MS=0\)/)).toBeLessThan(agi);
    expect(indexOf('dialguard-authorize', /Set\(DIALGUARD_RESULT=\)/)).toBeLessThan(agi);
  });

  it('turns "no answer" into a DENY unless the site chose to fail open', () => {
    const body = lines('dialguard-authorize').join('\n');
    expect(body).toMatch(/GotoIf\(\$\["\$\{DIALGUARD_FAIL_OPEN\}" = "yes"\]\?failopen\)\n.*Set\(DIALGUARD_RESULT=DENY\)/);
  });

  it.each(['dialguard-outbound', 'dialguard-vm-dialout'])('%s dials only on ALLOW, with the limit, the i option and the settlement handler', (name) => {
    const dial = indexOf(name, /Dial\(/);
    expect(dial).toBeGreaterThan(0);
    expect(indexOf(name, /GotoIf\(\$\["\$\{DIALGUARD_RESULT\}" != "ALLOW"\]\?denied\)/)).toBeLessThan(dial);
    expect(indexOf(name, /hangup_handler_push\)=dialguard-hangup,s,1/)).toBeLessThan(dial);
    expect(lines(name)[dial]).toMatch(/,iL\(\$\{DIALGUARD_LIMIT_MS\}:60000:30000\)\)$/);
    expect(lines(name).some((l) => /n\(denied\),/.test(l))).toBe(true);
    expect(lines(name).at(-1)).toMatch(/Hangup\(21\)/);
  });

  it('settles from the hangup handler with the call id, answered time and dial status', () => {
    expect(lines('dialguard-hangup')[0]).toBe('exten => s,1,AGI(${DIALGUARD_AGI}/settle,${DIALGUARD_CALL_ID},${ANSWEREDTIME},${DIALSTATUS})');
    expect(lines('dialguard-hangup').at(-1)).toMatch(/Return\(\)/);
  });

  it('asks with origin voicemail from the voicemail dial-out context', () => {
    expect(lines('dialguard-vm-dialout')[0]).toContain('Gosub(dialguard-authorize,s,1(${EXTEN},voicemail,${CALLERID(num)}))');
  });
});
