import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAsteriskAri, type AsteriskAri } from '../support/asterisk-ari.js';
import { seedPolicy } from '../support/seed.js';
import { logLines, startServe, type ServeProcess } from '../support/serve-process.js';
import { ARI_PASSWORD, ARI_USER, LAN, POLICY, leaves, sleep, until } from './fixture.js';

/** A real `dialguard serve` with DIALGUARD_ARI_URL pointing at the ARI double. */
interface Readiness {
  status: string;
  checks: { database: boolean; agi: boolean; ari?: boolean };
}

async function readyz(serve: ServeProcess): Promise<{ code: number; body: Readiness }> {
  const res = await fetch(`http://127.0.0.1:${serve.httpPort}/readyz`);
  return { code: res.status, body: (await res.json()) as Readiness };
}

/** The dialguard_ari_connected line of GET /metrics, what the ARIDisconnected alert reads. */
async function ariConnectedMetric(serve: ServeProcess): Promise<string | undefined> {
  const res = await fetch(`http://127.0.0.1:${serve.httpPort}/metrics`, { headers: { authorization: `Bearer ${serve.adminToken}` } });
  return (await res.text()).split('\n').find((line) => line.startsWith('dialguard_ari_connected '));
}

function secretForms(password: string): string[] {
  return [password, encodeURIComponent(password), Buffer.from(`${ARI_USER}:${password}`).toString('base64')];
}

describe('dialguard serve with ARI', () => {
  let dir: string;
  let asterisk: AsteriskAri;
  let serve: ServeProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dialguard-ari-'));
    const db = join(dir, 'dialguard.db');
    await seedPolicy(db, POLICY);
    asterisk = await startAsteriskAri({ user: ARI_USER, password: ARI_PASSWORD });
    serve = await startServe(db, {
      DIALGUARD_ARI_URL: asterisk.url,
      DIALGUARD_ARI_USER: ARI_USER,
      DIALGUARD_ARI_PASSWORD: ARI_PASSWORD,
      DIALGUARD_ARI_APP: 'dialguard',
    });
  });

  afterAll(async () => {
    await serve?.stop();
    await asterisk?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says where it connects, without the password, and readyz reports ARI once connected', async () => {
    expect(serve.output).toContain(`dialguard ARI app "dialguard" on ${asterisk.url} as user "${ARI_USER}"`);
    await asterisk.waitForConnection();
    await until(() => logLines(serve.output).some((l) => l.msg === 'ARI connected'), 5000, 'the connected log line');
    const ready = await readyz(serve);
    expect(ready.code).toBe(200);
    expect(ready.body.checks).toEqual({ database: true, agi: true, ari: true });
    expect(await ariConnectedMetric(serve)).toBe('dialguard_ari_connected 1');
  });

  it('authorizes a call sent to Stasis(dialguard,authorize,…)', async () => {
    const channel = asterisk.stasis(['authorize', '1001', '011442079460000', LAN, 'phone']);
    expect(await leaves(channel)).toBe('continued');
    expect(channel.vars()).toMatchObject({ DIALGUARD_RESULT: 'ALLOW', DIALGUARD_REASON: 'allowed', DIALGUARD_LIMIT_MS: '3600000', DIALGUARD_COUNTRY: 'GB' });
  });

  it('reports ARI down while Asterisk restarts, then up again, logging each change once', async () => {
    await asterisk.stop();
    await until(() => logLines(serve.output).some((l) => l.msg === 'ARI connection lost; reconnecting'), 5000, 'the lost log line');
    const down = await readyz(serve);
    expect(down.code).toBe(503);
    expect(down.body).toEqual({ status: 'not ready', checks: { database: true, agi: true, ari: false }, reasons: ['the ARI app is not connected to Asterisk'] });
    expect(await ariConnectedMetric(serve)).toBe('dialguard_ari_connected 0');
    await sleep(1000);
    await asterisk.start();
    await asterisk.waitForConnection('dialguard', 5000);
    await until(() => logLines(serve.output).filter((l) => l.msg === 'ARI connected').length === 2, 5000, 'the second connected line');
    expect((await readyz(serve)).code).toBe(200);
    expect(await ariConnectedMetric(serve)).toBe('dialguard_ari_connected 1');
    const changes = logLines(serve.output).filter((l) => typeof l.msg === 'string' && l.msg.startsWith('ARI '));
    expect(changes.map((l) => l.msg)).toEqual(['ARI connecting', 'ARI connected', 'ARI connection lost; reconnecting', 'ARI connected']);
  });

  it('stops on SIGTERM, closing the websocket, and never printed the ARI password', async () => {
    expect(await serve.stop()).toBe(0);
    await asterisk.waitForNoConnection('dialguard', 2000);
    expect(logLines(serve.output).at(-1)?.msg).toBe('dialguard stopped');
    for (const line of serve.output) for (const form of secretForms(ARI_PASSWORD)) expect(line).not.toContain(form);
  });
});

describe('dialguard serve with a wrong ARI password', () => {
  it('keeps running and serving FastAGI, says what is wrong once, and readyz reports ARI down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dialguard-ari-'));
    const asterisk = await startAsteriskAri({ user: ARI_USER, password: ARI_PASSWORD });
    const wrong = 'wrong-Pa55:word';
    const serve = await startServe(join(dir, 'dialguard.db'), { DIALGUARD_ARI_URL: asterisk.url, DIALGUARD_ARI_USER: ARI_USER, DIALGUARD_ARI_PASSWORD: wrong });
    try {
      await until(() => logLines(serve.output).some((l) => l.level === 50), 5000, 'the error line');
      await sleep(1500);
      expect(serve.child.exitCode).toBeNull();
      const errors = logLines(serve.output).filter((l) => l.level === 50);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.msg).toMatch(/^ARI refused the credentials \(HTTP 401\)/);
      const ready = await readyz(serve);
      expect(ready.body).toEqual({ status: 'not ready', checks: { database: true, agi: true, ari: false }, reasons: ['the ARI app is not connected to Asterisk'] });
      // One request per attempt, 1 s then 2 s apart: no storm.
      expect(asterisk.requests.length).toBeLessThanOrEqual(3);
      expect(await serve.stop()).toBe(0);
      for (const line of serve.output) for (const form of secretForms(wrong)) expect(line).not.toContain(form);
    } finally {
      await serve.stop();
      await asterisk.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
