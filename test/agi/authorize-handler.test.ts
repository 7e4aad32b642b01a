import { afterEach, describe, expect, it } from 'vitest';
import { createAuthorizeHandler } from '../../src/agi/handlers.js';
import { createAgiServer, type AgiServer } from '../../src/agi/server.js';
import type { AgiSession } from '../../src/agi/session.js';
import type { DecisionQueue } from '../../src/guard/decision-queue.js';
import { NO_OBSERVER, type GuardObserver } from '../../src/guard/observer.js';
import type { AuditedDecision } from '../../src/store/roles/decisions.js';
import { until } from '../ari/fixture.js';
import { authorizeEnv, playAsteriskSession } from '../support/asterisk-agi.js';
import { memoryLogger, type LogRecord } from './memory-logger.js';
import { LineQueue, closed, connect } from './wire.js';

const DECISION: AuditedDecision = {
  callId: '01JDGQ7K3M5X8Y2Z4A6B8C0D1E',
  result: 'DENY',
  reason: 'destination_country_denied',
  message: 'Calls to United Kingdom are not allowed',
  limitMs: 0,
  e164: '+442079460000',
  country: 'GB',
  numberType: 'FIXED_LINE',
  source: { ip: '192.168.1.20', country: null },
  checks: [],
  grant: null,
  policyVersion: 1,
};
const env = authorizeEnv({ ext: '1001', number: '011442079460000', source: '192.168.1.20:5060', origin: 'phone' });

let server: AgiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(decisions: DecisionQueue): Promise<{ port: number; records: LogRecord[]; observed: string[]; sessions: AgiSession[] }> {
  const { logger, records } = memoryLogger();
  const observed: string[] = [];
  const observer: GuardObserver = { ...NO_OBSERVER, observeDecision: (d) => void observed.push(`${d.result} ${d.reason}`) };
  const handler = createAuthorizeHandler({ guard: { settle: () => Promise.reject(new Error('no settlement here')) }, decisions, logger, observer });
  const sessions: AgiSession[] = [];
  server = createAgiServer({ host: '127.0.0.1', port: 0, logger, handlers: { authorize: (session, deadline) => (sessions.push(session), handler(session, deadline)) } });
  return { port: (await server.listen()).port, records, observed, sessions };
}

const decisionLines = (records: LogRecord[]): LogRecord[] => records.filter((r) => r.msg === 'decision');

describe('the authorize handler', () => {
  it('logs and counts the decision once the session has ended, not before its FIN', async () => {
    const { port, records, observed } = await start({ authorize: async () => DECISION });
    const socket = await connect(port);
    const lines = new LineQueue(socket);
    for (const [name, value] of env) socket.write(`${name}: ${value}\n`);
    socket.write('\n');
    let commands = 0;
    for (let line = await lines.next(); line !== undefined; line = await lines.next()) {
      commands++;
      socket.write('200 result=1\n');
    }
    // The guard's FIN is here and our side is still open: the session has not ended yet.
    expect(commands).toBe(7);
    expect(decisionLines(records)).toEqual([]);
    expect(observed).toEqual([]);
    socket.end('HANGUP\n');
    await closed(socket);
    await until(() => decisionLines(records).length > 0, 2000, 'the decision line');
    expect(decisionLines(records)).toMatchObject([{ callId: DECISION.callId, extension: '1001', result: 'DENY', reason: 'destination_country_denied', channel: 'PJSIP/1001-00000001' }]);
    expect(typeof decisionLines(records)[0]?.latencyMs).toBe('number');
    expect(observed).toEqual(['DENY destination_country_denied']);
  });

  it('logs the decision of a session that ended while it was being made', async () => {
    let decide: (d: AuditedDecision) => void = () => undefined;
    const { port, records, observed, sessions } = await start({ authorize: () => new Promise((resolve) => (decide = resolve)) });
    // The caller hangs up during the decision and Asterisk closes the socket (AGIEXITONHANGUP=yes).
    const transcript = await playAsteriskSession({ port, env, hangupAfterMs: 20, exitOnHangup: true });
    expect(transcript.end).toBe('asterisk-exit');
    expect(transcript.commands).toEqual([]);
    await until(() => sessions[0]?.closed === true, 2000, 'the session closed');
    decide(DECISION);
    await until(() => decisionLines(records).length > 0, 2000, 'the decision line');
    expect(decisionLines(records)).toMatchObject([{ callId: DECISION.callId, result: 'DENY' }]);
    expect(observed).toEqual(['DENY destination_country_denied']);
  });
});
