import { DEFAULTS } from './config.js';

export interface TemplateValues {
  /** The database `dialguard init` created (its --db), else the default. */
  db: string;
  /** The zone the default policy's schedule and budget days follow; init writes this machine's. */
  timezone: string;
  /** When the file was written (ISO 8601), for its first line. */
  writtenAt: string;
}

/** One setting of the file: a comment, then the key; `example` settings are written commented out. */
type Line = { comment: string; key: string; value: unknown; example?: boolean };

const json = (value: unknown): string => JSON.stringify(value);

/** JSON on one line, with a space after each comma and colon, as a person writes it. */
function inline(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(json).join(', ')}]`;
  if (typeof value === 'object' && value !== null) return `{ ${Object.entries(value).map(([k, v]) => `${json(k)}: ${json(v)}`).join(', ')} }`;
  return json(value);
}

/**
 * Every setting a config file may hold (config.ts reads it), each with its default, one line of
 * comment and the environment variable that wins over it. Settings that are off by default are
 * written commented out with an example, each ending in a comma, before a setting that is set:
 * removing the `//` of any of them leaves valid JSON.
 */
export function configTemplate(values: TemplateValues): string {
  const top: Line[] = [
    { comment: 'FastAGI listener: the dialplan\'s DIALGUARD_AGI (agi://HOST:PORT) points here. env DIALGUARD_AGI_LISTEN', key: 'agiListen', value: DEFAULTS.agiListen },
    {
      comment: 'Addresses or CIDRs that may connect to FastAGI; unset: only loopback when bound to loopback, else anyone. env DIALGUARD_AGI_ALLOW (comma-separated)',
      key: 'agiAllowFrom',
      value: ['127.0.0.1', '10.0.0.0/8'],
      example: true,
    },
    { comment: 'Admin API and dashboard (http://HOST:PORT/). env DIALGUARD_HTTP_LISTEN', key: 'httpListen', value: DEFAULTS.httpListen },
    { comment: 'SQLite database file, relative to the folder serve runs in (its folder is created). env DIALGUARD_DB, or --db', key: 'db', value: values.db },
    { comment: 'Home country (ISO 3166 alpha-2): dialling rules, emergency numbers, the default policy. env DIALGUARD_HOME_COUNTRY', key: 'homeCountry', value: DEFAULTS.homeCountry },
    { comment: 'IANA time zone of the default policy\'s schedule and budget days; default: the system\'s. env DIALGUARD_TIMEZONE', key: 'timezone', value: values.timezone },
    {
      comment: 'GeoIP country database (MaxMind mmdb: GeoLite2/GeoIP2 Country); unset: the shipped DB-IP Lite. env DIALGUARD_GEOIP_DB',
      key: 'geoipDb',
      value: '/var/lib/GeoIP/GeoLite2-Country.mmdb',
      example: true,
    },
    { comment: 'Every FastAGI session is answered within this many ms; keep it under the dialplan\'s DIALGUARD_DEADLINE minus 2 s. env DIALGUARD_ANSWER_DEADLINE_MS', key: 'answerDeadlineMs', value: DEFAULTS.answerDeadlineMs },
    { comment: 'FastAGI sessions at once; past it a connection is dropped (the call fails closed). env DIALGUARD_AGI_MAX_CONNECTIONS', key: 'agiMaxConnections', value: DEFAULTS.agiMaxConnections },
    { comment: 'FastAGI listen backlog; the kernel caps it at net.core.somaxconn. env DIALGUARD_AGI_BACKLOG', key: 'agiBacklog', value: DEFAULTS.agiBacklog },
    { comment: 'An unsettled reservation expires after its limit plus this many seconds. env DIALGUARD_RESERVATION_GRACE_SECONDS', key: 'reservationGraceSeconds', value: DEFAULTS.reservationGraceSeconds },
    { comment: 'Decisions older than this many days are pruned in the background; 0 keeps them forever. env DIALGUARD_AUDIT_RETENTION_DAYS', key: 'auditRetentionDays', value: DEFAULTS.auditRetentionDays },
    {
      comment: 'The admin token (16+ characters); unset: dialguard init or the first start made one, stored hashed. env DIALGUARD_ADMIN_TOKEN',
      key: 'adminToken',
      value: 'a-long-random-token-of-your-own',
      example: true,
    },
    {
      comment: 'ARI (Stasis app); off unless url is set. env DIALGUARD_ARI_URL, DIALGUARD_ARI_USER, DIALGUARD_ARI_PASSWORD, DIALGUARD_ARI_APP',
      key: 'ari',
      value: { url: 'http://127.0.0.1:8088', user: 'dialguard', password: 'the-ari.conf-password', app: DEFAULTS.ariApp },
      example: true,
    },
    {
      comment: 'Live security events from AMI: a manager.conf user with read = security (user and secret percent-encoded). env DIALGUARD_AMI_URL',
      key: 'amiUrl',
      value: `tcp://dialguard:the-manager.conf-secret@127.0.0.1:${DEFAULTS.amiPort}`,
      example: true,
    },
    {
      comment: 'Live security events from Asterisk\'s security log channel (logger.conf: security => security), followed across rotation. env DIALGUARD_SECURITY_LOG',
      key: 'securityLog',
      value: '/var/log/asterisk/security',
      example: true,
    },
  ];
  const alerts: Line[] = [
    { comment: 'Webhook URLs each alert is POSTed to. env DIALGUARD_ALERT_WEBHOOK (comma-separated)', key: 'webhooks', value: ['https://hooks.example.com/dialguard'], example: true },
    { comment: 'HMAC-SHA256 key of the webhooks\' x-dialguard-signature; unset: unsigned. env DIALGUARD_ALERT_SECRET', key: 'secret', value: 'a-long-random-secret', example: true },
    {
      comment: 'SMTP server alerts are mailed through: smtp:// (STARTTLS, 587) or smtps:// (TLS, 465), user and password percent-encoded. env DIALGUARD_ALERT_SMTP',
      key: 'smtp',
      value: 'smtps://alerts%40example.com:PASSWORD@smtp.example.com:465',
      example: true,
    },
    { comment: 'Who gets the alert mail, one message each. env DIALGUARD_ALERT_MAIL_TO (comma-separated)', key: 'mailTo', value: ['pbx-admin@example.com'], example: true },
    { comment: 'The mail\'s sender; default dialguard@ this host\'s name. env DIALGUARD_ALERT_MAIL_FROM', key: 'mailFrom', value: 'dialguard <dialguard@example.com>', example: true },
    { comment: 'Each webhook POST and each mail is given up after this many ms. env DIALGUARD_ALERT_TIMEOUT_MS', key: 'timeoutMs', value: DEFAULTS.alertTimeoutMs },
    { comment: 'Attempts per alert before it is marked failed. env DIALGUARD_ALERT_MAX_ATTEMPTS', key: 'maxAttempts', value: DEFAULTS.alertMaxAttempts },
    { comment: 'Wait before the first retry in ms, doubled for each one after (at most 10 min). env DIALGUARD_ALERT_RETRY_MS', key: 'retryBaseMs', value: DEFAULTS.alertRetryBaseMs },
  ];
  const last: Line = { comment: 'Log level: fatal, error, warn, info, debug, trace or silent. env DIALGUARD_LOG_LEVEL', key: 'logLevel', value: DEFAULTS.logLevel };

  const out = [
    `// dialguard configuration, written by dialguard init on ${values.writtenAt}.`,
    '// JSON, and a line starting with // is a comment. An environment variable named beside a setting',
    '// wins over it; --db FILE wins over both. To set a commented-out setting, remove its //.',
    '{',
    ...top.flatMap((line) => entry(line, '  ', true)),
    '  // Alerts are logged and stored (GET /api/v1/alerts); these settings also send them on.',
    '  "alerts": {',
    ...alerts.flatMap((line, i) => entry(line, '    ', i < alerts.length - 1)),
    '  },',
    ...entry(last, '  ', false),
    '}',
    '',
  ];
  return out.join('\n');
}

function entry(line: Line, indent: string, comma: boolean): string[] {
  // An example always carries its comma: it stands before a setting that is set.
  const text = `${json(line.key)}: ${inline(line.value)}${comma || line.example ? ',' : ''}`;
  return [`${indent}// ${line.comment}`, `${indent}${line.example ? '// ' : ''}${text}`];
}
