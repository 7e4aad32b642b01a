/**
 * The live security feed of `dialguard serve`: owns the configured sources (an AMI connection, the
 * `security` log file, or both) and hands every SecurityEvent to one sink, the reputation tracker.
 * Nothing here blocks or fails the guard: a source that is down reconnects or retries on its own,
 * a block or line that cannot be read is counted and dropped, a sink that throws is logged.
 */
import type { Logger } from 'pino';
import type { AmiConfig } from '../config/config.js';
import type { SecurityEvent, SecurityEventSink } from '../domain/security.js';
import { startAmiClient, type AmiClient } from '../ami/client.js';
import type { Metrics, SecurityEventSource } from '../metrics.js';
import { securityEventFromFields } from '../security/event-fields.js';
import { followFile, type FileFollower, type FileFollowerOptions } from './file-follower.js';
import { parseAsteriskLine } from '../security/parse-line.js';

export type SecurityFeedMetrics = Pick<Metrics, 'watchAmiConnection' | 'watchSecuritySource' | 'observeSecurityEvent' | 'observeSecurityEventUnparsed'>;

export interface SecurityFeedOptions {
  ami: AmiConfig | null;
  securityLog: string | null;
  /** The zone the PBX writes its log's wall clock in (a line without a readable EventTV is placed by it). */
  timezone: string;
  sink: SecurityEventSink;
  logger: Logger;
  metrics: SecurityFeedMetrics;
  /** The follower's poll interval and line limit (tests shorten the interval). */
  fileTuning?: Partial<Pick<FileFollowerOptions, 'pollIntervalMs' | 'maxLineBytes'>>;
}

export interface SecurityFeed {
  /** Null when AMI is not configured. */
  readonly ami: AmiClient | null;
  /** Stops every source; resolves when they are closed. Idempotent. */
  close(): Promise<void>;
}

export function startSecurityFeed(options: SecurityFeedOptions): SecurityFeed {
  const { sink, logger, metrics } = options;
  if (options.ami && options.securityLog) logger.warn('security events from both AMI and the security log: each event is read twice');

  function deliver(source: SecurityEventSource, event: SecurityEvent): void {
    metrics.observeSecurityEvent(source, event.kind);
    try {
      sink.accept(event);
    } catch (err) {
      logger.error({ err, source, event: event.detail }, 'security event sink failed; the feed goes on');
    }
  }

  let ami: AmiClient | null = null;
  if (options.ami) {
    metrics.watchSecuritySource('ami');
    ami = startAmiClient({
      ...options.ami,
      logger,
      onEvent(name, fields) {
        // Object.fromEntries defines own properties: a field named `__proto__` stays a field.
        const event = securityEventFromFields(Object.fromEntries(fields), Date.now());
        if (event) deliver('ami', event);
        // An event of the security class that could not be mapped is a fault; any other class is simply not ours.
        else if (fields.get('Privilege')?.startsWith('security') === true) {
          logger.debug({ event: name }, 'AMI security event not understood, dropped');
          metrics.observeSecurityEventUnparsed('ami');
        }
      },
      onUnparsed: () => metrics.observeSecurityEventUnparsed('ami'),
    });
    const client = ami;
    metrics.watchAmiConnection(() => client.connected);
  }

  let file: FileFollower | null = null;
  if (options.securityLog) {
    metrics.watchSecuritySource('file');
    file = followFile({
      path: options.securityLog,
      ...options.fileTuning,
      logger,
      onLine(line) {
        const read = parseAsteriskLine(line, { timezone: options.timezone, referenceMs: Date.now() });
        if (read.kind === 'event') deliver('file', read.event);
        else if (read.kind === 'unrecognised') metrics.observeSecurityEventUnparsed('file');
      },
      onOversize: () => metrics.observeSecurityEventUnparsed('file'),
    });
  }

  let closing: Promise<void> | undefined;
  return {
    ami,
    close() {
      closing ??= Promise.all([ami?.close(), file?.close()]).then(() => undefined);
      return closing;
    },
  };
}
