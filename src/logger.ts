import pino, { type Logger } from 'pino';

export type { Logger };

/** Fields that may hold a secret wherever they appear in a log object, at any depth. */
const SECRET_FIELDS = ['password', 'token', 'authorization'];
const CENSOR = '[redacted]';
/**
 * A secret field as it appears in a line pino has serialized: a key is the only place a quote can
 * stand unescaped before the name, so a string value that merely mentions it does not match.
 */
const SECRET_KEY = new RegExp(`"(?:${SECRET_FIELDS.join('|')})":`);

function censor(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(censor);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, SECRET_FIELDS.includes(key) ? CENSOR : censor(inner)]));
}

/**
 * Censors secret fields in the line as written, after pino's serializers (an error's own
 * properties among them). pino's own `redact` clones and re-serializes every field of every line
 * for a wildcard path, the heaviest allocation of a decision (about 16 KB a call); this costs one
 * regular-expression test a line, and a parse only of a line that holds a secret.
 */
export function censorSecrets(line: string): string {
  if (!SECRET_KEY.test(line)) return line;
  return `${JSON.stringify(censor(JSON.parse(line)))}\n`;
}

export function createLogger(level = 'info', destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { service: 'dialguard' }, hooks: { streamWrite: censorSecrets } }, destination);
}
