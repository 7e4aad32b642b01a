import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AgiReply } from '../../src/agi/protocol.js';
import { compileAllowList, createAgiServer, type AgiFallback, type AgiHandler, type AgiServer, type AgiServerOptions } from '../../src/agi/server.js';
import type { AgiSession } from '../../src/agi/session.js';
import { DeadlineError } from '../../src/errors.js';
import { agiEnv, authorizeEnv, playAsteriskSession, settleEnv, splitAsteriskArgs } from '../support/asterisk-agi.js';
import { loadCapture } from '../support/captures.js';
import { memoryLogger, type LogRecord } from './memory-logger.js';
import { LineQueue, closed, connect } from './wire.js';

const pjsip = loadCapture('agi-authorize-pjsip.json');
const env = authorizeEnv({ ext: '1001', number: '0044207946000', source: '127.0.0.2:5060', origin: 'phone' });
const WARN = 40;
const ERROR = 50;

let server: AgiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: Partial<AgiServerOptions> = {}): Promise<{ port: number; records: LogRecord[] }> {
  const { logger, records } = memoryLogger();
  server = createAgiServer({ host: '127.0.0.1', port: 0, logger, handlers: {}, ...options });
  const { port } = await server.listen();
  return { port, records };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The accept queue's length limit of the socket listening on `port`, as the kernel reports it (ss: Send-Q). */
function listenBacklog(port: number): number {
  const line = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim();
  const sendQ = Number(line.split(/\s+/)[2]);
  if (!Number.isInteger(sendQ)) throw new Error(`no listening socket on ${port} in ss output: ${JSON.stringify(line)}`);
  return sendQ;
}

/** What the lead's fallback will do: fail closed. */
const denyFallback = vi.fn<AgiFallback>(async (session) => {
  await session.setVariable('DIALGUARD_RESULT', 'DENY');
  await session.setVariable('DIALGUARD_REASON', 'guard_error');
});
afterEach(() => denyFallback.mockClear());

describe('FastAGI server', () => {
  it('routes each session by its script path, query string aside', async () => {
    const { port } = await start({
      handlers: {
        authorize: async (s) => void (await s.setVariable('HANDLED_BY', `authorize ${s.env.args.join(',')} src=${s.env.query.get('src')}`)),
        settle: async (s) => void (await s.setVariable('HANDLED_BY', `settle ${s.env.args.join(',')}`)),
      },
    });
    const [authorize, settle] = await Promise.all([
      playAsteriskSession({ port, env: authorizeEnv({ ext: '1001', number: '0044207946000', source: '', origin: 'phone', query: 'src=lab' }) }),
      playAsteriskSession({ port, env: settleEnv({ callId: '01JDGQ7K3M5X8Y2Z4A6B8C0D1E', answeredTime: '', dialStatus: 'BUSY' }), deadChannel: true }),
    ]);
    expect(authorize.variables.get('HANDLED_BY')).toBe('authorize 1001,0044207946000,,phone src=lab');
    expect(settle.variables.get('HANDLED_BY')).toBe('settle 01JDGQ7K3M5X8Y2Z4A6B8C0D1E,,BUSY');
    for (const t of [authorize, settle]) expect(t).toMatchObject({ end: 'server-fin', violations: [], hangupsSent: 1 });
  });

  it('answers an unknown path through the fallback, logs it, and closes', async () => {
    const { port, records } = await start({ handlers: { authorize: async () => undefined }, onUnknownPath: denyFallback });
    const transcript = await playAsteriskSession({ port, env: agiEnv({ script: 'authorise', args: ['1001'] }) });
    expect(Object.fromEntries(transcript.variables)).toEqual({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'guard_error' });
    expect(transcript.end).toBe('server-fin');
    expect(denyFallback.mock.calls[0]?.[2]).toMatchObject({ code: 'DG_AGI_UNKNOWN_PATH' });
    expect(records).toContainEqual(
      expect.objectContaining({ level: WARN, msg: 'AGI request for an unknown path', path: 'authorise', channel: 'PJSIP/1001-00000001', uniqueid: '1795264997.1' }),
    );
  });

  it('does not take a prototype name for a handler', async () => {
    const { port } = await start({ handlers: {}, onUnknownPath: denyFallback });
    const transcript = await playAsteriskSession({ port, env: agiEnv({ script: 'constructor', args: [] }) });
    expect(transcript.variables.get('DIALGUARD_RESULT')).toBe('DENY');
  });

  it.each([
    ['rejects', (async () => Promise.reject(new Error('store exploded'))) as AgiHandler],
    ['throws synchronously', (() => { throw new Error('store exploded'); }) as AgiHandler],
  ])('logs a handler that %s with its channel, runs the fallback, and closes', async (_how, handler) => {
    const { port, records } = await start({ handlers: { authorize: handler }, onHandlerError: denyFallback });
    const transcript = await playAsteriskSession({ port, env });
    expect(Object.fromEntries(transcript.variables)).toEqual({ DIALGUARD_RESULT: 'DENY', DIALGUARD_REASON: 'guard_error' });
    expect(transcript).toMatchObject({ end: 'server-fin', hangupsSent: 1, violations: [] });
    const failure = records.find((r) => r.msg === 'AGI handler failed');
    expect(failure).toMatchObject({ level: ERROR, channel: 'PJSIP/1001-00000001', uniqueid: '1795264997.1', path: 'authorize', err: { message: 'store exploded' } });
  });

  it('skips the fallback when the session can no longer carry it (Asterisk exited on hangup)', async () => {
    let sawClosed = false;
    const { port, records } = await start({
      handlers: {
        authorize: async (s) => {
          await new Promise<void>((resolve) => s.once('close', () => resolve()));
          sawClosed = true;
          await s.setVariable('DIALGUARD_RESULT', 'ALLOW');
        },
      },
      onHandlerError: denyFallback,
    });
    const transcript = await playAsteriskSession({ port, env, hangupAfterMs: 10, exitOnHangup: true });
    expect(transcript.end).toBe('asterisk-exit');
    await vi.waitFor(() => expect(records.some((r) => r.msg === 'AGI session no longer usable: fallback skipped')).toBe(true));
    expect(sawClosed).toBe(true);
    expect(denyFallback).not.toHaveBeenCalled();
  });

  it('gives the handler a deadline whose signal aborts with a DeadlineError after answerDeadlineMs', async () => {
    let reason: unknown;
    const { port } = await start({
      answerDeadlineMs: 120,
      handlers: {
        authorize: async (s, deadline) => {
          await new Promise((resolve) => deadline.signal.addEventListener('abort', resolve));
          reason = deadline.signal.reason;
          await s.setVariable('DIALGUARD_RESULT', 'DENY');
        },
      },
    });
    const transcript = await playAsteriskSession({ port, env });
    expect(reason).toBeInstanceOf(DeadlineError);
    expect(transcript.variables.get('DIALGUARD_RESULT')).toBe('DENY');
    expect(transcript.timings.serverFinMs).toBeGreaterThanOrEqual(110);
  });

  it('closes the session under a handler that ignores its deadline, without a fallback', async () => {
    const { port, records } = await start({
      answerDeadlineMs: 100,
      handlerGraceMs: 50,
      onHandlerError: denyFallback,
      handlers: { authorize: () => new Promise<void>(() => undefined) },
    });
    const transcript = await playAsteriskSession({ port, env });
    expect(transcript.end).toBe('server-fin');
    expect(transcript.timings.serverFinMs).toBeGreaterThanOrEqual(140);
    expect(transcript.timings.serverFinMs).toBeLessThan(1000);
    expect(denyFallback).not.toHaveBeenCalled();
    expect(records).toContainEqual(expect.objectContaining({ level: ERROR, msg: 'AGI handler ignored its deadline; closing the session', uniqueid: '1795264997.1' }));
  });

  it('cuts off a peer that connects and stays silent (env timeout)', async () => {
    const handler = vi.fn<AgiHandler>(async () => undefined);
    const { port, records } = await start({ envTimeoutMs: 100, handlers: { authorize: handler } });
    const peer = await connect(port);
    const started = Date.now();
    await closed(peer);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(handler).not.toHaveBeenCalled();
    await vi.waitFor(() =>
      expect(records).toContainEqual(expect.objectContaining({ level: WARN, err: expect.objectContaining({ code: 'DG_AGI_ENV_TIMEOUT' }) })),
    );
  });

  it('tells its arrivals of each session from accept until its environment is complete, or it ended', async () => {
    const events: string[] = [];
    const arrivals = {
      expect: () => {
        events.push('expect');
        return () => void events.push('arrived');
      },
    };
    const { port } = await start({ arrivals, handlers: { authorize: async () => void events.push('handler') } });
    await playAsteriskSession({ port, env });
    expect(events).toEqual(['expect', 'arrived', 'handler']);
    events.length = 0;
    const peer = await connect(port);
    peer.end('agi_network: yes\n');
    await closed(peer);
    await vi.waitFor(() => expect(events).toEqual(['expect', 'arrived']));
  });

  it('cuts off garbage and overlong lines without disturbing a session in progress', async () => {
    const { port, records } = await start({
      handlers: {
        authorize: async (s) => {
          await sleep(150);
          await s.setVariable('DIALGUARD_RESULT', 'ALLOW');
        },
      },
    });
    const good = playAsteriskSession({ port, env });
    const http = await connect(port);
    http.on('error', () => undefined);
    http.write('GET / HTTP/1.1\r\nHost: guard\r\n\r\n');
    const endless = await connect(port);
    endless.on('error', () => undefined);
    endless.write(`agi_network: yes\nagi_network_script: ${'x'.repeat(9000)}`);
    const started = Date.now();
    await Promise.all([closed(http), closed(endless)]);
    expect(Date.now() - started).toBeLessThan(150);
    const transcript = await good;
    expect(transcript).toMatchObject({ end: 'server-fin', violations: [] });
    expect(transcript.variables.get('DIALGUARD_RESULT')).toBe('ALLOW');
    const codes = records.filter((r) => r.level === WARN).map((r) => (r.err as { code?: string } | undefined)?.code);
    expect(codes).toEqual(expect.arrayContaining(['DG_AGI_PROTOCOL', 'DG_AGI_LINE_TOO_LONG']));
  });

  it('sheds connections beyond maxConnections at once, while the admitted sessions run to their answer', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let admitted = 0;
    const handler = vi.fn<AgiHandler>(async (s) => {
      admitted++;
      await released;
      await s.setVariable('DIALGUARD_RESULT', 'ALLOW');
    });
    const { port, records } = await start({ maxConnections: 4, answerDeadlineMs: 60_000, handlers: { authorize: handler } });
    const held = Array.from({ length: 4 }, () => playAsteriskSession({ port, env }));
    await vi.waitFor(() => expect(admitted).toBe(4));
    // A burst over the cap, each peer playing Asterisk: closed without a command, and all of
    // them before any admitted session is let go, so nothing queued behind the admitted ones.
    const excess = await Promise.all(Array.from({ length: 40 }, () => playAsteriskSession({ port, env })));
    for (const transcript of excess) {
      expect(transcript.commands).toEqual([]);
      expect(transcript.variables.size).toBe(0);
    }
    expect(handler).toHaveBeenCalledTimes(4);
    release();
    for (const transcript of await Promise.all(held)) {
      expect(transcript).toMatchObject({ end: 'server-fin', violations: [] });
      expect(transcript.variables.get('DIALGUARD_RESULT')).toBe('ALLOW');
    }
    // One warning now and one summary a second later, not a line per connection.
    await vi.waitFor(() => {
      const shed = records.filter((r) => r.msg === 'AGI connections shed: too many sessions at once');
      expect(shed.every((r) => r.level === WARN && r.maxConnections === 4)).toBe(true);
      expect(shed.reduce((n, r) => n + (r.shed as number), 0)).toBe(40);
      expect(shed.length).toBeLessThanOrEqual(2);
    }, { timeout: 5000 });
    // Below the cap again, a new session is served.
    const served = await playAsteriskSession({ port, env });
    expect(served.variables.get('DIALGUARD_RESULT')).toBe('ALLOW');
  });

  it('listens with the backlog it is given, 4096 by default, as the kernel caps it', async () => {
    const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
    const { port: byDefault } = await start({ handlers: {} });
    expect(listenBacklog(byDefault)).toBe(Math.min(4096, somaxconn));
    await server?.close();
    const { port, records } = await start({ backlog: 64, handlers: {} });
    expect(listenBacklog(port)).toBe(64);
    expect(records.some((r) => r.msg === 'AGI listen backlog capped by the kernel')).toBe(false);
  });

  it('warns when the kernel caps the backlog below the one asked for', async () => {
    const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
    const { port, records } = await start({ backlog: somaxconn + 1, handlers: {} });
    expect(listenBacklog(port)).toBe(somaxconn);
    expect(records).toContainEqual(expect.objectContaining({ level: WARN, msg: 'AGI listen backlog capped by the kernel', backlog: somaxconn + 1, somaxconn }));
  });

  it('refuses an address outside allowFrom before reading anything', async () => {
    const handler = vi.fn<AgiHandler>(async () => undefined);
    const { port, records } = await start({ allowFrom: ['10.0.0.0/8', '192.0.2.7'], handlers: { authorize: handler } });
    const transcript = await playAsteriskSession({ port, env });
    expect(transcript.commands).toEqual([]);
    expect(handler).not.toHaveBeenCalled();
    expect(records).toContainEqual(expect.objectContaining({ level: WARN, msg: 'AGI connection refused: address not allowed', remote: '127.0.0.1' }));
  });

  it('on close() stops accepting and lets the session in flight finish', async () => {
    let started!: () => void;
    const handlerStarted = new Promise<void>((resolve) => (started = resolve));
    const { port } = await start({
      handlers: {
        authorize: async (s) => {
          started();
          await sleep(100);
          await s.setVariable('DIALGUARD_RESULT', 'ALLOW');
        },
      },
    });
    const inFlight = playAsteriskSession({ port, env });
    await handlerStarted;
    const closing = server?.close();
    await expect(playAsteriskSession({ port, env })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await closing;
    expect((await inFlight).variables.get('DIALGUARD_RESULT')).toBe('ALLOW');
  });

  it('on close() destroys what is still running after the shutdown grace', async () => {
    const { port } = await start({ answerDeadlineMs: 10_000, shutdownGraceMs: 100, handlers: { authorize: () => new Promise<void>(() => undefined) } });
    const stuck = playAsteriskSession({ port, env });
    await sleep(30);
    const started = Date.now();
    await server?.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect((await stuck).commands).toEqual([]);
  });
});

describe('replaying agi-authorize-pjsip.json', () => {
  const captured = pjsip.events.filter((e) => e.dir === 'out').map((e) => splitAsteriskArgs(e.data.slice(0, -1)));
  const setsCapturedVariables = (replies: AgiReply[], sessions: AgiSession[]): AgiHandler =>
    async (session) => {
      sessions.push(session);
      for (const [, , name = '', value = ''] of captured) replies.push(await session.setVariable(name, value));
    };

  it('serves the exact bytes Asterisk sent, chunk by chunk, and ends like the capture', async () => {
    const replies: AgiReply[] = [];
    const sessions: AgiSession[] = [];
    const { port } = await start({ handlers: { authorize: setsCapturedVariables(replies, sessions) } });
    // Half-open like Asterisk's C socket: reading the server's FIN does not end our side.
    const peer = await connect(port, { allowHalfOpen: true });
    const lines = new LineQueue(peer);
    const received: string[][] = [];
    const events = pjsip.events;
    for (const [i, event] of events.entries()) {
      if (event.dir === 'out') {
        received.push(splitAsteriskArgs((await lines.next()) ?? ''));
      } else if (i === events.length - 1) {
        expect(await lines.next()).toBeUndefined(); // the server's FIN comes first
        peer.end(event.data);
      } else {
        peer.write(event.data);
        await sleep(1);
      }
    }
    await closed(peer);
    expect(received).toEqual(captured);
    expect(replies).toEqual(Array.from({ length: 7 }, () => ({ code: 200, result: '1' })));
    await vi.waitFor(() => expect(sessions[0]?.closed).toBe(true));
    expect(sessions[0]?.hungUp).toBe(true);
  });

  it('sets what the dialplan saw in the capture, through the Asterisk double', async () => {
    const replies: AgiReply[] = [];
    const { port } = await start({ handlers: { authorize: setsCapturedVariables(replies, []) } });
    const transcript = await playAsteriskSession({ port, env: pjsip.env ?? [] });
    const saw = Object.fromEntries([...(pjsip.dialplan_saw ?? '').matchAll(/(DIALGUARD_\w+)=\[([^\]]*)\]/g)].map((m) => [m[1], m[2]]));
    expect(Object.keys(saw)).toHaveLength(7);
    expect(Object.fromEntries(transcript.variables)).toEqual(saw);
    expect(replies.map((r) => r.code)).toEqual([200, 200, 200, 200, 200, 200, 200]);
    expect(transcript).toMatchObject({ end: 'server-fin', hangupsSent: 1, violations: [] });
  });
});

describe('compileAllowList', () => {
  it('allows only loopback by default when bound to loopback, IPv4-mapped addresses included', () => {
    const allowed = compileAllowList(undefined, '127.0.0.1');
    expect(['127.0.0.1', '127.5.5.5', '::1', '::ffff:127.0.0.1'].map(allowed)).toEqual([true, true, true, true]);
    expect(['10.1.2.3', '::ffff:10.1.2.3', '2001:db8::1', 'garbage'].map(allowed)).toEqual([false, false, false, false]);
    expect(compileAllowList(undefined, 'localhost')('192.0.2.1')).toBe(false);
  });

  it('allows anyone by default when bound to a public or wildcard address', () => {
    expect(compileAllowList(undefined, '0.0.0.0')('203.0.113.9')).toBe(true);
    expect(compileAllowList(undefined, '::')('2001:db8::1')).toBe(true);
  });
  // Which entries are accepted and what they match: test/net/address.test.ts, shared with the geofence.
});
