import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { authorizeEnv, playAsteriskSession } from '../support/asterisk-agi.js';
import { seedPolicy } from '../support/seed.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import { startSmtpServer, type SmtpServer } from '../support/smtp.js';

/**
 * Alert mail end to end: a real `dialguard serve` configured by DIALGUARD_ALERT_SMTP=smtps://…,
 * calls over FastAGI that breach a velocity limit, and a real SMTPS server on 127.0.0.1 that
 * requires a login. The guard trusts the server's test certificate through NODE_EXTRA_CA_CERTS,
 * as a site with a private CA would.
 */

const TLS_DIR = resolve(import.meta.dirname, '../support/tls');
const CERT = join(TLS_DIR, '127.0.0.1.cert.pem');
const PASSWORD = 'e2e-smtp-p@ss:word';

let dir: string;
let serve: ServeProcess | undefined;
let smtp: SmtpServer | undefined;
afterEach(async () => {
  await serve?.stop();
  await smtp?.close();
  serve = undefined;
  smtp = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('alert mail from dialguard serve', () => {
  it('mails a breach over smtps:// with a login, and never prints the password', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dialguard-mail-'));
    const db = join(dir, 'dialguard.db');
    seedPolicy(db, {
      defaults: { budget: { dailySpend: null, monthlySpend: null, dailyMinutes: null, maxConcurrent: null }, velocity: { lockOnBreach: false, warnRatio: null } },
      rates: [{ prefix: '+', perMinute: 0.01, increment: 60 }],
    });
    smtp = await startSmtpServer({ user: 'alerts@pbx.example.com', password: PASSWORD, tls: { key: readFileSync(join(TLS_DIR, '127.0.0.1.key.pem'), 'utf8'), cert: readFileSync(CERT, 'utf8') } });
    serve = await startServe(db, {
      DIALGUARD_ALERT_SMTP: `smtps://${encodeURIComponent('alerts@pbx.example.com')}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${smtp.port}`,
      DIALGUARD_ALERT_MAIL_TO: 'pbx-admin@example.com',
      DIALGUARD_ALERT_MAIL_FROM: 'dialguard@pbx.example.com',
      NODE_EXTRA_CA_CERTS: CERT,
    });
    const port = serve.agiPort;
    const call = () => playAsteriskSession({ port, env: authorizeEnv({ ext: '1001', number: '12125550123', source: '192.168.1.20:5060', origin: 'phone' }) });
    for (let i = 0; i < 10; i++) expect(Object.fromEntries((await call()).variables).DIALGUARD_RESULT).toBe('ALLOW');
    expect(Object.fromEntries((await call()).variables).DIALGUARD_REASON).toBe('velocity_exceeded');

    const [mail] = await smtp.waitFor(1, 15_000);
    expect(mail).toMatchObject({ secure: true, user: 'alerts@pbx.example.com', from: 'dialguard@pbx.example.com', to: ['pbx-admin@example.com'] });
    expect(mail?.subject).toMatch(/^\[dialguard\] limit breached: Extension 1001: /);
    expect(mail?.headers['x-dialguard-event']).toBe('breach');
    const alerts = (await (await fetch(`http://127.0.0.1:${serve.httpPort}/api/v1/alerts`, { headers: { authorization: `Bearer ${serve.adminToken}` } })).json()) as {
      items: Array<{ id: string; delivery: { status: string; attempts: number } }>;
    };
    const alert = alerts.items.find((a) => a.id === mail?.headers['x-dialguard-alert']);
    expect(alert?.delivery).toMatchObject({ status: 'delivered', attempts: 1, lastError: null });
    const output = serve.output.join('\n');
    expect(output).not.toContain(PASSWORD);
    expect(output).not.toContain(encodeURIComponent(PASSWORD));
  });
});
