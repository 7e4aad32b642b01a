import type { NodemailerError } from 'nodemailer';
import type { MailConfig } from '../config/config.js';
import { credentialScrubber, type Scrubber } from '../redact.js';
import type { DeliveryChannel, DeliveryResult } from './channel.js';
import { alertMail } from './mail-message.js';

export interface Mailer {
  /** One channel per recipient: each gets its own message, so a refusal is retried for that recipient alone. */
  channels: DeliveryChannel[];
  /** Connects, says hello, upgrades to TLS and logs in as a send would, and sends nothing (dialguard doctor). */
  verify(): Promise<DeliveryResult>;
}

/**
 * Alert mail through one SMTP server (nodemailer). No connection is kept open between alerts:
 * they are rare, and a pooled connection would only be dropped by the server in between. Every
 * error text goes through the credential scrubber before it reaches a log line or the store.
 */
export function createMailer(mail: MailConfig, options: { timeoutMs: number }): Mailer {
  const { timeoutMs } = options;
  // nodemailer is loaded with the first mail: most sites send none for days, and it costs every guard a few MB.
  const open = async () => {
    const { createTransport } = await import('nodemailer');
    return createTransport({
      host: mail.host,
      port: mail.port,
      secure: mail.secure,
      auth: mail.auth ? { user: mail.auth.user, pass: mail.auth.password } : undefined,
      // A password never travels in clear: over smtp:// a login waits for STARTTLS, and a server
      // that does not offer it (or a man in the middle that strips it) gets no password.
      requireTLS: !mail.secure && mail.auth !== null,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      logger: false,
      debug: false,
    });
  };
  let transporter: ReturnType<typeof open> | undefined;
  const transport = (): ReturnType<typeof open> => (transporter ??= open());
  const server = mailServerName(mail);
  const scrub: Scrubber = mail.auth ? credentialScrubber(mail.auth.user, mail.auth.password) : (text) => text;
  const failure = (error: unknown, prefix: string): DeliveryResult => ({ ok: false, error: scrub(`${prefix}${server}: ${smtpErrorText(error, timeoutMs)}`) });
  // One Message-ID per alert: a copy sent again after a restart is recognised by mail clients.
  const domain = /@([^@>\s]+)>?\s*$/.exec(mail.from)?.[1] ?? 'dialguard.invalid';

  const channel = (to: string): DeliveryChannel => ({
    id: `mailto:${to}`,
    async send(alert, attempt, signal) {
      const { subject, text } = alertMail(alert);
      try {
        const info = await (await transport()).sendMail({
          from: mail.from,
          to,
          subject,
          text,
          messageId: `<${alert.id}.alert@${domain}>`,
          headers: { 'X-Dialguard-Alert': alert.id, 'X-Dialguard-Event': alert.kind, 'X-Dialguard-Attempt': String(attempt) },
          signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
        });
        return info.rejected.length === 0 ? { ok: true } : { ok: false, error: scrub(`${to} via ${server}: refused (${info.response})`) };
      } catch (error) {
        return failure(error, `${to} via `);
      }
    },
  });

  return {
    channels: mail.to.map(channel),
    async verify() {
      try {
        // No signal here: the connection, greeting and socket timeouts bound each step.
        await (await transport()).verify();
        return { ok: true };
      } catch (error) {
        return failure(error, '');
      }
    },
  };
}

/** `smtps://smtp.example.com:465`: how logs and errors name the server (never the credentials). */
export function mailServerName(mail: Pick<MailConfig, 'secure' | 'host' | 'port'>): string {
  const host = mail.host.includes(':') ? `[${mail.host}]` : mail.host;
  return `${mail.secure ? 'smtps' : 'smtp'}://${host}:${mail.port}`;
}

/** What went wrong in words an administrator acts on: the server's own reply when it gave one. */
function smtpErrorText(error: unknown, timeoutMs: number): string {
  const e = error as NodemailerError & { cause?: unknown };
  if (e?.name === 'AbortError' && (e.cause as Error | undefined)?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  if (e?.code === 'ETIMEDOUT') return `no answer within ${timeoutMs} ms`;
  if (e?.code === 'EAUTH') return `refused the login (${e.response ?? e.message})`;
  if (e?.code === 'ETLS') return `${e.message}: the login is sent only over TLS (smtps://, or a server that offers STARTTLS)`;
  if (e?.response) return `refused (${e.response})`;
  const code = e?.originalCode ?? e?.code;
  return code && !e.message?.includes(code) ? `${e.message} (${code})` : (e?.message ?? String(error));
}
