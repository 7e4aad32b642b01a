import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findExtension, loadDialplan, parseDialplan, unbalancedLines, type Dialplan } from '../support/dialplan/conf.js';
import { evaluateExpression } from '../support/dialplan/expression.js';
import { placeCall, type PlaceCallOptions } from '../support/dialplan/pbx.js';

/** The dialplan double itself: each behaviour as Asterisk's source or the captures in shared/asterisk show it. */

const dir = mkdtempSync(join(tmpdir(), 'dialguard-dialplan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function dialplanOf(...texts: string[]): Dialplan {
  const names = texts.map((text) => {
    const name = `part${++files}.conf`;
    writeFileSync(join(dir, name), text);
    return name;
  });
  const entry = `entry${++files}.conf`;
  writeFileSync(join(dir, entry), names.map((n) => `#include ${n}`).join('\n'));
  return loadDialplan(entry, Object.fromEntries([entry, ...names].map((n) => [n, join(dir, n)])));
}

const PJSIP = { tech: 'PJSIP', endpoint: '1001', remoteAddr: '192.168.1.20:5060', callerId: { num: '1001', name: 'Alice' } } as const;
const call = (dialplan: Dialplan, extra: Partial<PlaceCallOptions> = {}) => placeCall({ dialplan, channel: PJSIP, context: 'test', exten: 's', ...extra });
const verbose = (log: string[]) => log.filter((l) => l.startsWith('VERBOSE app_verbose.c: ')).map((l) => l.slice(23));

describe('the dialplan double reads extensions.conf as pbx_config does', () => {
  it('n, same, labels, \\; and includes; a priority registered twice keeps the first, with both WARNING lines', () => {
    const dp = dialplanOf('[test]\ninclude => other\nexten => s,1,NoOp(a\\;b) ; comment\n same => n(two),NoOp(2)\nexten => s,n,NoOp(3)\n', '[test]\nexten => s,1,NoOp(late)\n[other]\nexten => _9X.,1,NoOp(o)\n');
    const s = findExtension(dp, 'test', 's');
    expect([...(s?.values() ?? [])].map((p) => [p.priority, p.label, p.data])).toEqual([[1, undefined, 'a;b'], [2, 'two', '2'], [3, undefined, '3']]);
    expect(findExtension(dp, 'test', '9123')?.get(1)?.data).toBe('o');
    expect(dp.warnings).toEqual([
      "WARNING pbx.c: Unable to register extension 's' priority 1 in 'test', already in use",
      `WARNING pbx_config.c: Unable to register extension at line 2 of part${files - 1}.conf`,
    ]);
  });

  it('`n` is the previous line’s priority plus one, whatever its extension, counted afresh in each [section]; a missing ")" is warned about', () => {
    const dp = parseDialplan('[test]\nexten => a,1,NoOp()\nexten => b,n,NoOp()\n[other]\nexten => c,1,NoOp(open ; a comment cut it\n');
    expect(findExtension(dp, 'test', 'b')?.get(2)?.app).toBe('NoOp');
    expect(() => parseDialplan('[test]\nexten => a,1,NoOp()\n[other]\nexten => b,n,NoOp()\n')).toThrow(/first entry/);
    expect(dp.warnings).toEqual(["WARNING pbx_config.c: No closing parenthesis found? 'NoOp(open' at line 5 of extensions.conf"]);
    expect(unbalancedLines(dp)).toEqual(['exten => c,1,NoOp(open']);
  });

  it('merges every [globals] section, a later value winning', () => {
    const dp = dialplanOf('[globals]\nA=1\nB = 2\n', '[globals]\nA=3\n[test]\nexten => s,1,NoOp()\n');
    expect(Object.fromEntries(dp.globals)).toEqual({ A: '3', B: '2' });
  });
});

describe('$[...] as ast_expr2 evaluates it', () => {
  it.each([
    ['"" = "ALLOW"', '0'],
    ['"ALLOW" = "ALLOW"', '1'],
    ['"DENY" != "ALLOW"', '1'],
    ['"x" = "xon"', '0'],
    ['3600000 / 1000 + 300 + 5', '3905'],
    ['123456 / 1000 + 65', '188.456'],
    ['0 & 1', '0'],
    ['"" = "YES" & 0 & "1001" != ""', '0'],
    // A quoted operand keeps its quotes (ast_expr2.fl): `""` is two characters, not empty.
    ['"" | 5', '""'],
    ['0 | 5', '5'],
    ['"x" = x', '0'],
    ['"" ? yes :: no', 'no'],
    ['"0911" : "(911|112)$"', ''],
    ['"911" : "(911|112)$"', '911'],
    ['"9911" : "9?(911|112)$"', '911'],
    ['"abc" : "[a-z]+"', '3'],
    ['"x911" =~ "911"', '3'],
    ['1 +', '0'],
    ['10 >= 9', '1'],
    ['!0', '1'],
    ['1 ? yes :: no', 'yes'],
  ])('%s is %s', (expression, value) => {
    expect(evaluateExpression(expression)).toBe(value);
  });
});

describe('substitution and argument splitting as pbx_variables.c and app.c do them', () => {
  it('the end of ${} and $[] is found by counting every brace or bracket inside; substrings; a function that fails substitutes nothing', async () => {
    const dp = parseDialplan(`[test]
exten => s,1,Set(re=[a-z]+)
 same => n,Verbose(1,[$["abc9" : "[a-z]+"]] [$[\${LEN(\${re})} + 1]] [\${re:1:3}] [\${re:-2}] [\${IF(1)}])
`);
    const r = await call(dp);
    expect(verbose(r.log)).toEqual(['[3] [7] [a-z] []+] []']);
  });

  it('each application splits its data as it does in Asterisk: Gosub keeps quotes (RAW args), Dial removes them, Verbose takes the rest as written', async () => {
    const dp = parseDialplan(`[test]
exten => s,1,Gosub(sub,s,1("a,b",c))
 same => n,Dial("PJSIP/1@t",30,L(1000))
[sub]
exten => s,1,Verbose(1,[\${ARG1}] [\${ARG2}] [\${ARGC}], "as written")
 same => n,Return()
`);
    const r = await call(dp);
    expect(verbose(r.log)).toEqual(['["a,b"] [c] [2], "as written"']);
    expect(r.dials[0]).toMatchObject({ dialString: 'PJSIP/1@t', timeout: '30', limitMs: 1000, placed: true });
  });

  it('REGEX("re" string) as func_strings.c: 1 or 0, one space after the quote skipped, \\ removed; an unbalanced ( makes it fail', async () => {
    const dp = parseDialplan(`[test]
exten => s,1,Verbose(1,[\${REGEX("^(911|112)$" 911)}] [\${REGEX("^(911|112)$" 0911)}] [\${REGEX("^ 9" 9)}] [\${REGEX("^ 9"  9)}] [\${REGEX("^[0-9]+$" 112)}] [\${REGEX("^\\d+$" 112)}] [\${REGEX("^(91" 911)}])
`);
    const r = await call(dp);
    expect(verbose(r.log)).toEqual(['[1] [0] [0] [1] [1] [0] []']);
    expect(r.warnings).toEqual([`ERROR func_strings.c: Unexpected arguments: should have been in the form '"<regex>" <string>'`]);
  });

  it('TIMEOUT(absolute) as func_timeout.c: read back as the seconds left with three decimals, cancelled by 0 or by text', async () => {
    const dp = parseDialplan(`[test]
exten => s,1,Set(TIMEOUT(absolute)=5)
 same => n,Verbose(1,[\${TIMEOUT(absolute)}])
 same => n,Set(TIMEOUT(absolute)=abc)
 same => n,Verbose(1,[\${TIMEOUT(absolute)}])
`);
    const r = await call(dp);
    expect(verbose(r.log)).toEqual([expect.stringMatching(/^\[4\.9\d\d\]$/), '[0]']);
    expect(r.log).toContain('VERBOSE func_timeout.c: Channel hangup cancelled.');
    expect(r.timeouts.map((t) => [t.value, t.at])).toEqual([['5', 's@test:1'], ['abc', 's@test:3']]);
  });
});

describe('applications as Asterisk runs them', () => {
  it('a call that runs out of priorities ends with cause 0 (603 Decline, dialplan-deadline.md 903); Hangup() keeps a cause already set, else 16', async () => {
    const dp = parseDialplan(`[test]
exten => s,1,NoOp()
exten => d,1,Dial(PJSIP/1@t,30)
 same => n,Hangup()
exten => e,1,Hangup()
`);
    const fell = await call(dp);
    expect([fell.hangupCause, fell.final]).toEqual([0, '603 Decline']);
    expect(fell.log.at(-1)).toBe("VERBOSE pbx.c: Auto fallthrough, channel 'PJSIP/1001-00000001' status is 'UNKNOWN'");
    const busy = await call(dp, { exten: 'd', dial: () => ({ status: 'BUSY' }) });
    expect(busy.hangupCause).toBe(17);
    expect((await call(dp, { exten: 'e' })).hangupCause).toBe(16);
  });

  it('Macro(): MACRO_CONTEXT is the caller, ARGn and MACRO_* are restored, it returns when its steps end or at MacroExit()', async () => {
    const dp = dialplanOf(`[test]
exten => s,1,Set(ARG1=outer)
 same => n,Macro(m,inner)
 same => n,Verbose(1,after [\${ARG1}] [\${MACRO_CONTEXT}] [\${MACRO_DEPTH}])
 same => n,Macro(early)
 same => n,Verbose(1,done)
[macro-m]
exten => s,1,Verbose(1,in [\${ARG1}] [\${MACRO_CONTEXT}] [\${MACRO_EXTEN}] [\${MACRO_DEPTH}])
 same => n,Gosub(sub,s,1)
 same => n,Verbose(1,back in the macro)
[sub]
exten => s,1,Return()
[macro-early]
exten => s,1,MacroExit()
 same => n,Verbose(1,not reached)
`);
    const r = await call(dp);
    expect(verbose(r.log)).toEqual(['in [inner] [test] [s] [1]', 'back in the macro', 'after [outer] [] [0]', 'done']);
  });

  it('Gosub(): LOCAL() and ARGn are the routine’s own and gone after Return(); Return() without Gosub hangs up', async () => {
    const dp = dialplanOf(`[test]
exten => s,1,Set(x=caller)
 same => n,Gosub(sub,s,1(a,b))
 same => n,Verbose(1,[\${x}] [\${ARG1}] [\${GOSUB_RETVAL}])
 same => n,Return()
 same => n,Verbose(1,not reached)
[sub]
exten => s,1,Set(LOCAL(x)=local)
 same => n,Gosub(sub2,s,1(only))
 same => n,Return(r)
[sub2]
exten => s,1,Verbose(1,[\${x}] [\${ARG1}] [\${ARG2}] [\${ARGC}])
 same => n,Return()
`);
    const r = await call(dp);
    expect(verbose(r.log)).toEqual(['[local] [only] [] [1]', '[caller] [] [r]']);
    expect(r.warnings).toEqual(['ERROR app_stack.c: Return without Gosub: stack is empty']);
  });

  it('without app_macro (Asterisk 21+) Macro() is no application: the call hangs up; ExecIf looks up only the branch it runs', async () => {
    const dp = dialplanOf(`[test]
exten => s,1,ExecIf(0?MacroExit():NoOp())
 same => n,ExecIf(1?MacroExit():NoOp())
`);
    const r = await call(dp, { appMacro: false });
    expect(r.warnings).toEqual(['WARNING app_exec.c: Could not find application! (MacroExit)']);
    expect(r.log.at(-1)).toBe("VERBOSE pbx.c: Spawn extension (test, s, 2) exited non-zero on 'PJSIP/1001-00000001'");
  });

  it('Dial(): L(0) does not dial (dialplan-facts.md); an answered call without g ends the dialplan, then hangup handlers run', async () => {
    const dp = dialplanOf(`[test]
exten => s,1,Dial(PJSIP/1@t,30,L(0))
exten => a,1,Set(CHANNEL(hangup_handler_push)=hh,s,1(x))
 same => n,Dial(PJSIP/1@t,30,iL(3000:60000:30000))
 same => n,Verbose(1,not reached)
[hh]
exten => s,1,Verbose(1,handler [\${ARG1}] [\${DIALSTATUS}] [\${ANSWEREDTIME}] [\${HANGUPCAUSE}])
 same => n,Return()
`);
    const refused = await call(dp);
    expect(refused.dials.map((d) => d.outcome)).toEqual(['refused']);
    expect(refused.warnings).toEqual(['WARNING features.c: Bridge does not accept L(0)']);
    const answered = await call(dp, { exten: 'a', dial: () => ({ status: 'ANSWER', answeredSeconds: 4 }) });
    expect(answered.dials[0]?.flags).toEqual([{ flag: 'i' }, { flag: 'L', arg: '3000:60000:30000' }]);
    expect(verbose(answered.log)).toEqual(['handler [x] [ANSWER] [4] [16]']);
    expect(answered.handlers.map((h) => h.location)).toEqual(['hh,s,1(x)']);
  });
});
