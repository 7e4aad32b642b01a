import { afterEach, describe, expect, it } from 'vitest';
import { ARI_PASSWORD, ARI_USER, LAN, captureLogs, leaves, sleep, startAriFixture, until, type AriFixture, type FixtureOptions } from './fixture.js';

/**
 * The ARI connection as Asterisk restarts, drops the websocket, or refuses the credentials:
 * reconnect with backoff, readiness that follows, and one log line per state change.
 */
let fx: AriFixture | undefined;

afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

async function start(options: FixtureOptions = {}): Promise<AriFixture> {
  fx = await startAriFixture(options);
  return fx;
}

const stateLines = (f: AriFixture) =>
  f.logs
    .records()
    .filter((r) => r.level >= 30 && typeof r.msg === 'string' && r.msg.startsWith('ARI '))
    .map((r) => r.msg);

describe('reconnecting', () => {
  it('comes back after Asterisk restarts: readiness false then true, one log line per state change', async () => {
    const f = await start();
    expect(f.app.connected).toBe(true);

    await f.asterisk.stop();
    await until(() => !f.app.connected, 2000, 'readiness to drop');
    // Down long enough for ari-client to retry several times (100, 200, 400, 800 ms…).
    await sleep(1200);
    expect(f.app.connected).toBe(false);
    await f.asterisk.start();
    await f.asterisk.waitForConnection('dialguard', 5000);
    await until(() => f.app.connected, 2000, 'readiness to come back');

    expect(stateLines(f)).toEqual(['ARI connecting', 'ARI connected', 'ARI connection lost; reconnecting', 'ARI connected']);
    // The retries happened, below info level.
    const retries = f.logs.messages('ARI state unchanged').filter((r) => r.state === 'reconnecting');
    expect(retries.length).toBeGreaterThanOrEqual(2);

    const channel = f.asterisk.stasis(['authorize', '1001', '13125550123', LAN, 'phone']);
    expect(await leaves(channel)).toBe('continued');
    expect(channel.vars().DIALGUARD_RESULT).toBe('ALLOW');
  });

  it('reopens a dropped websocket at once when Asterisk is still up', async () => {
    const f = await start();
    const upgrades = f.asterisk.upgrades.length;
    f.asterisk.dropConnections();
    await until(() => !f.app.connected, 2000, 'readiness to drop');
    await until(() => f.app.connected, 2000, 'readiness to come back');
    expect(f.asterisk.upgrades.length).toBe(upgrades + 1);
    expect(f.asterisk.connections()).toBe(1);
  });

  it('waits for an Asterisk that starts after the guard, with growing delays', async () => {
    const f = await start({ connected: false, asterisk: {} });
    await f.asterisk.stop();
    await sleep(900);
    expect(f.app.state).toBe('unreachable');
    expect(f.app.connected).toBe(false);
    await f.asterisk.start();
    await f.asterisk.waitForConnection('dialguard', 3000);
    await until(() => f.app.connected, 2000, 'connected');
    expect(stateLines(f)).toEqual(['ARI connecting', 'ARI unreachable; retrying', 'ARI connected']);
    const delays = f.logs.records().flatMap((r) => (typeof r.retryInMs === 'number' ? [r.retryInMs] : []));
    // 100, 200, 400, 400…: doubling up to the cap, never a storm.
    expect(delays.slice(0, 4)).toEqual([100, 200, 400, 400]);
  });

  it('close() while ari-client is retrying leaves no websocket behind, even when Asterisk comes back', async () => {
    const f = await start();
    await f.asterisk.stop();
    await until(() => !f.app.connected, 2000, 'readiness to drop');
    await sleep(150);
    await f.app.close();
    await f.asterisk.start();
    await sleep(1500);
    expect(f.asterisk.connections()).toBe(0);
    expect(stateLines(f).at(-1)).toBe('ARI closed');
  });

  it('close() closes the websocket cleanly', async () => {
    const f = await start();
    await f.app.close();
    await f.asterisk.waitForNoConnection('dialguard', 2000);
    expect(f.app.connected).toBe(false);
  });
});

describe('wrong credentials', () => {
  it('says so once, clearly, and retries with backoff, not in a storm', async () => {
    const f = await start({ connected: false, app: { password: 'not-the-password' } });
    await sleep(1500);
    expect(f.app.state).toBe('unauthorized');
    expect(f.app.connected).toBe(false);
    const refused = f.logs.records().filter((r) => r.level === 50);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ user: ARI_USER, state: 'unauthorized' });
    expect(refused[0]?.msg).toContain('ARI refused the credentials (HTTP 401)');
    expect(refused[0]?.msg).toContain('DIALGUARD_ARI_PASSWORD');
    // 0, 100, 300, 700, 1100, 1500 ms: at most 6 attempts in 1.5 s, each one request.
    const attempts = f.asterisk.requests.filter((r) => r.path === '/ari/api-docs/resources.json');
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(attempts.length).toBeLessThanOrEqual(6);
    expect(attempts.every((r) => r.status === 401)).toBe(true);
    expect(f.asterisk.upgrades).toEqual([]);
  });

  it('connects once ari.conf is fixed, without a restart of the guard', async () => {
    const f = await start({ connected: false, asterisk: { password: 'old-password' } });
    await until(() => f.app.state === 'unauthorized', 2000, 'unauthorized');
    f.asterisk.setCredentials(ARI_USER, ARI_PASSWORD);
    await f.asterisk.waitForConnection('dialguard', 3000);
    await until(() => f.app.connected, 2000, 'connected');
    expect(stateLines(f).slice(-1)).toEqual(['ARI connected']);
  });
});

describe('secrets', () => {
  it('the ARI password never appears in a log line, in any encoding, whatever happens', async () => {
    const f = await start();
    // ari-client puts the password in the websocket URL: the double saw it there.
    expect(f.asterisk.upgrades[0]?.query.api_key).toBe(`${ARI_USER}:REDACTED`);
    await leaves(f.asterisk.stasis(['authorize', '1001', '13125550123', LAN, 'phone']));
    f.asterisk.dropConnections();
    await until(() => f.app.connected, 3000, 'reconnected');
    await f.asterisk.stop();
    await sleep(400);
    f.asterisk.setCredentials(ARI_USER, 'changed-on-restart');
    await f.asterisk.start();
    await until(() => f.app.state === 'unauthorized', 5000, 'the 401 on the websocket');
    await f.app.close();

    const forms = [ARI_PASSWORD, encodeURIComponent(ARI_PASSWORD), Buffer.from(`${ARI_USER}:${ARI_PASSWORD}`).toString('base64')];
    expect(f.logs.lines.length).toBeGreaterThan(5);
    for (const line of f.logs.lines) for (const form of forms) expect(line).not.toContain(form);
  });

  it('refuses a URL with credentials in it, without echoing them', async () => {
    const { startAriClient } = await import('../../src/ari/client.js');
    const url = `http://${ARI_USER}:${encodeURIComponent(ARI_PASSWORD)}@127.0.0.1:8088`;
    let message = '';
    try {
      startAriClient({ url, user: ARI_USER, password: ARI_PASSWORD, app: 'dialguard', logger: captureLogs().logger, onEvent: () => undefined });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/DIALGUARD_ARI_URL must not hold credentials/);
    expect(message).not.toContain(encodeURIComponent(ARI_PASSWORD));
  });
});
