import { afterEach, describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../src/domain/security.js';
import { testApp, type TestApp } from '../http/app-fixture.js';

/**
 * The takeover lock over a real SQLite store: a success is judged after its policy is read, and
 * the feed goes on counting meanwhile. Asterisk sends a burst (the intruder goes on trying other
 * accounts at once, a replayed log arrives whole), so what the alert says came before the
 * success must be what the tracker had counted when the success arrived.
 */

let t: TestApp | undefined;
afterEach(async () => t?.closeAll());

const MINUTE = 60_000;

describe('the takeover lock', () => {
  it('counts the failures before the success, not those that followed it in the same minute', async () => {
    t = await testApp();
    // All within one minute: the tracker counts by the minute, so only the order can tell them apart.
    const minute = Math.floor(Date.now() / MINUTE) * MINUTE - MINUTE;
    const event = (kind: SecurityEvent['kind'], at: number, account: string, session: string): SecurityEvent => ({
      kind,
      at,
      service: 'PJSIP',
      account,
      address: '80.128.0.1',
      detail: kind === 'successful_auth' ? 'SuccessfulAuth' : 'ChallengeResponseFailed',
      session,
    });
    for (let i = 0; i < 12; i++) t.intrusion.sink.accept(event('failed_auth', minute + 1000 + i, '1001', `before-${i}`));
    t.intrusion.sink.accept(event('successful_auth', minute + 20_000, '1001', 'in'));
    for (let i = 0; i < 7; i++) t.intrusion.sink.accept(event('failed_auth', minute + 30_000 + i, '1002', `after-${i}`));
    await t.intrusion.settled();

    const lock = await t.store.getLock('1001');
    expect(lock?.reason).toBe('taken over: account 1001 authenticated from 80.128.0.1 (DE) after 12 failed authentications from it in the last 24 h');
    const [alert] = await t.store.listAlerts({ ext: '1001' }, { limit: 10 });
    expect(alert?.details).toMatchObject({ count: 12, country: 'DE', counts: { sourceFailures: 12, networkFailures: 12, accountFailures: 12, accountSuccesses: 1 } });
  });
});
