import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

/** One message as the server took it, with the headers and text body decoded. */
export interface ReceivedMail {
  /** The envelope (MAIL FROM, RCPT TO), not the headers. */
  from: string;
  to: string[];
  /** The login the client used, or null. */
  user: string | null;
  /** The connection was TLS (smtps, or after STARTTLS). */
  secure: boolean;
  raw: string;
  /** Lower-case names, unfolded, RFC 2047 words decoded. */
  headers: Record<string, string>;
  subject: string;
  /** The text body, transfer encoding undone. */
  text: string;
}

/** What the server answers to the n-th message (0-based): accept it, refuse it with an SMTP reply, or never answer. */
export type MailAnswer = 'accept' | 'hang' | { code: number; message: string };

export interface SmtpOptions {
  /** With both, a login is required; without, any client may send. */
  user?: string;
  password?: string;
  /** TLS from the first byte (smtps); the certificate and key in PEM. */
  tls?: { key: string; cert: string };
  answer?: (n: number) => MailAnswer;
}

export interface SmtpServer {
  port: number;
  received: ReceivedMail[];
  /** Messages answered, refused ones included. */
  attempts: number;
  /** Logins refused. */
  refusedLogins: number;
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

/**
 * A real SMTP server (the smtp-server package) on 127.0.0.1, port 0. Plain SMTP has no STARTTLS,
 * so that a client that insists on TLS before it logs in is seen refusing to.
 */
export async function startSmtpServer(options: SmtpOptions = {}): Promise<SmtpServer> {
  const received: ReceivedMail[] = [];
  const state = { attempts: 0, refusedLogins: 0 };
  const login = options.user !== undefined && options.password !== undefined;
  const config: SMTPServerOptions = {
    secure: options.tls !== undefined,
    ...(options.tls ?? {}),
    disabledCommands: options.tls ? [] : login ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !login,
    allowInsecureAuth: true,
    disableReverseLookup: true,
    closeTimeout: 200,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === options.user && auth.password === options.password) callback(null, { user: auth.username });
      else {
        state.refusedLogins += 1;
        callback(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const n = state.attempts;
        state.attempts += 1;
        const answer = options.answer?.(n) ?? 'accept';
        if (answer === 'hang') return;
        if (answer !== 'accept') {
          callback(Object.assign(new Error(answer.message), { responseCode: answer.code }));
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        const from = session.envelope.mailFrom;
        received.push({
          ...parseMessage(raw),
          from: from ? from.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: typeof session.user === 'string' ? session.user : null,
          secure: session.secure,
          raw,
        });
        callback(null, 'queued');
      });
    },
  };
  const server = new SMTPServer(config);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    received,
    get attempts() {
      return state.attempts;
    },
    get refusedLogins() {
      return state.refusedLogins;
    },
    async waitFor(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < n) {
        if (Date.now() > deadline) throw new Error(`the SMTP server got ${received.length} messages, not ${n}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return received;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function parseMessage(raw: string): Pick<ReceivedMail, 'headers' | 'subject' | 'text'> {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = decodeWords(line.slice(colon + 1).trim());
  }
  const body = raw.slice(split + 4);
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const bytes =
    encoding === 'base64'
      ? Buffer.from(body, 'base64')
      : encoding === 'quoted-printable'
        ? Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1')
        : Buffer.from(body, 'utf8');
  return { headers, subject: headers.subject ?? '', text: bytes.toString('utf8').replace(/\r\n/g, '\n') };
}

/** RFC 2047 encoded words (`=?UTF-8?Q?…?=`, `=?UTF-8?B?…?=`); whitespace between two of them is dropped. */
function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_m, _charset: string, kind: string, text: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_q, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8'),
    );
}
