import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeEnv, playAsteriskSession } from '../support/asterisk-agi.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';

/** The quick start as a new user meets it: serve on an empty database, a call, the API. */
let dir: string;
let serve: ServeProcess;
const api = (path: string, init: RequestInit = {}) =>
  fetch(`http://127.0.0.1:${serve.httpPort}${path}`, { ...init, headers: { authorization: `Bearer ${serve.adminToken}`, ...(init.headers ?? {}) } });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dialguard-e2e-'));
  serve = await startServe(join(dir, 'dialguard.db'));
});
afterAll(async () => {
  await serve?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('dialguard serve on its embedded defaults', () => {
  it('prints an admin token once, and it works on the API', async () => {
    expect(serve.adminToken).toMatch(/^\S{20,}$/);
    expect((await api('/api/v1/policy/defaults')).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${serve.httpPort}/api/v1/policy/defaults`)).status).toBe(401);
  });

  it('is ready once FastAGI listens and the database is writable', async () => {
    const r = await fetch(`http://127.0.0.1:${serve.httpPort}/readyz`);
    expect(r.status).toBe(200);
  });

  it('a FastAGI decision shows in the audit and in the metrics', async () => {
    const t = await playAsteriskSession({ port: serve.agiPort, env: authorizeEnv({ ext: '1001', number: '0115352123456', source: '10.0.0.5:5060', origin: 'phone' }) });
    const callId = t.variables.get('DIALGUARD_CALL_ID');
    const decision = (await (await api(`/api/v1/decisions/${callId}`)).json()) as { decision: { result: string; reason: string } };
    expect(decision.decision).toMatchObject({ result: 'DENY', reason: 'destination_country_denied' });
    const metrics = await (await api('/metrics')).text();
    expect(metrics).toMatch(/dialguard_decisions_total\{[^}]*reason="destination_country_denied"[^}]*\} 1/);
    // Without ARI configured there is no ARI state to alert on (deploy/prometheus/dialguard-rules.yml).
    expect(metrics).not.toContain('dialguard_ari_connected');
  });

  it('locks and unlocks with Content-Type: application/json and no body, over real HTTP', async () => {
    const json = { method: 'POST', headers: { 'content-type': 'application/json' } };
    const lock = await api('/api/v1/extensions/1003/lock', json);
    expect(lock.status).toBe(200);
    expect(await lock.json()).toMatchObject({ lock: { reason: 'locked by admin token "admin"', actor: 'admin' } });
    const unlock = await api('/api/v1/extensions/1003/unlock', json);
    expect(unlock.status).toBe(200);
    expect(await unlock.json()).toMatchObject({ lock: null, changed: true });
  });

  it('a locked extension over the API is denied over FastAGI', async () => {
    const lock = await api('/api/v1/extensions/1002/lock', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'test' }) });
    expect(lock.status).toBe(200);
    const t = await playAsteriskSession({ port: serve.agiPort, env: authorizeEnv({ ext: '1002', number: '12125550123', source: '10.0.0.5:5060', origin: 'phone' }) });
    expect(t.variables.get('DIALGUARD_REASON')).toBe('extension_locked');
  });
});
