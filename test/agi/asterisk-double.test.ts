/**
 * The Asterisk double against the recordings: a hand-driven "recording server" sends what the
 * recording server sent, and the double must answer what Asterisk 22 answered.
 */
import net, { type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReplyReader } from '../../src/agi/protocol.js';
import {
  AgiConnectTimeout,
  agiEnv,
  authorizeEnv,
  MAX_AGI_CONNECT_MS,
  playAsteriskSession,
  settleEnv,
  type PlayAsteriskOptions,
} from '../support/asterisk-agi.js';
import { environmentText, loadCapture, loadText } from '../support/captures.js';
import { refusedPort, startStalledPort } from '../support/unanswering-guards.js';
import { LineQueue, listen, type Listener } from './wire.js';

const pjsip = loadCapture('agi-authorize-pjsip.json');
const local = loadCapture('agi-authorize-local.json');
const settle = loadCapture('agi-settle-hangup-handler.json');
const commandsErrors = loadCapture('agi-commands-errors.json');
const callerHangup = loadCapture('agi-caller-hangup.json');

/** The recording server's side of one session, driven by the test. */
class Recorder {
  constructor(
    readonly socket: Socket,
    readonly lines: LineQueue,
  ) {}

  async environment(): Promise<string[]> {
    const env: string[] = [];
    for (let line = await this.lines.next(); line !== ''; line = await this.lines.next()) {
      if (line === undefined) throw new Error('closed inside the environment');
      env.push(line);
    }
    return env;
  }

  /** Sends one command; returns the reply lines and the HANGUP lines that came before it. */
  async command(line: string): Promise<{ hangups: number; reply: string[] }> {
    this.socket.write(line);
    return this.reply();
  }

  async reply(): Promise<{ hangups: number; reply: string[] }> {
    const reader = new ReplyReader();
    const reply: string[] = [];
    let hangups = 0;
    for (;;) {
      const line = await this.lines.next();
      if (line === undefined) throw new Error('closed before the reply');
      const inbound = reader.push(line);
      if (inbound?.kind === 'hangup') {
        hangups++;
        continue;
      }
      reply.push(line);
      if (inbound) return { hangups, reply };
    }
  }
}

let listener: Listener | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await listener?.close();
  listener = undefined;
});

/** Runs the double against a recorder script; returns the transcript and the recorder's view. */
async function record(options: Omit<PlayAsteriskOptions, 'port'>, script: (recorder: Recorder) => Promise<void>) {
  let done: Promise<void> = Promise.resolve();
  let recorder: Recorder | undefined;
  listener = await listen((socket) => {
    recorder = new Recorder(socket, new LineQueue(socket));
    done = script(recorder);
    // A failed expectation ends the session at once instead of leaving the double waiting.
    done.catch(() => socket.destroy());
  });
  const transcript = await playAsteriskSession({ ...options, port: listener.port });
  await done;
  return { transcript, chunks: recorder?.lines.chunks ?? [] };
}

describe('the Asterisk double', () => {
  it('writes the environment like Asterisk: one write() per line, then a lone "\\n" (strace of the pjsip session)', async () => {
    const straced = [...loadText('agi-authorize-syscalls.txt').matchAll(/^\d+ write\(23, "(.*)", \d+\) +=/gm)]
      .map((m) => JSON.parse(`"${m[1] ?? ''}"`) as string)
      .slice(0, 27);
    expect(straced.at(-1)).toBe('\n');
    const writes = vi.spyOn(net.Socket.prototype, 'write');
    await record({ env: pjsip.env ?? [] }, async (r) => {
      await r.environment();
      r.socket.end();
      await r.lines.rest();
    });
    expect(writes.mock.calls.slice(0, 27).map((call) => String(call[0]))).toEqual(straced);
  });

  it('sends the environment bytes of the capture, and HANGUP then close after the server FIN', async () => {
    const { transcript, chunks } = await record({ env: pjsip.env ?? [] }, async (r) => {
      await r.environment();
      r.socket.end();
      expect(await r.lines.rest()).toEqual(['HANGUP']);
    });
    expect(chunks.join('')).toBe(`${environmentText(pjsip)}HANGUP\n`);
    expect(transcript).toMatchObject({ end: 'server-fin', hangupsSent: 1, violations: [], commands: [] });
  });

  it('answers the /authorize session of the capture and records the seven variables', async () => {
    const sent = pjsip.events.filter((e) => e.dir === 'out').map((e) => e.data);
    const { transcript } = await record({ env: pjsip.env ?? [] }, async (r) => {
      await r.environment();
      for (const line of sent) expect(await r.command(line)).toEqual({ hangups: 0, reply: ['200 result=1'] });
      r.socket.end();
      expect(await r.lines.rest()).toEqual(['HANGUP']);
    });
    expect(Object.fromEntries(transcript.variables)).toEqual({
      DIALGUARD_RESULT: 'ALLOW',
      DIALGUARD_REASON: 'allowed',
      DIALGUARD_MESSAGE: 'Call to United Kingdom allowed, limit 60 min',
      DIALGUARD_LIMIT_MS: '3600000',
      DIALGUARD_CALL_ID: '01JDGQ7K3M5X8Y2Z4A6B8C0D1E',
      DIALGUARD_E164: '+44207946000',
      DIALGUARD_COUNTRY: 'GB',
    });
    expect(transcript.commands.map((c) => `${c.line}\n`)).toEqual(sent);
  });

  it('gives the replies of agi-commands-errors.json, 510/520/511 and the HANGUP after the AGI HANGUP command', async () => {
    // Not emulated: GET FULL VARIABLE, EXEC's effects and unknown apps, and the pipelined pair (next test).
    const emulated = (commandsErrors.transcript ?? []).filter(
      (e) => !/^(GET FULL|EXEC NoSuchApp|GET VARIABLE X\n|NOOP\nGET|VERBOSE "flush")/.test(e.sent),
    );
    expect(emulated).toHaveLength(30);
    const { transcript } = await record({ env: [...agiEnv({ script: 'commands', args: [] })], channelVariables: { DG_PRESET: 'preset value', 'CHANNEL(endpoint)': '1001' } }, async (r) => {
      await r.environment();
      for (const entry of emulated) {
        expect(await r.command(entry.sent), entry.sent).toEqual({
          hangups: entry.hangup_lines_before_reply ?? 0,
          reply: entry.replies[0],
        });
      }
      r.socket.end();
      expect(await r.lines.rest()).toEqual(['HANGUP']);
    });
    expect(transcript.hangupsSent).toBe(2);
    expect(transcript.variables.get('AFTER_HANGUP')).toBe('set after HANGUP');
  });

  it('holds a second command sent in the same write until more bytes come, and reports it', async () => {
    const { transcript } = await record({ env: [...agiEnv({ script: 'commands', args: [] })], channelVariables: { X: '1' } }, async (r) => {
      await r.environment();
      expect(await r.command('NOOP\nGET VARIABLE X\n')).toEqual({ hangups: 0, reply: ['200 result=0'] });
      await expect(r.lines.next(300)).rejects.toThrow('no line within 300 ms');
      r.socket.write('VERBOSE "flush" 1\n');
      expect(await r.reply()).toEqual({ hangups: 0, reply: ['200 result=1 (1)'] });
      expect(await r.reply()).toEqual({ hangups: 0, reply: ['200 result=1'] });
      r.socket.end();
      await r.lines.rest();
    });
    expect(transcript.violations).toHaveLength(1);
    expect(transcript.violations[0]).toContain('pipelined');
  });

  it('reports a command that arrives while the previous one is still being answered', async () => {
    const { transcript } = await record({ env: pjsip.env ?? [], replyDelayMs: 50 }, async (r) => {
      await r.environment();
      r.socket.write('NOOP\n');
      await new Promise((resolve) => setTimeout(resolve, 10));
      r.socket.write('NOOP\n');
      expect(await r.reply()).toEqual({ hangups: 0, reply: ['200 result=0'] });
      expect(await r.reply()).toEqual({ hangups: 0, reply: ['200 result=0'] });
      r.socket.end();
      await r.lines.rest();
    });
    expect(transcript.violations).toEqual([expect.stringContaining('before the reply to "NOOP"')]);
  });

  it('says HANGUP at once when the caller hangs up, still sets variables, refuses ANSWER (caller-hangup capture)', async () => {
    const entries = callerHangup.transcript ?? [];
    const { transcript } = await record({ env: pjsip.env ?? [], hangupAfterMs: 20 }, async (r) => {
      await r.environment();
      expect(await r.lines.next()).toBe('HANGUP');
      for (const entry of entries.filter((e) => !e.sent.startsWith('GET'))) {
        expect(await r.command(entry.sent)).toEqual({ hangups: 0, reply: entry.replies[0] });
      }
      r.socket.end();
      expect(await r.lines.rest()).toEqual(['HANGUP']);
    });
    expect(transcript.hangupsSent).toBe(2);
    expect(transcript.variables.get('DIALGUARD_RESULT')).toBe('ALLOW');
  });

  it('with AGIEXITONHANGUP=yes says HANGUP twice and closes', async () => {
    const { transcript } = await record({ env: pjsip.env ?? [], hangupAfterMs: 20, exitOnHangup: true }, async (r) => {
      await r.environment();
      expect(await r.lines.rest()).toEqual(['HANGUP', 'HANGUP']);
    });
    expect(transcript).toMatchObject({ end: 'asterisk-exit', hangupsSent: 2 });
  });

  it('hangs up when its hangup signal aborts, as at an absolute timeout: with AGIEXITONHANGUP HANGUP twice and closes (dialplan-deadline.md 902)', async () => {
    const timeout = new AbortController();
    const { transcript } = await record({ env: pjsip.env ?? [], hangupSignal: timeout.signal, exitOnHangup: true }, async (r) => {
      await r.environment();
      timeout.abort();
      expect(await r.lines.rest()).toEqual(['HANGUP', 'HANGUP']);
    });
    expect(transcript).toMatchObject({ end: 'asterisk-exit', hangupsSent: 2 });
  });

  it('cannot connect as Asterisk cannot (agi-server-down.json): refused at once, no handshake after MAX_AGI_CONNECT', async () => {
    const refused = await refusedPort();
    await expect(playAsteriskSession({ port: refused.port, env: pjsip.env ?? [], connectTimeoutMs: MAX_AGI_CONNECT_MS })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const stalled = await startStalledPort();
    try {
      const started = performance.now();
      await expect(playAsteriskSession({ port: stalled.port, env: pjsip.env ?? [], connectTimeoutMs: MAX_AGI_CONNECT_MS })).rejects.toBeInstanceOf(AgiConnectTimeout);
      expect(performance.now() - started).toBeGreaterThanOrEqual(MAX_AGI_CONNECT_MS);
    } finally {
      await stalled.close();
    }
  });

  it('with AGISIGHUP=no never says HANGUP', async () => {
    const { transcript } = await record({ env: pjsip.env ?? [], hangupAfterMs: 20, sigHup: false }, async (r) => {
      await r.environment();
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(await r.command('ANSWER\n')).toEqual({ hangups: 0, reply: ['511 Command Not Permitted on a dead channel or intercept routine'] });
      r.socket.end();
      expect(await r.lines.rest()).toEqual([]);
    });
    expect(transcript.hangupsSent).toBe(0);
  });

  it('starts dead in a hangup handler: no HANGUP at first, 511 for CHANNEL STATUS, HANGUP after the FIN (settle capture)', async () => {
    const session = settle.sessions?.[1];
    const { transcript } = await record({ env: session?.env ?? [], deadChannel: true }, async (r) => {
      await r.environment();
      expect(await r.command('SET VARIABLE DIALGUARD_SETTLED "settled 01JDGQ7K3M5X8Y2Z4A6B8C0D1E"\n')).toEqual({ hangups: 0, reply: ['200 result=1'] });
      expect(await r.command('CHANNEL STATUS\n')).toEqual({ hangups: 0, reply: ['511 Command Not Permitted on a dead channel or intercept routine'] });
      expect(await r.command('NOOP\n')).toEqual({ hangups: 0, reply: ['200 result=0'] });
      r.socket.end();
      expect(await r.lines.rest()).toEqual(['HANGUP']);
    });
    expect(transcript.hangupsSent).toBe(1);
  });

  it('shows an injection through naive quoting as Asterisk would run it: a refused command, or an extra one', async () => {
    const { transcript } = await record({ env: pjsip.env ?? [] }, async (r) => {
      await r.environment();
      const refused = await r.command('SET VARIABLE DIALGUARD_MESSAGE "a" DIALGUARD_RESULT "ALLOW"\n');
      expect(refused.reply[0]).toBe('520-Invalid command syntax.  Proper usage follows:');
      expect(await r.command('SET VARIABLE DIALGUARD_MESSAGE "a\nSET VARIABLE DIALGUARD_RESULT ALLOW"\n')).toEqual({ hangups: 0, reply: ['200 result=1'] });
      expect(await r.command('NOOP\n')).toEqual({ hangups: 0, reply: ['200 result=1'] });
      expect(await r.reply()).toEqual({ hangups: 0, reply: ['200 result=0'] });
      r.socket.end();
      await r.lines.rest();
    });
    expect(transcript.commands.map((c) => c.args)).toEqual([
      ['SET', 'VARIABLE', 'DIALGUARD_MESSAGE', 'a', 'DIALGUARD_RESULT', 'ALLOW'],
      ['SET', 'VARIABLE', 'DIALGUARD_MESSAGE', 'a'],
      ['SET', 'VARIABLE', 'DIALGUARD_RESULT', 'ALLOW'],
      ['NOOP'],
    ]);
    expect(Object.fromEntries(transcript.variables)).toEqual({ DIALGUARD_MESSAGE: 'a', DIALGUARD_RESULT: 'ALLOW' });
    expect(transcript.violations).toEqual([expect.stringContaining('pipelined')]);
  });
});

describe('environment builders', () => {
  it('authorizeEnv() reproduces the environment of the PJSIP capture', () => {
    expect(authorizeEnv({ ext: '1001', number: '0044207946000', source: '127.0.0.2:5060', origin: 'phone' })).toEqual(pjsip.env);
  });

  it('authorizeEnv() builds a Local channel with a query string and an empty SOURCE like the Local capture', () => {
    const env = new Map(
      authorizeEnv({
        ext: '1001',
        number: '0044207946000',
        source: '',
        origin: 'phone',
        channel: 'Local/0044207946000@dg-authorize-local-0000001b;2',
        query: 'src=lab&note=a%20b',
      }),
    );
    const captured = new Map(local.env);
    for (const name of ['agi_network_script', 'agi_request', 'agi_channel', 'agi_type', 'agi_dnid', 'agi_arg_3']) {
      expect(env.get(name), name).toBe(captured.get(name));
    }
  });

  it('settleEnv() reproduces the environment of the hangup-handler capture', () => {
    const captured = settle.sessions?.[1]?.env ?? [];
    const env = settleEnv({ callId: '01JDGQ7K3M5X8Y2Z4A6B8C0D1E', answeredTime: '4', dialStatus: 'ANSWER', channel: 'PJSIP/1001-00000008', uniqueid: '1795265134.10' });
    expect(env.filter(([name]) => name !== 'agi_threadid')).toEqual(captured.filter(([name]) => name !== 'agi_threadid'));
  });
});
