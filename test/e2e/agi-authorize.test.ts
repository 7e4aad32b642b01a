import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../ari/fixture.js';
import { authorizeEnv, playAsteriskSession, settleEnv, type AsteriskTranscript } from '../support/asterisk-agi.js';
import { lockExtension, seedPolicy } from '../support/seed.js';
import { logLines, startServe, type ServeProcess } from '../support/serve-process.js';

/**
 * A real `dialguard serve` on a random port and a temporary database, driven by the
 * Asterisk double exactly as Asterisk 22 drives it (one write per environment line, replies
 * in lock step, HANGUP after the server's FIN).
 */
let dir: string;
let db: string;
let serve: ServeProcess;

const LAN = '192.168.1.20:5060';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dialguard-e2e-'));
  db = join(dir, 'dialguard.db');
  await seedPolicy(db, {
    defaults: {
      destinations: { allowCountries: ['US', 'CA', 'GB'], blockedPrefixes: ['+1212555'] },
      budget: { dailySpend: 25, monthlySpend: 300, dailyMinutes: 600, maxConcurrent: 2, maxCallSeconds: 3600 },
    },
    extensions: {
      '1001': {},
      anywhere: { destinations: { allowCountries: ['*'] } },
      nights: { schedule: { appliesTo: 'all', windows: [{ days: ['mon'], from: '00:00', to: '00:01' }] } },
      disabled: { enabled: false },
      locked: {},
      vm: { voicemailCallout: 'domestic' },
      busy: { budget: { maxConcurrent: 1 } },
      'busy-hangup': { budget: { maxConcurrent: 1 } },
      broke: { budget: { dailySpend: 0 } },
      brokemonth: { budget: { monthlySpend: 0 } },
      nominutes: { budget: { dailyMinutes: 0 } },
      open: { geofence: { allowCountries: ['*'] } },
      cheap: { budget: { dailySpend: 1.2, maxCallSeconds: 3600 } },
    },
    rates: [
      { prefix: '+', perMinute: 1, increment: 60 },
      { prefix: '+1', perMinute: 0.02, increment: 60 },
      { prefix: '+44', perMinute: 0.1, increment: 60 },
    ],
    site: { denyUnknownExtensions: false },
  });
  await lockExtension(db, 'locked', 'password leaked');
  serve = await startServe(db);
});

afterAll(async () => {
  await serve?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function authorize(ext: string, number: string, source = LAN, origin = 'phone', extra: Partial<Parameters<typeof playAsteriskSession>[0]> = {}) {
  return playAsteriskSession({ port: serve.agiPort, env: authorizeEnv({ ext, number, source, origin }), ...extra });
}

const vars = (t: AsteriskTranscript) => Object.fromEntries(t.variables);

describe('FastAGI /authorize against dialguard serve', () => {
  it('allows a call to London and sets every channel variable, then closes like the capture', async () => {
    const t = await authorize('1001', '011442079460000');
    expect(vars(t)).toMatchObject({
      DIALGUARD_RESULT: 'ALLOW',
      DIALGUARD_REASON: 'allowed',
      DIALGUARD_MESSAGE: 'Call to United Kingdom allowed, limit 60 min',
      DIALGUARD_LIMIT_MS: '3600000',
      DIALGUARD_E164: '+442079460000',
      DIALGUARD_COUNTRY: 'GB',
    });
    expect(vars(t).DIALGUARD_CALL_ID).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    // DIALGUARD_RESULT last: an answer cut off half-way leaves it empty, and the dialplan fails closed.
    expect(t.commands.map((c) => c.args.slice(0, 3).join(' '))).toEqual(
      ['REASON', 'MESSAGE', 'LIMIT_MS', 'CALL_ID', 'E164', 'COUNTRY', 'RESULT'].map((v) => `SET VARIABLE DIALGUARD_${v}`),
    );
    expect(t.violations).toEqual([]);
    expect(t.end).toBe('server-fin');
    expect(t.hangupsSent).toBe(1);
  });

  it.each([
    ['jamaica (+1 876 is another country)', '1001', '18765551234', LAN, 'phone', 'destination_country_denied'],
    ['a 1-900 premium number', '1001', '19002345678', LAN, 'phone', 'destination_type_denied'],
    ['Cuba from an extension allowed anywhere', 'anywhere', '0115352123456', LAN, 'phone', 'destination_high_risk'],
    ['a blocked prefix', '1001', '12125550123', LAN, 'phone', 'destination_prefix_blocked'],
    ['outside the schedule', 'nights', '13125550123', LAN, 'phone', 'outside_schedule'],
    ['a source in Germany', '1001', '13125550123', '80.128.0.1:5060', 'phone', 'source_country_denied'],
    ['a source with no country outside the LAN', '1001', '13125550123', '100.64.0.1:5060', 'phone', 'source_not_allowed'],
    ['no source address', '1001', '13125550123', '', 'phone', 'source_unknown'],
    ['a voicemail dial-out', '1001', '13125550123', LAN, 'voicemail', 'voicemail_callout_denied'],
    ['a premium voicemail dial-out under domestic', 'vm', '19002345678', LAN, 'voicemail', 'destination_type_denied'],
    ['a disabled extension', 'disabled', '13125550123', LAN, 'phone', 'extension_disabled'],
    ['a locked extension', 'locked', '13125550123', LAN, 'phone', 'extension_locked'],
    ['an invalid number', '1001', '12345', LAN, 'phone', 'number_invalid'],
    ['a spent daily budget', 'broke', '13125550123', LAN, 'phone', 'budget_daily_spend'],
    ['a spent monthly budget', 'brokemonth', '13125550123', LAN, 'phone', 'budget_monthly_spend'],
    ['no daily minutes', 'nominutes', '13125550123', LAN, 'phone', 'budget_daily_minutes'],
  ])('denies %s', async (_name, ext, number, source, origin, reason) => {
    const t = await authorize(ext, number, source, origin);
    expect(vars(t)).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: reason, DIALGUARD_LIMIT_MS: '0' });
    // The variables only: the dialplan logs the denial itself.
    expect(t.commands.map((c) => c.args[0])).toEqual(t.commands.map(() => 'SET'));
    expect(t.violations).toEqual([]);
  });

  it('allows 911 from a locked extension in Germany with reason emergency', async () => {
    const t = await authorize('locked', '911', '80.128.0.1:5060');
    expect(vars(t)).toMatchObject({ DIALGUARD_RESULT: 'ALLOW', DIALGUARD_REASON: 'emergency' });
    expect(Number(vars(t).DIALGUARD_LIMIT_MS)).toBeGreaterThan(0);
  });

  it('denies the second concurrent call with budget_concurrency', async () => {
    expect(vars(await authorize('busy', '13125550123')).DIALGUARD_RESULT).toBe('ALLOW');
    expect(vars(await authorize('busy', '13125550123')).DIALGUARD_REASON).toBe('budget_concurrency');
  });

  it('answers an unknown path with DENY guard_error, logs it and counts it for the guard_error alert', async () => {
    const guardErrors = async (): Promise<string | undefined> => {
      const res = await fetch(`http://127.0.0.1:${serve.httpPort}/metrics`, { headers: { authorization: `Bearer ${serve.adminToken}` } });
      return (await res.text()).split('\n').find((line) => line.startsWith('dialguard_guard_errors_total{transport="agi"}'));
    };
    // At 0 before the first one: Prometheus's increase() then sees the first guard_error.
    expect(await guardErrors()).toBe('dialguard_guard_errors_total{transport="agi"} 0');
    const env = authorizeEnv({ ext: '1001', number: '13125550123', source: LAN, origin: 'phone' }).map(([k, v]) =>
      k === 'agi_network_script' ? ([k, 'authorise'] as [string, string]) : ([k, v] as [string, string]),
    );
    const t = await playAsteriskSession({ port: serve.agiPort, env });
    expect(vars(t)).toMatchObject({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'guard_error', DIALGUARD_LIMIT_MS: '0' });
    // serve's log reaches this process through a pipe, written asynchronously: it may land after the session's FIN.
    await until(() => logLines(serve.output).some((l) => l.msg === 'AGI request for an unknown path'), 5000, 'the unknown path logged');
    expect(await guardErrors()).toBe('dialguard_guard_errors_total{transport="agi"} 1');
  });

  it('logs one structured line per decision, without secrets', async () => {
    const t = await authorize('logged', '13125550123');
    const callId = vars(t).DIALGUARD_CALL_ID;
    await new Promise((r) => setTimeout(r, 50));
    const line = logLines(serve.output).find((l) => l.callId === callId && l.msg === 'decision');
    expect(line).toMatchObject({ extension: 'logged', e164: '+13125550123', country: 'US', result: 'ALLOW', reason: 'allowed', channel: 'PJSIP/logged-00000001' });
    expect(typeof line?.latencyMs).toBe('number');
  });
});

describe('settlement from the hangup handler', () => {
  it('replaces the reservation with the real cost, so the next call gets a longer limit', async () => {
    // 1.20 a day at 0.02/min: 60 minutes, all of it reserved by the first call.
    const first = await authorize('cheap', '13125550123');
    expect(vars(first).DIALGUARD_LIMIT_MS).toBe('3600000');
    expect(vars(await authorize('cheap', '13125550123')).DIALGUARD_REASON).toBe('budget_daily_spend');

    // The call lasted 10 minutes: 0.20 spent, 1.00 back.
    const settle = await playAsteriskSession({
      port: serve.agiPort,
      env: settleEnv({ callId: vars(first).DIALGUARD_CALL_ID as string, answeredTime: '600', dialStatus: 'ANSWER' }),
      deadChannel: true,
    });
    expect(vars(settle).DIALGUARD_SETTLED).toBe(`settled ${vars(first).DIALGUARD_CALL_ID}`);
    expect(settle.end).toBe('server-fin');

    expect(vars(await authorize('cheap', '13125550123')).DIALGUARD_LIMIT_MS).toBe(String(50 * 60_000));
  });

  it('an unknown or repeated call id is harmless', async () => {
    const t = await playAsteriskSession({ port: serve.agiPort, env: settleEnv({ callId: 'NOPE', answeredTime: '', dialStatus: 'BUSY' }), deadChannel: true });
    expect(vars(t).DIALGUARD_SETTLED).toBe('unknown NOPE');
  });
});

describe('a caller hanging up while the guard decides', () => {
  it('the decision is still set on the dead channel (SET VARIABLE works there) and the session ends', async () => {
    const t = await authorize('hangup-1', '13125550123', LAN, 'phone', { hangupAfterMs: 0, replyDelayMs: 5 });
    expect(t.hangupsSent).toBe(2);
    expect(vars(t).DIALGUARD_RESULT).toBe('ALLOW');
    expect(t.violations).toEqual([]);
  });

  it('gives the reservation back at once: the dialplan will neither dial nor settle a hung-up call', async () => {
    // 'busy-hangup' may have one call at a time.
    const first = await authorize('busy-hangup', '13125550123', LAN, 'phone', { hangupAfterMs: 0, replyDelayMs: 5 });
    expect(vars(first).DIALGUARD_RESULT).toBe('ALLOW');
    await new Promise((r) => setTimeout(r, 50));
    expect(vars(await authorize('busy-hangup', '13125550123')).DIALGUARD_RESULT).toBe('ALLOW');
  });

  it('with AGIEXITONHANGUP=yes Asterisk drops the socket and the guard does not hang or crash', async () => {
    const t = await authorize('hangup-2', '13125550123', LAN, 'phone', { hangupAfterMs: 0, exitOnHangup: true, replyDelayMs: 20 });
    expect(t.end).toBe('asterisk-exit');
    // The guard keeps serving.
    expect(vars(await authorize('hangup-3', '13125550123')).DIALGUARD_RESULT).toBe('ALLOW');
  });
});

describe('injection attempts', () => {
  const nasty = ['1001" EXEC Dial "PJSIP/evil', '1001\\" NOOP', 'a"b\\c', '1001 EXEC Dial PJSIP/x'];
  it.each(nasty)('an extension %j cannot add a command or break a value', async (ext) => {
    const t = await authorize(ext, '19002345678');
    // Every command is exactly SET VARIABLE NAME VALUE or VERBOSE TEXT LEVEL, as Asterisk splits it.
    for (const c of t.commands) {
      if (c.args[0] === 'SET') expect(c.args).toHaveLength(4);
      else expect(c.args).toEqual(['VERBOSE', expect.stringContaining(ext), '1']);
    }
    expect(vars(t).DIALGUARD_RESULT).toBe('DENY');
    expect(t.violations).toEqual([]);
  });

  it('a dialled number or source full of quotes and backslashes cannot either', async () => {
    const t = await authorize('1001', '1900"2345678\\', '"; EXEC Dial x', 'voice"mail');
    for (const c of t.commands) expect(c.args).toHaveLength(c.args[0] === 'SET' ? 4 : 3);
    expect(vars(t).DIALGUARD_RESULT).toBe('DENY');
  });
});
