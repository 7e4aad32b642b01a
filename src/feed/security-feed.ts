/**
 * The live security feed of `dialguard serve`: owns the configured sources (an AMI connection, the
 * `security` log file, or both) and hands every SecurityEvent to one sink, the reputation tracker.
 * Nothing here blocks or fails the guard: a source that is down reconnects or retries on its own,
 * a block or line that cannot be read is counted and dropped, a sink that throws is logged.
 */
import type { Logger } from 'pino';
import type { AmiConfig } from '../config/config.js';
import type { SecurityEvent } from '../domain/security.js';
import { startAmiClient, type AmiClient, type AmiClientOptions } from '../ami/client.js';
import type { Metrics, SecurityEventSource } from '../metrics.js';
import { isSecurityEventName, securityEventFromFields } from '../security/event-fields.js';
import { followFile, type FileFollower, type FileFollowerOptions } from './file-follower.js';
import { readSecurityLogLine } from './security-log-line.js';

/** What consumes the events (src/intrusion's tracker). Synchronous: it only counts, in memory. */
export interface SecurityEventSink {
  accept(event: SecurityEvent): void;
}

export type SecurityFeedMetrics = Pick<Metrics, 'watchAmiConnection' | 'watchSecuritySource' | 'observeSecurityEvent' | 'observeSecurityEventUnparsed'>;

export interface SecurityFeedOptions {
  ami: AmiConfig | null;
  securityLog: string | null;
  sink: SecurityEventSink;
  logger: Logger;
  metrics: SecurityFeedMetrics;
  /** Timeouts and backoff of the AMI client (tests shorten them). */
  amiTuning?: Partial<Pick<AmiClientOptions, 'connectTimeoutMs' | 'loginTimeoutMs' | 'retryDelayMs' | 'maxRetryDelayMs' | 'pingIntervalMs' | 'pingTimeoutMs' | 'maxBlockBytes'>>;
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
      ...options.amiTuning,
      logger,
      onEvent(name, fields) {
        const event = securityEventFromFields(fields);
        if (event) deliver('ami', event);
        // A security event that could not be mapped is a fault; any other event class is simply not ours.
        else if (isSecurityEventName(name) || fields.get('Privilege')?.startsWith('security') === true) {
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
        const read = readSecurityLogLine(line);
        if (read.kind === 'event') deliver('file', read.event);
        else if (read.kind === 'unparsed') metrics.observeSecurityEventUnparsed('file');
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
