import { afterEach, describe, expect, it } from 'vitest';
import { createSettleHandler } from '../../src/agi/handlers.js';
import { createAgiServer, type AgiServer } from '../../src/agi/server.js';
import { createDecisionQueue } from '../../src/guard/decision-queue.js';
import { NO_OBSERVER } from '../../src/guard/observer.js';
import { playAsteriskSession, settleEnv } from '../support/asterisk-agi.js';
import { tempGuard, type TempGuard } from '../support/temp-db.js';
import { memoryLogger, type LogRecord } from './memory-logger.js';

/**
 * `AGI(agi://…/settle,CALL_ID,ANSWEREDTIME,DIALSTATUS)` over real TCP, from the dead channel of a
 * hangup handler: a value no Asterisk sends is settled safely and said so in the log.
 */
const WARN = 40;

let server: AgiServer | undefined;
let db: TempGuard | undefined;
afterEach(async () => {
  await server?.close();
  db?.close();
  server = undefined;
  db = undefined;
});

async function start(): Promise<{ port: number; records: LogRecord[]; db: TempGuard }> {
  db = await tempGuard();
  const { logger, records } = memoryLogger();
  const deps = { guard: db.guard, decisions: createDecisionQueue(db.guard), logger, observer: NO_OBSERVER };
  server = createAgiServer({ host: '127.0.0.1', port: 0, logger, handlers: { settle: createSettleHandler(deps) } });
  const { port } = await server.listen();
  return { port, records, db };
}

async function allowedCall(t: TempGuard): Promise<string> {
  return (await t.guard.authorize({ extension: '1001', dialled: '2125550123', source: '10.0.0.5:5060', origin: 'phone', at: new Date(), transport: 'agi' })).callId;
}

const settle = (port: number, callId: string, answeredTime: string) =>
  playAsteriskSession({ port, env: settleEnv({ callId, answeredTime, dialStatus: 'ANSWER' }), deadChannel: true });

describe('FastAGI settle of a value no Asterisk sends', () => {
  it('clamps 99999999999 to the granted limit and logs a warning with what was reported', async () => {
    const { port, records, db } = await start();
    const callId = await allowedCall(db);
    const transcript = await settle(port, callId, '99999999999');
    expect(transcript.variables.get('DIALGUARD_SETTLED')).toBe(`settled ${callId}`);
    expect(await db.store.getReservation(callId)).toMatchObject({ answeredSeconds: 3602, costMicros: 1_220_000 });
    const warning = records.find((r) => r.msg === 'ANSWEREDTIME longer than the granted limit: settlement clamped');
    expect(warning).toMatchObject({ level: WARN, callId, reported: '99999999999', limitSeconds: 3600, settledSeconds: 3602, toleranceSeconds: 2 });
  });

  it.each([
    ['abc', 'ANSWEREDTIME is not a number: settled as 0 s'],
    ['-5', 'ANSWEREDTIME is negative: settled as 0 s'],
  ])('settles %j as 0 and says so in the log', async (answeredTime, message) => {
    const { port, records, db } = await start();
    const callId = await allowedCall(db);
    await settle(port, callId, answeredTime);
    expect(await db.store.getReservation(callId)).toMatchObject({ status: 'settled', answeredSeconds: 0, costMicros: 0 });
    expect(records.find((r) => r.msg === message)).toMatchObject({ level: WARN, callId, reported: answeredTime });
  });

  it('an unanswered call (empty ANSWEREDTIME) and an honest one log no warning', async () => {
    const { port, records, db } = await start();
    await settle(port, await allowedCall(db), '');
    await settle(port, await allowedCall(db), '3600');
    expect(records.filter((r) => r.msg === 'settlement').map((r) => r.level)).toEqual([30, 30]);
    expect(records.filter((r) => r.level >= WARN)).toEqual([]);
  });
});
