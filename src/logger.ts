import pino, { type Logger } from 'pino';

export type { Logger };

/** Fields that may hold a secret wherever they appear in a log object. */
const REDACT = ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization', 'req.headers.authorization'];

export function createLogger(level = 'info', destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { service: 'dialguard' }, redact: { paths: REDACT, censor: '[redacted]' } }, destination);
}
