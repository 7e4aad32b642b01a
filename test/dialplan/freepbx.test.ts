import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appLogLine, type DialOutcome } from '../support/dialplan/applications.js';
import { loadDialplan, type ConfigFiles } from '../support/dialplan/conf.js';
import { placeCall, type CallRecord } from '../support/dialplan/pbx.js';
import { repoRoot } from '../support/captures.js';
import { seedPolicy } from '../support/seed.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import { refusedPort, startMuteGuard, type MuteGuard } from '../support/unanswering-guards.js';

/**
 * dialplan/freepbx/extensions_custom.conf run inside FreePBX's own generated outbound
 * dialplan (the doubles in test/support/freepbx/, rendered from FreePBX's core module source),
 * against a real `dialguard serve` over FastAGI. FreePBX 16 runs on an Asterisk with app_macro;
 * FreePBX 17 on Asterisk 21+, which has none.
 */

const LAN = '192.168.1.20:5060';
const FREEPBX = resolve(repoRoot, 'test/support/freepbx');

let dir: string;
let serve: ServeProcess;
let mute: MuteGuard;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dialguard-freepbx-'));
  const db = join(dir, 'dialguard.db');
  await seedPolicy(db, {
    defaults: { budget: { dailySpend: 25, monthlySpend: 300, dailyMinutes: 600, maxConcurrent: 2, maxCallSeconds: 3600 } },
    rates: [{ prefix: '+1', perMinute: 0.02, increment: 60 }],
    site: { denyUnknownExtensions: false },
  });
  [serve, mute] = await Promise.all([startServe(db), startMuteGuard()]);
});

afterAll(async () => {
  await Promise.all([serve?.stop(), mute?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

/** /etc/asterisk of a FreePBX of that version with the snippet pasted into extensions_custom.conf. */
function etcAsterisk(version: 16 | 17, custom = resolve(repoRoot, 'dialplan/freepbx/extensions_custom.conf')): ConfigFiles {
  return {
    'extensions.conf': join(FREEPBX, String(version), 'extensions.conf'),
    'extensions_additional.conf': join(FREEPBX, String(version), 'extensions_additional.conf'),
    'extensions_override_freepbx.conf': join(FREEPBX, 'extensions_override_freepbx.conf'),
    'extensions_custom.conf': custom,
    'extensions-dialguard.conf': resolve(repoRoot, 'dialplan/extensions-dialguard.conf'),
  };
}

interface Call {
  version: 16 | 17;
  /** The outbound route's context. Default outrt-1. */
  route?: string;
  /** What the phone dialled into that route (9 for an outside line on route 1). */
  dialled: string;
  ampuser: string;
  dial?: (dialString: string) => DialOutcome;
  agi?: string;
  /** [globals] as the admin set them (DIALGUARD_DEADLINE, DIALGUARD_FAIL_OPEN). */
  globals?: Record<string, string>;
  files?: ConfigFiles;
}

function call({ version, route = 'outrt-1', dialled, ampuser, dial, agi, globals, files }: Call): Promise<CallRecord> {
  return placeCall({
    dialplan: loadDialplan('extensions.conf', files ?? etcAsterisk(version)),
    appMacro: version === 16,
    channel: { tech: 'PJSIP', endpoint: ampuser, remoteAddr: LAN, callerId: { num: ampuser, name: 'Alice' } },
    variables: { AMPUSER: ampuser },
    context: route,
    exten: dialled,
    globals: { DIALGUARD_AGI: agi ?? `agi://127.0.0.1:${serve.agiPort}`, ...globals },
    dial: (request) => (dial ? dial(request.dialString) : { status: 'ANSWER', answeredSeconds: 42 }),
  });
}

const authorizations = (r: CallRecord) => r.agi.filter((a) => a.url.endsWith('/authorize'));
const settlements = (r: CallRecord) => r.agi.filter((a) => a.url.endsWith('/settle'));


describe.each([16, 17] as const)('FreePBX %i: the predial hook', (version) => {
  it('replaces FreePBX’s empty hook: Asterisk keeps the first s,1 it reads, the one in extensions_custom.conf', () => {
    const dialplan = loadDialplan('extensions.conf', etcAsterisk(version));
    expect(dialplan.warnings).toEqual([
      "WARNING pbx.c: Unable to register extension 's' priority 1 in 'macro-dialout-trunk-predial-hook', already in use",
      'WARNING pbx_config.c: Unable to register extension at line 11 of extensions.conf',
    ]);
    expect(dialplan.contexts.get('macro-dialout-trunk-predial-hook')?.extensions.get('s')?.get(1)).toMatchObject({
      app: 'Gosub',
      data: 'dialguard-freepbx-trunk,s,1',
      file: 'extensions_custom.conf',
    });
  });

  it('authorises AMPUSER to OUTNUM, and an ALLOW reaches the trunk Dial with iL() appended and the settlement handler pushed', async () => {
    const ext = `${version}01`;
    const r = await call({ version, dialled: '93125550123', ampuser: ext });
    // The route strips the 9 and prepends 1: the trunk is dialled with OUTNUM, and that is what the guard judged.
    expect(authorizations(r).map((a) => a.args)).toEqual([[ext, '13125550123', LAN, 'phone']]);
    const [authorize] = authorizations(r);
    expect(authorize?.variables.get('DIALGUARD_RESULT')).toBe('ALLOW');
    expect(authorize?.variables.get('DIALGUARD_LIMIT_MS')).toBe('3600000');
    expect(r.dials).toHaveLength(1);
    expect(r.dials[0]).toMatchObject({
      dialString: 'PJSIP/13125550123@carrier-a',
      timeout: '300',
      options: 'TiL(3600000:60000:30000)b(func-apply-sipheaders^s^1,(1))',
      at: { context: version === 16 ? 'macro-dialout-trunk' : 'trunk-dial-with-exten' },
    });
    expect(r.dials[0]?.variables).toMatchObject({ OUTNUM: '13125550123', DIAL_NUMBER: '13125550123' });
    expect(r.dials[0]?.variables.PREDIAL_HOOK_RET).toBeUndefined();
    // The backstop: the limit plus the Trunk Dial Timeout plus 5 s, armed by the hook, running during Dial.
    expect(r.timeouts.at(-1)).toMatchObject({ value: '3905', at: expect.stringMatching(/^s@dialguard-freepbx-trunk:/) });
    expect(r.dials[0]?.absoluteTimeoutS).toBeGreaterThan(3900);
    // Answered 42 s; the caller hangs up after the bridge, the handler settles the real duration.
    expect(r.handlers.map((h) => h.location)).toEqual(['dialguard-hangup,s,1']);
    const callId = authorize?.variables.get('DIALGUARD_CALL_ID');
    expect(settlements(r).map((s) => [s.args, s.deadChannel])).toEqual([[[callId, '42', 'ANSWER'], true]]);
    expect(r.finalVariables.DIALGUARD_SETTLED).toBe(`settled ${callId}`);
    expect(r.warnings).toEqual([]);
  });

  it('on a DENY sets BYPASS and rejects the call with cause 21: no trunk is dialled, the next one is not tried', async () => {
    const ext = `${version}02`;
    const r = await call({ version, dialled: '9011442079460000', ampuser: ext });
    expect(authorizations(r).map((a) => a.args)).toEqual([[ext, '011442079460000', LAN, 'phone']]);
    expect(r.finalVariables.DIALGUARD_REASON).toBe('destination_country_denied');
    expect(r.dials).toEqual([]);
    expect(r.finalVariables.PREDIAL_HOOK_RET).toBe('BYPASS');
    expect(r.hangupCause).toBe(21);
    expect(r.media).toEqual(['Progress()', 'Playback(ss-noservice,noanswer)']);
    expect(r.log).toContain(`VERBOSE app_verbose.c: dialguard denied 011442079460000 for ${ext} on PJSIP/${ext}-00000001: destination_country_denied (${r.finalVariables.DIALGUARD_MESSAGE})`);
    expect(r.log.filter((l) => l.startsWith('VERBOSE res_agi.c: agi://'))).toEqual([]);
    expect(r.handlers).toEqual([]);
  });

  it('fails closed when the guard is down: guard_error, BYPASS, cause 21, no Dial', async () => {
    const { port, url } = await refusedPort();
    const r = await call({ version, dialled: '93125550123', ampuser: `${version}03`, agi: url });
    expect(r.finalVariables).toMatchObject({ AGISTATUS: 'FAILURE', DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'guard_error', PREDIAL_HOOK_RET: 'BYPASS' });
    expect(r.dials).toEqual([]);
    expect(r.hangupCause).toBe(21);
    expect(r.warnings).toEqual([
      `WARNING res_agi.c: Connecting to '127.0.0.1:${port}' failed for url 'agi://127.0.0.1:${port}/authorize': Connection refused`,
      "WARNING res_agi.c: Couldn't connect to any host.  FastAGI failed.",
      expect.stringMatching(/^WARNING Ext\. s:\d+ @ dialguard-authorize: dialguard did not answer \(AGISTATUS=FAILURE\)/),
    ]);
  });

  it('on failover to the next trunk settles the first decision, asks again for that trunk, and keeps one handler', async () => {
    const ext = `${version}04`;
    const r = await call({ version, dialled: '93125550123', ampuser: ext, dial: (to) => (to.endsWith('@carrier-a') ? { status: 'CHANUNAVAIL' } : { status: 'ANSWER', answeredSeconds: 7 }) });
    expect(r.dials.map((d) => [d.dialString, d.options])).toEqual([
      ['PJSIP/13125550123@carrier-a', 'TiL(3600000:60000:30000)b(func-apply-sipheaders^s^1,(1))'],
      ['PJSIP/13125550123@carrier-b', 'TiL(3600000:60000:30000)b(func-apply-sipheaders^s^1,(2))'],
    ]);
    const [first, second] = authorizations(r).map((a) => a.variables.get('DIALGUARD_CALL_ID'));
    expect(first).not.toBe(second);
    // The first decision is settled before the second trunk is asked for, on the live channel.
    expect(r.agi.map((a) => [a.url.split('/').pop(), a.args[0], a.deadChannel])).toEqual([
      ['authorize', ext, false],
      ['settle', first, false],
      ['authorize', ext, false],
      ['settle', second, true],
    ]);
    expect(settlements(r).map((s) => s.args.slice(1))).toEqual([['', 'CHANUNAVAIL'], ['7', 'ANSWER']]);
    expect(settlements(r).map((s) => s.variables.get('DIALGUARD_SETTLED'))).toEqual([`settled ${first}`, `settled ${second}`]);
    expect(r.handlers.map((h) => h.location)).toEqual(['dialguard-hangup,s,1']);
  });
});

describe.each([16, 17] as const)('FreePBX %i: a guard that accepts and never answers', (version) => {
  const deadline = { DIALGUARD_DEADLINE: '1' };

  it('DIALGUARD_FAIL_OPEN=no: the T extension of [dialguard-authorize] denies, its Return() reaches the hook, which rejects the call: BYPASS, cause 21, no trunk dialled', async () => {
    const r = await call({ version, dialled: '93125550123', ampuser: `${version}06`, agi: mute.url, globals: deadline });
    expect(authorizations(r).map((a) => [a.args[1], a.status])).toEqual([['13125550123', 'HANGUP']]);
    expect(r.executed).toContain('T@dialguard-authorize:1');
    expect(r.warnings).toContainEqual(expect.stringMatching(appLogLine('WARNING', 'T', 'dialguard-authorize', `dialguard did not answer within 1 s (AGISTATUS=HANGUP) for ${version}06 -> 13125550123`)));
    expect(r.finalVariables).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'guard_error', DIALGUARD_CALL_ID: '', PREDIAL_HOOK_RET: 'BYPASS' });
    expect(r.dials).toEqual([]);
    expect(r.media).toEqual(['Progress()', 'Playback(ss-noservice,noanswer)']);
    expect(r.hangupCause).toBe(21);
    expect(r.final).toBe('403 Forbidden');
    expect(r.handlers).toEqual([]);
  });

  it('DIALGUARD_FAIL_OPEN=yes: the call goes out on the trunk, limited to DIALGUARD_FAIL_OPEN_LIMIT_MS, with nothing to settle', async () => {
    const r = await call({ version, dialled: '93125550123', ampuser: `${version}07`, agi: mute.url, globals: { ...deadline, DIALGUARD_FAIL_OPEN: 'yes' } });
    expect(r.executed).toContain('T@dialguard-authorize:1');
    expect(r.dials.map((d) => [d.dialString, d.options, d.placed])).toEqual([['PJSIP/13125550123@carrier-a', 'TiL(600000:60000:30000)b(func-apply-sipheaders^s^1,(1))', true]]);
    expect(r.dials[0]?.variables).toMatchObject({ DIALGUARD_RESULT: 'ALLOW', DIALGUARD_REASON: 'guard_error', DIALGUARD_CALL_ID: '' });
    expect(r.dials[0]?.absoluteTimeoutS).toBeGreaterThan(900);
    expect(r.final).toBe('BYE');
    expect(r.handlers).toEqual([]);
  });
});

describe.each([16, 17] as const)('FreePBX %i: an emergency number and a guard that does not answer', (version) => {
  let routes: string;
  beforeAll(() => {
    routes = mkdtempSync(join(tmpdir(), 'dialguard-freepbx-911-'));
    const [callerId, trunk, busy] =
      version === 16
        ? ['Macro(user-callerid,LIMIT,EXTERNAL,)', (n: number) => `Macro(dialout-trunk,${n},\${EXTEN},,off)`, 'Macro(outisbusy,)']
        : ['Gosub(macro-user-callerid,s,1(LIMIT,EXTERNAL))', (n: number) => `Gosub(macro-dialout-trunk,s,1(${n},\${EXTEN},,off))`, 'Gosub(macro-outisbusy,s,1())'];
    // STAND-IN for the site's emergency route: a second route for 911 with trunks 1 then 2 and no
    // prefix or prepend, written like [outrt-1], so that the trunk is sent OUTNUM=911.
    const text = [`[outrt-2]`, `exten => 911,1,${callerId}`, 'exten => 911,n,Set(_ROUTEID=2)', `exten => 911,n,${trunk(1)}`, `exten => 911,n,${trunk(2)}`, `exten => 911,n,${busy}`, ''].join('\n');
    writeFileSync(join(routes, 'extensions_override_freepbx.conf'), text);
  });
  afterAll(() => rmSync(routes, { recursive: true, force: true }));

  const emergencyCall = (ampuser: string, agi: string, globals: Record<string, string> = {}) =>
    call({ version, route: 'outrt-2', dialled: '911', ampuser, agi, globals, files: { ...etcAsterisk(version), 'extensions_override_freepbx.conf': join(routes, 'extensions_override_freepbx.conf') } });

  function expectDialledUnchecked(r: CallRecord, ampuser: string): void {
    expect(r.dials.map((d) => [d.dialString, d.options])).toEqual([['PJSIP/911@carrier-a', `TiL(14400000:60000:30000)b(func-apply-sipheaders^s^1,(1))`]]);
    expect(r.dials[0]?.variables).toMatchObject({ DIALGUARD_RESULT: 'ALLOW', DIALGUARD_REASON: 'emergency', DIALGUARD_CALL_ID: '' });
    expect(r.warnings).toContainEqual(expect.stringMatching(appLogLine('WARNING', 's', 'dialguard-authorize', `dialguard did not answer - 911 is an emergency number - allowed unchecked for ${ampuser}`)));
    expect(r.final).toBe('BYE');
    expect(r.handlers).toEqual([]);
  }

  it('guard down: 911 goes out on the trunk, unchecked, with the emergency limit', async () => {
    const { url } = await refusedPort();
    const r = await emergencyCall(`${version}08`, url);
    expect(authorizations(r).map((a) => [a.args[1], a.status])).toEqual([['911', 'FAILURE']]);
    expectDialledUnchecked(r, `${version}08`);
  });

  it('a guard that never answers: after the deadline’s T, 911 goes out on the trunk all the same', async () => {
    const r = await emergencyCall(`${version}09`, mute.url, { DIALGUARD_DEADLINE: '1' });
    expect(r.executed).toContain('T@dialguard-authorize:1');
    expectDialledUnchecked(r, `${version}09`);
  });
});

describe('why the hook ends the way it does', () => {
  let custom: string;
  beforeAll(() => {
    custom = mkdtempSync(join(tmpdir(), 'dialguard-freepbx-hook-'));
  });
  afterAll(() => rmSync(custom, { recursive: true, force: true }));

  /** The shipped snippet with the hook's last line replaced. */
  function hookEndingWith(line: string): ConfigFiles {
    const path = join(custom, `${line.replace(/\W/g, '')}.conf`);
    const text = readFileSync(resolve(repoRoot, 'dialplan/freepbx/extensions_custom.conf'), 'utf8').replace(/^ same => n,ExecIf\(\$\["\$\{MACRO_CONTEXT\}".*$/m, ` same => n,${line}`);
    writeFileSync(path, text);
    return { 'extensions_custom.conf': path };
  }

  it.each([
    [16, 'Return()', 'ERROR app_stack.c: Return without Gosub: stack is empty'],
    [17, 'MacroExit()', "WARNING pbx.c: No application 'MacroExit' for extension (macro-dialout-trunk-predial-hook, s, 2)"],
  ] as const)('FreePBX %i with a hook ending in %s hangs up every allowed call before Dial', async (version, line, warning) => {
    const r = await call({ version, dialled: '93125550123', ampuser: `${version}05`, files: { ...etcAsterisk(version), ...hookEndingWith(line) } });
    expect(r.finalVariables.DIALGUARD_RESULT).toBe('ALLOW');
    expect(r.dials).toEqual([]);
    expect(r.warnings).toContain(warning);
  });
});
