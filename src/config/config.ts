import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isSupportedCountry } from 'libphonenumber-js/max';
import { causeText, ConfigError } from '../errors.js';
import { parseNetwork } from '../net/address.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface AriConfig {
  url: string;
  user: string;
  password: string;
  app: string;
}

/** An Asterisk Manager Interface account that may read security events (DIALGUARD_AMI_URL). */
export interface AmiConfig {
  host: string;
  port: number;
  user: string;
  secret: string;
}

/** Where and how alerts are sent (see src/alerts). */
export interface AlertsConfig {
  /** Webhook URLs each alert is POSTed to; none: alerts are only logged and stored. */
  webhooks: string[];
  /** Key of the HMAC-SHA256 signature header; null: requests are not signed. */
  secret: string | null;
  /** Each POST is given up after this long. */
  timeoutMs: number;
  /** Attempts per alert before it is marked failed. */
  maxAttempts: number;
  /** Wait before the first retry; doubled for each one after. */
  retryBaseMs: number;
  /** Alert mail; null: no mail is sent. */
  mail: MailConfig | null;
}

/** An SMTP server alerts are mailed through (DIALGUARD_ALERT_SMTP), and to whom. */
export interface MailConfig {
  /** smtps: TLS from the first byte (port 465); smtp: STARTTLS when the server offers it (port 587). */
  secure: boolean;
  host: string;
  port: number;
  /** Null: the server takes mail without a login (a relay on the LAN or this host). */
  auth: { user: string; password: string } | null;
  /** Each gets its own message: a recipient that refused it is retried alone. */
  to: string[];
  from: string;
}

export interface Config {
  agiListen: ListenAddress;
  httpListen: ListenAddress;
  dbPath: string;
  homeCountry: string;
  timezone: string;
  geoipPath: string | null;
  answerDeadlineMs: number;
  agiMaxConnections: number;
  /** The FastAGI listener's accept queue (listen backlog); the kernel caps it at net.core.somaxconn. */
  agiBacklog: number;
  /** Addresses or CIDRs that may connect to FastAGI; null: loopback only when bound to loopback, else anyone. */
  agiAllowFrom: string[] | null;
  reservationGraceSeconds: number;
  /** Decisions (and their settlements, old alerts) older than this many days are pruned; 0 keeps them forever. */
  auditRetentionDays: number;
  logLevel: string;
  ari: AriConfig | null;
  adminToken: string | null;
  alerts: AlertsConfig;
  /** Where `serve` reads Asterisk's security events live; null: not from AMI. */
  ami: AmiConfig | null;
  /** The `security` log channel file `serve` follows; null: none. */
  securityLog: string | null;
}

/** What a config file (JSON) may set; every key has an environment variable that wins over it. */
interface FileConfig {
  agiListen?: string;
  httpListen?: string;
  db?: string;
  homeCountry?: string;
  timezone?: string;
  geoipDb?: string;
  answerDeadlineMs?: number;
  agiMaxConnections?: number;
  agiBacklog?: number;
  agiAllowFrom?: string[];
  reservationGraceSeconds?: number;
  auditRetentionDays?: number;
  logLevel?: string;
  adminToken?: string;
  ari?: { url?: string; user?: string; password?: string; app?: string };
  amiUrl?: string;
  securityLog?: string;
  alerts?: {
    webhooks?: string[] | string;
    secret?: string;
    timeoutMs?: number;
    maxAttempts?: number;
    retryBaseMs?: number;
    smtp?: string;
    mailTo?: string[] | string;
    mailFrom?: string;
  };
}

export const FILE_KEYS = new Set(['agiListen', 'httpListen', 'db', 'homeCountry', 'timezone', 'geoipDb', 'answerDeadlineMs', 'agiMaxConnections', 'agiBacklog', 'agiAllowFrom', 'reservationGraceSeconds', 'auditRetentionDays', 'logLevel', 'adminToken', 'ari', 'alerts', 'amiUrl', 'securityLog']);

export const DEFAULTS = {
  agiListen: '127.0.0.1:4573',
  httpListen: '127.0.0.1:8380',
  db: './data/dialguard.db',
  homeCountry: 'US',
  answerDeadlineMs: 500,
  agiMaxConnections: 1024,
  agiBacklog: 4096,
  reservationGraceSeconds: 300,
  // A year of audit, and a month to spare.
  auditRetentionDays: 400,
  logLevel: 'info',
  ariApp: 'dialguard',
  amiPort: 5038,
  alertTimeoutMs: 5000,
  alertMaxAttempts: 6,
  alertRetryBaseMs: 2000,
} as const;

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  configFile?: string;
  /** Command-line flags: win over the environment. */
  flags?: { db?: string };
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.configFile ?? env.DIALGUARD_CONFIG;
  const fc = file ? readConfigFile(options.configFile === undefined ? 'DIALGUARD_CONFIG' : '--config', file) : {};
  const pick = (envName: string, fileValue: string | number | undefined, fallback: string): string => {
    const v = env[envName];
    if (v !== undefined && v !== '') return v;
    return fileValue === undefined ? fallback : String(fileValue);
  };

  const homeCountry = pick('DIALGUARD_HOME_COUNTRY', fc.homeCountry, DEFAULTS.homeCountry).toUpperCase();
  if (!isSupportedCountry(homeCountry)) throw new ConfigError(`DIALGUARD_HOME_COUNTRY="${homeCountry}" is not an ISO 3166 alpha-2 code with a numbering plan`);
  const timezone = pick('DIALGUARD_TIMEZONE', fc.timezone, Intl.DateTimeFormat().resolvedOptions().timeZone);
  if (!isTimezone(timezone)) throw new ConfigError(`DIALGUARD_TIMEZONE="${timezone}" is not an IANA time zone`);

  const ariUrl = pick('DIALGUARD_ARI_URL', fc.ari?.url, '');
  return {
    agiListen: parseListen('DIALGUARD_AGI_LISTEN', pick('DIALGUARD_AGI_LISTEN', fc.agiListen, DEFAULTS.agiListen)),
    httpListen: parseListen('DIALGUARD_HTTP_LISTEN', pick('DIALGUARD_HTTP_LISTEN', fc.httpListen, DEFAULTS.httpListen)),
    dbPath: options.flags?.db ?? pick('DIALGUARD_DB', fc.db, DEFAULTS.db),
    homeCountry,
    timezone,
    geoipPath: pick('DIALGUARD_GEOIP_DB', fc.geoipDb, '') || null,
    answerDeadlineMs: positiveInt('DIALGUARD_ANSWER_DEADLINE_MS', pick('DIALGUARD_ANSWER_DEADLINE_MS', fc.answerDeadlineMs, String(DEFAULTS.answerDeadlineMs))),
    agiMaxConnections: positiveInt(
      'DIALGUARD_AGI_MAX_CONNECTIONS',
      pick('DIALGUARD_AGI_MAX_CONNECTIONS', fc.agiMaxConnections, String(DEFAULTS.agiMaxConnections)),
    ),
    agiBacklog: positiveInt('DIALGUARD_AGI_BACKLOG', pick('DIALGUARD_AGI_BACKLOG', fc.agiBacklog, String(DEFAULTS.agiBacklog))),
    agiAllowFrom: allowList(env.DIALGUARD_AGI_ALLOW, fc.agiAllowFrom),
    reservationGraceSeconds: positiveInt(
      'DIALGUARD_RESERVATION_GRACE_SECONDS',
      pick('DIALGUARD_RESERVATION_GRACE_SECONDS', fc.reservationGraceSeconds, String(DEFAULTS.reservationGraceSeconds)),
    ),
    auditRetentionDays: retentionDays(pick('DIALGUARD_AUDIT_RETENTION_DAYS', fc.auditRetentionDays, String(DEFAULTS.auditRetentionDays))),
    logLevel: logLevel(pick('DIALGUARD_LOG_LEVEL', fc.logLevel, DEFAULTS.logLevel)),
    adminToken: pick('DIALGUARD_ADMIN_TOKEN', fc.adminToken, '') || null,
    ari: ariUrl
      ? {
          url: ariUrl,
          user: pick('DIALGUARD_ARI_USER', fc.ari?.user, ''),
          password: pick('DIALGUARD_ARI_PASSWORD', fc.ari?.password, ''),
          app: pick('DIALGUARD_ARI_APP', fc.ari?.app, DEFAULTS.ariApp),
        }
      : null,
    alerts: {
      webhooks: webhookUrls(pick('DIALGUARD_ALERT_WEBHOOK', Array.isArray(fc.alerts?.webhooks) ? fc.alerts.webhooks.join(',') : fc.alerts?.webhooks, '')),
      secret: pick('DIALGUARD_ALERT_SECRET', fc.alerts?.secret, '') || null,
      timeoutMs: positiveInt('DIALGUARD_ALERT_TIMEOUT_MS', pick('DIALGUARD_ALERT_TIMEOUT_MS', fc.alerts?.timeoutMs, String(DEFAULTS.alertTimeoutMs))),
      maxAttempts: positiveInt('DIALGUARD_ALERT_MAX_ATTEMPTS', pick('DIALGUARD_ALERT_MAX_ATTEMPTS', fc.alerts?.maxAttempts, String(DEFAULTS.alertMaxAttempts))),
      retryBaseMs: positiveInt('DIALGUARD_ALERT_RETRY_MS', pick('DIALGUARD_ALERT_RETRY_MS', fc.alerts?.retryBaseMs, String(DEFAULTS.alertRetryBaseMs))),
      mail: mailConfig(
        pick('DIALGUARD_ALERT_SMTP', fc.alerts?.smtp, ''),
        pick('DIALGUARD_ALERT_MAIL_TO', Array.isArray(fc.alerts?.mailTo) ? fc.alerts.mailTo.join(',') : fc.alerts?.mailTo, ''),
        pick('DIALGUARD_ALERT_MAIL_FROM', fc.alerts?.mailFrom, `dialguard@${hostname()}`),
      ),
    },
    ami: amiConfig(pick('DIALGUARD_AMI_URL', fc.amiUrl, '')),
    securityLog: pick('DIALGUARD_SECURITY_LOG', fc.securityLog, '') || null,
  };
}

/**
 * `tcp://USER:SECRET@HOST:PORT` (user and secret percent-encoded, the port 5038 by default). The
 * URL holds the secret: an error shows it without (amiUrlForLog).
 */
function amiConfig(text: string): AmiConfig | null {
  if (text === '') return null;
  let url: URL | null = null;
  try {
    url = new URL(text);
  } catch {
    url = null;
  }
  const expected = 'is not tcp://USER:SECRET@HOST:PORT (e.g. tcp://dialguard:secret@127.0.0.1:5038)';
  if (!url || url.protocol !== 'tcp:' || url.hostname === '') {
    const shown = url && url.hostname ? `${url.protocol}//${url.host}` : `${text.slice(0, 6)}…`;
    throw new ConfigError(`DIALGUARD_AMI_URL: "${shown}" ${expected}`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? DEFAULTS.amiPort : Number(url.port);
  const user = percentDecoded(url.username);
  const secret = percentDecoded(url.password);
  if (user === null || secret === null) throw new ConfigError(`DIALGUARD_AMI_URL: "tcp://…@${url.host}" has a user or secret that is not percent-encoded UTF-8`);
  const shown = amiUrlForLog({ host, port, user, secret });
  if (port === 0) throw new ConfigError(`DIALGUARD_AMI_URL: "${shown}" ${expected}: port 0`);
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') throw new ConfigError(`DIALGUARD_AMI_URL: "${shown}/…" ${expected}: no path or query`);
  if (user === '' || secret === '') throw new ConfigError(`DIALGUARD_AMI_URL: "${shown}" has no user or no secret: ${expected}`);
  return { host, port, user, secret };
}

function percentDecoded(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/** The AMI URL as logs and errors show it: everything but the secret. */
export function amiUrlForLog(ami: AmiConfig): string {
  return `tcp://${encodeURIComponent(ami.user)}@${formatAddress(ami.host, ami.port)}`;
}

/** Comma-separated http(s) URLs. A webhook URL often holds a secret: an error names its origin only. */
function webhookUrls(value: string): string[] {
  const urls = value.split(',').map((u) => u.trim()).filter(Boolean);
  for (const text of urls) {
    let url: URL | null = null;
    try {
      url = new URL(text);
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      const shown = url ? url.origin : `${text.slice(0, 12)}…`;
      throw new ConfigError(`DIALGUARD_ALERT_WEBHOOK: "${shown}" is not an http(s) URL`);
    }
  }
  return urls;
}

/**
 * `smtp://USER:PASSWORD@HOST:PORT` or `smtps://…` (user and password percent-encoded, both
 * optional). The URL holds a password: an error names its scheme and host only.
 */
function mailConfig(smtp: string, to: string, from: string): MailConfig | null {
  if (smtp === '') {
    if (to !== '') throw new ConfigError('DIALGUARD_ALERT_MAIL_TO is set but DIALGUARD_ALERT_SMTP is not: set the SMTP server alerts are sent through');
    return null;
  }
  let url: URL | null = null;
  try {
    url = new URL(smtp);
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') || url.hostname === '' || (url.pathname !== '' && url.pathname !== '/') || url.search !== '') {
    const shown = url && url.hostname ? `${url.protocol}//${url.host}` : `${smtp.slice(0, 7)}…`;
    throw new ConfigError(`DIALGUARD_ALERT_SMTP: "${shown}" is not smtp://USER:PASSWORD@HOST:PORT or smtps://USER:PASSWORD@HOST:PORT`);
  }
  const secure = url.protocol === 'smtps:';
  const recipients = to.split(',').map((a) => a.trim()).filter(Boolean);
  if (recipients.length === 0) throw new ConfigError('DIALGUARD_ALERT_SMTP is set but DIALGUARD_ALERT_MAIL_TO is not: set who gets the alert mail (comma-separated addresses)');
  for (const address of recipients) {
    if (!MAIL_ADDRESS.test(address)) throw new ConfigError(`DIALGUARD_ALERT_MAIL_TO: "${address}" is not a mail address (user@example.com)`);
  }
  const sender = /<([^<>]*)>\s*$/.exec(from)?.[1] ?? from;
  if (!MAIL_ADDRESS.test(sender.trim())) {
    throw new ConfigError(`DIALGUARD_ALERT_MAIL_FROM: "${from}" is not a mail address (dialguard@example.com or "dialguard <dialguard@example.com>")`);
  }
  const user = decodeURIComponent(url.username);
  return {
    secure,
    // URL keeps the brackets of an IPv6 literal; a socket wants the bare address.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? (secure ? 465 : 587) : Number(url.port),
    auth: user === '' ? null : { user, password: decodeURIComponent(url.password) },
    to: recipients,
    from: from.trim(),
  };
}

/** A bare address: what an SMTP envelope takes. Display names are for the From header only. */
const MAIL_ADDRESS = /^[^\s@<>,;"]+@[^\s@<>,;"]+$/;

/** `setting` is how the file was named (--config or DIALGUARD_CONFIG): every refusal starts with it. */
function readConfigFile(setting: string, path: string): FileConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${setting}: cannot read the config file ${path}: ${causeText(err)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(withoutComments(text));
  } catch (err) {
    throw new ConfigError(`${setting}: the config file ${path} is not valid JSON: ${causeText(err)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`${setting}: the config file ${path} must hold a JSON object`);
  const unknown = Object.keys(parsed).filter((k) => !FILE_KEYS.has(k));
  if (unknown.length) throw new ConfigError(`${setting}: the config file ${path} has unknown key(s) ${unknown.join(', ')}`);
  return parsed as FileConfig;
}

/**
 * The file is JSON whose lines may be comments: a line whose first non-blank characters are `//`
 * (what `dialguard init` writes). JSON strings cannot span lines, so such a line is never inside
 * a value; it is blanked rather than removed so that JSON.parse's positions still match the file.
 */
function withoutComments(text: string): string {
  return text.replace(/^([ \t]*)(\/\/.*)$/gm, (_line, indent: string, comment: string) => indent + ' '.repeat(comment.length));
}

export function parseListen(name: string, value: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`${name}="${value}" is not HOST:PORT (e.g. 127.0.0.1:4573 or [::1]:4573)`);
  return { host: (m[1] ?? m[2]) as string, port };
}

/** The inverse of parseListen: `127.0.0.1:4573`, `[::1]:4573`. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function allowList(fromEnv: string | undefined, fromFile: string[] | undefined): string[] | null {
  if (fromEnv !== undefined && fromEnv.trim() !== '') return checkedAllowList('DIALGUARD_AGI_ALLOW', fromEnv.split(',').map((a) => a.trim()).filter(Boolean));
  if (fromFile !== undefined) {
    if (!Array.isArray(fromFile) || fromFile.some((a) => typeof a !== 'string')) throw new ConfigError('agiAllowFrom must be a list of addresses or CIDRs');
    return checkedAllowList('agiAllowFrom', fromFile);
  }
  return null;
}

/** Checked here, in the grammar of src/net/address.ts, so that a bad entry is named with its setting. */
function checkedAllowList(name: string, entries: string[]): string[] {
  const bad = entries.find((entry) => parseNetwork(entry) === null);
  if (bad !== undefined) {
    throw new ConfigError(`${name}: "${bad}" is not an IP address or CIDR (IPv4 as four decimal numbers like 10.0.0.0/8, IPv6 like 2001:db8::/32)`);
  }
  return entries;
}

/** pino's levels: another name would make the logger throw at start with a stack trace. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function logLevel(value: string): string {
  if (!LOG_LEVELS.includes(value)) throw new ConfigError(`DIALGUARD_LOG_LEVEL="${value}" is not a log level (${LOG_LEVELS.join(', ')})`);
  return value;
}

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`${name}="${value}" must be a positive whole number`);
  return n;
}

/** A century at most: the cutoff stays a date. */
function retentionDays(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 36_500) throw new ConfigError(`DIALGUARD_AUDIT_RETENTION_DAYS="${value}" must be a whole number of days from 0 (keep forever) to 36500`);
  return n;
}

function isTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Where a client on this machine reaches a listener: a wildcard bind is reached on loopback. */
export function localAddress(listen: ListenAddress): ListenAddress {
  if (listen.host === '0.0.0.0') return { host: '127.0.0.1', port: listen.port };
  if (listen.host === '::' || listen.host === '[::]') return { host: '::1', port: listen.port };
  return listen;
}
