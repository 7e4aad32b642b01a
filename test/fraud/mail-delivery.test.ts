import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertDeliveryService } from '../../src/alerts/delivery.js';
import type { AlertPayload } from '../../src/alerts/payload.js';
import type { AlertsConfig, MailConfig } from '../../src/config/config.js';
import type { LogRecord } from '../agi/memory-logger.js';
import { startSmtpServer, type SmtpOptions, type SmtpServer } from '../support/smtp.js';
import type { TempGuard } from '../support/temp-db.js';
import { guardWithBreach, until, startFastDelivery } from './alert-fixture.js';
import { call } from './fixture.js';
import { startReceiver, type Receiver } from './receiver.js';

/** Alert mail against a real SMTP server on 127.0.0.1 (the smtp-server package): no mock transport. */


let t: TempGuard;
let delivery: AlertDeliveryService | undefined;
let servers: SmtpServer[] = [];
let receivers: Receiver[] = [];
let logs: LogRecord[];
afterEach(async () => {
  await delivery?.stop();
  delivery = undefined;
  await Promise.all([...servers.splice(0).map((s) => s.close()), ...receivers.splice(0).map((r) => r.close())]);
  await t?.close();
});

async function smtp(options: SmtpOptions = {}): Promise<SmtpServer> {
  const server = await startSmtpServer(options);
  servers.push(server);
  return server;
}

function mailTo(server: SmtpServer, to: string[], extra: Partial<MailConfig> = {}): MailConfig {
  return { secure: false, host: '127.0.0.1', port: server.port, auth: null, to, from: 'dialguard <dialguard@pbx.example.com>', ...extra };
}

function start(config: Partial<AlertsConfig>): void {
  ({ delivery, logs } = startFastDelivery(t.store, { timeoutMs: 2000, ...config }));
}



async function breach(): Promise<string> {
  const made = await guardWithBreach();
  t = made.t;
  return made.id;
}

describe('alert mail', () => {
  it('mails each alert once to each recipient, with the alert in the subject and the body', async () => {
    const id = await breach();
    const server = await smtp();
    start({ mail: mailTo(server, ['pbx-admin@example.com', 'oncall@example.com']) });
    await server.waitFor(2);
    await until(async () => (await t.store.getAlert(id))?.delivery.status === 'delivered');
    const alert = await t.store.getAlert(id);

    expect(server.received.map((m) => m.to)).toEqual(expect.arrayContaining([['pbx-admin@example.com'], ['oncall@example.com']]));
    const [mail] = server.received;
    expect(mail?.from).toBe('dialguard@pbx.example.com');
    expect(mail?.subject).toBe(`[dialguard] limit breached: ${alert?.message}`);
    expect(mail?.headers).toMatchObject({ from: 'dialguard <dialguard@pbx.example.com>', 'x-dialguard-alert': id, 'x-dialguard-event': 'breach', 'x-dialguard-attempt': '1' });
    expect(mail?.headers['message-id']).toBe(`<${id}.alert@pbx.example.com>`);
    expect(mail?.text).toContain(`${alert?.message}\n`);
    expect(mail?.text).toContain('Extension:   1001\n');
    expect(mail?.text).toContain('Count:       11, limit 10 within 60 s\n');
    expect(mail?.text).toContain(`POST /api/v1/alerts/${id}/ack`);
    const json = JSON.parse(mail?.text.slice(mail.text.indexOf('{')) ?? '') as AlertPayload;
    expect(json).toMatchObject({ id, kind: 'breach', extension: '1001', count: 11, limit: 10 });

    expect(alert?.delivery).toMatchObject({ status: 'delivered', attempts: 1, lastError: null });
    expect(alert?.delivery.deliveredTo.sort()).toEqual(['mailto:oncall@example.com', 'mailto:pbx-admin@example.com']);
    await sleep(150);
    expect(server.attempts).toBe(2);
  });

  it('retries a server that refuses the message for now (451), then delivers', async () => {
    const id = await breach();
    const server = await smtp({ answer: (n) => (n === 0 ? { code: 451, message: 'Try again later' } : 'accept') });
    start({ mail: mailTo(server, ['pbx-admin@example.com']), retryBaseMs: 50 });
    await until(async () => (await t.store.getAlert(id))?.delivery.status === 'delivered');
    expect(server.attempts).toBe(2);
    expect(server.received.map((m) => m.headers['x-dialguard-attempt'])).toEqual(['2']);
    expect((await t.store.getAlert(id))?.delivery).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(logs.filter((l) => l.msg === 'alert delivery failed, will retry').map((l) => l.error)).toEqual([
      expect.stringMatching(/^pbx-admin@example\.com via smtp:\/\/127\.0\.0\.1:\d+: refused \(451 Try again later\)$/),
    ]);
  });

  it('retries a server that is down with backoff, then marks the alert failed', async () => {
    const id = await breach();
    const down = await startSmtpServer();
    const { port } = down;
    await down.close();
    start({ mail: { secure: false, host: '127.0.0.1', port, auth: null, to: ['pbx-admin@example.com'], from: 'dialguard@pbx.example.com' }, retryBaseMs: 50 });
    const started = Date.now();
    await until(async () => (await t.store.getAlert(id))?.delivery.status === 'failed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect((await t.store.getAlert(id))?.delivery).toMatchObject({
      status: 'failed',
      attempts: 3,
      deliveredTo: [],
      lastError: expect.stringMatching(/^pbx-admin@example\.com via smtp:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/),
    });
  });

  it('does not mail a repeat of the same alert: a second occurrence only counts', async () => {
    const id = await breach();
    const server = await smtp();
    start({ mail: mailTo(server, ['pbx-admin@example.com']) });
    await until(async () => (await t.store.getAlert(id))?.delivery.status === 'delivered');
    // The twelfth call of the minute breaches the same limit again: the same alert, one more occurrence.
    expect((await t.guard.authorize(call('1001', '12125550123', new Date()))).reason).toBe('velocity_exceeded');
    expect(await t.store.listAlerts({}, { limit: 5 })).toEqual([expect.objectContaining({ id, occurrences: 2 })]);
    await sleep(300);
    expect(server.attempts).toBe(1);
  });

  it('sends again only to the channel that failed: the webhook once, the mail twice', async () => {
    const id = await breach();
    const server = await smtp({ answer: (n) => (n === 0 ? { code: 421, message: 'Service not available' } : 'accept') });
    const receiver = await startReceiver();
    receivers.push(receiver);
    start({ webhooks: [receiver.url], mail: mailTo(server, ['pbx-admin@example.com']) });
    await until(async () => (await t.store.getAlert(id))?.delivery.status === 'delivered');
    expect(receiver.received).toHaveLength(1);
    expect(server.attempts).toBe(2);
    expect((await t.store.getAlert(id))?.delivery.deliveredTo).toHaveLength(2);
  });

  it('over smtp:// with a login, never sends the password unless the server offers STARTTLS', async () => {
    const id = await breach();
    const server = await smtp({ user: 'alerts', password: 'hunter2-smtp' });
    start({ mail: mailTo(server, ['pbx-admin@example.com'], { auth: { user: 'alerts', password: 'hunter2-smtp' } }), maxAttempts: 1 });
    await until(async () => (await t.store.getAlert(id))?.delivery.status === 'failed');
    expect((await t.store.getAlert(id))?.delivery.lastError).toMatch(/STARTTLS: 500 .*: the login is sent only over TLS/);
    expect(server.refusedLogins + server.attempts).toBe(0);
    expect(JSON.stringify(logs)).not.toContain('hunter2-smtp');
  });

  it('leaves an alert whose mail was cut short by a stop pending, to be sent after the next start', async () => {
    const id = await breach();
    const server = await smtp({ answer: () => 'hang' });
    start({ mail: mailTo(server, ['pbx-admin@example.com']), timeoutMs: 5000 });
    await until(() => server.attempts === 1);
    const began = Date.now();
    await delivery?.stop();
    delivery = undefined;
    expect(Date.now() - began).toBeLessThan(1000);
    expect((await t.store.getAlert(id))?.delivery).toMatchObject({ status: 'pending', attempts: 0 });
  });
});
