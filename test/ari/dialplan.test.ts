import { describe, expect, it } from 'vitest';
import { readShippedDialplan, shippedDialplanText, unbalancedLines } from '../support/dialplan/conf.js';

/** The shipped ARI dialplan, read as Asterisk reads it: ";" starts a comment, contexts of exten/same lines. */
const conf = readShippedDialplan('extensions-dialguard-ari.conf');
const text = shippedDialplanText('extensions-dialguard-ari.conf');
const lines = (name: string): string[] => conf.contexts.get(name)?.lines ?? [];
const indexOf = (name: string, pattern: RegExp): number => lines(name).findIndex((l) => pattern.test(l));

describe('the shipped ARI dialplan keeps the fail-closed contract', () => {
  it('names the Stasis app and fails closed by default', () => {
    expect(conf.globals.get('DIALGUARD_ARI_APP')).toBe('dialguard');
    expect(conf.globals.get('DIALGUARD_FAIL_OPEN')).toBe('no');
  });

  it('ships the same deadline and (empty) backup as the FastAGI dialplan', () => {
    const fastAgi = readShippedDialplan('extensions-dialguard.conf').globals;
    for (const name of ['DIALGUARD_DEADLINE', 'DIALGUARD_AGI_BACKUP']) expect(conf.globals.get(name), name).toBe(fastAgi.get(name));
  });

  it('pre-sets DIALGUARD_LIMIT_MS=0 and clears DIALGUARD_RESULT before Stasis(…,authorize,…)', () => {
    const stasis = indexOf('dialguard-authorize-ari', /Stasis\(\$\{DIALGUARD_ARI_APP\},authorize,\$\{ext\},\$\{number\},\$\{source\},\$\{origin\}\)/);
    expect(stasis).toBeGreaterThan(0);
    expect(indexOf('dialguard-authorize-ari', /Set\(DIALGUARD_LIMIT_MS=0\)/)).toBeLessThan(stasis);
    expect(indexOf('dialguard-authorize-ari', /Set\(DIALGUARD_RESULT=\)/)).toBeLessThan(stasis);
  });

  it('turns "no answer" (STASISSTATUS=FAILED, or nothing set) into a DENY unless the site chose to fail open', () => {
    const body = lines('dialguard-authorize-ari').join('\n');
    expect(body).toContain('STASISSTATUS=${STASISSTATUS}');
    expect(body).toMatch(/GotoIf\(\$\["\$\{DIALGUARD_RESULT\}" = "ALLOW"\]\?done\)\n.*GotoIf\(\$\["\$\{DIALGUARD_RESULT\}" = "DENY"\]\?done\)/);
    expect(body).toMatch(/GotoIf\(\$\["\$\{DIALGUARD_FAIL_OPEN\}" = "yes"\]\?failopen\)\n.*Set\(DIALGUARD_RESULT=DENY\)/);
  });

  it.each(['dialguard-outbound-ari', 'dialguard-vm-dialout-ari'])('%s dials only on ALLOW, with the limit, the i option and the settlement handler', (name) => {
    const dial = indexOf(name, /Dial\(/);
    expect(dial).toBeGreaterThan(0);
    expect(indexOf(name, /GotoIf\(\$\["\$\{DIALGUARD_RESULT\}" != "ALLOW"\]\?denied\)/)).toBeLessThan(dial);
    expect(indexOf(name, /hangup_handler_push\)=dialguard-hangup-ari,s,1/)).toBeLessThan(dial);
    expect(lines(name)[dial]).toMatch(/,iL\(\$\{DIALGUARD_LIMIT_MS\}:60000:30000\)\)$/);
    expect(lines(name).at(-1)).toMatch(/Hangup\(21\)/);
  });

  it('settles from the hangup handler over Stasis, and documents the FastAGI alternative', () => {
    expect(lines('dialguard-hangup-ari')[0]).toBe('exten => s,1,Stasis(${DIALGUARD_ARI_APP},settle,${DIALGUARD_CALL_ID},${ANSWEREDTIME},${DIALSTATUS})');
    expect(lines('dialguard-hangup-ari').at(-1)).toMatch(/Return\(\)/);
    expect(text).toContain(';exten => s,1,AGI(${DIALGUARD_AGI}/settle,${DIALGUARD_CALL_ID},${ANSWEREDTIME},${DIALSTATUS})');
  });

  it('asks with origin voicemail from the voicemail dial-out context', () => {
    expect(lines('dialguard-vm-dialout-ari')[0]).toContain('Gosub(dialguard-authorize-ari,s,1(${EXTEN},voicemail,${CALLERID(num)}))');
  });

  it('no ";" cuts an application line short: every parenthesis opened is closed', () => {
    expect(unbalancedLines(conf)).toEqual([]);
    expect(conf.warnings).toEqual([]);
  });

  it('has its own context names; only [globals] is shared with the FastAGI dialplan (include one of the two)', () => {
    const fastAgi = readShippedDialplan('extensions-dialguard.conf');
    const shared = [...conf.contexts.keys()].filter((c) => fastAgi.contexts.has(c));
    expect(shared).toEqual([]);
    expect(conf.globals.size).toBeGreaterThan(0);
    expect(fastAgi.globals.size).toBeGreaterThan(0);
  });
});
